package taskrt

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/irflow/irflow/tasks/contract"
)

// SDK retry settings. A burst of incidents meets API throttling; the SDK
// absorbs most of it with jittered exponential backoff. The client-side retry
// quota is off: under a burst it would turn throttling into hard failures.
// What still fails becomes contract.RetryableError and Step Functions retries the step.
//
// The worst case of one call, every attempt throttled, is SDKMaxAttempts-1
// backoffs of at most 1s, 2s, 4s, 8s, then SDKMaxBackoff: about 45 s with
// full jitter's mean half that. The stress test (make stress: 20% throttles,
// 5% HTTP 500, lost replies) shows what is left to Step Functions' Retry.
const (
	SDKMaxAttempts = 8
	SDKMaxBackoff  = 10 * time.Second
)

// LoadAWSConfig loads the default config chain once per process (a Lambda's
// init), honouring AWS_ENDPOINT_URL so tests can point at moto server.
func LoadAWSConfig(ctx context.Context, opts ...func(*config.LoadOptions) error) (aws.Config, error) {
	opts = append([]func(*config.LoadOptions) error{config.WithRetryer(NewRetryer)}, opts...)
	return config.LoadDefaultConfig(ctx, opts...)
}

// NewRetryer is the retryer every irflow AWS client uses: the SDK's standard
// retryer with more attempts, a lower backoff cap, no client-side retry
// quota, and contract.ExtraThrottleCodes retried (and backed off) as throttles.
func NewRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = SDKMaxAttempts
		o.MaxBackoff = SDKMaxBackoff
		o.RateLimiter = ratelimit.None
		o.Retryables = append(o.Retryables, retry.RetryableErrorCode{Codes: contract.ExtraThrottleCodes})
		o.Throttles = append(o.Throttles, retry.ThrottleErrorCode{Codes: contract.ExtraThrottleCodes})
	})
}
