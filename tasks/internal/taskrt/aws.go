package taskrt

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
)

// SDK retry settings. A burst of incidents meets API throttling; the SDK
// absorbs most of it with jittered exponential backoff. The client-side retry
// quota is off: under a burst it would turn throttling into hard failures.
// What still fails becomes RetryableError and Step Functions retries the step.
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

// NewRetryer is the retryer every irflow AWS client uses.
func NewRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = SDKMaxAttempts
		o.MaxBackoff = SDKMaxBackoff
		o.RateLimiter = ratelimit.None
	})
}
