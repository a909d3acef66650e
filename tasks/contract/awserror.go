package contract

import (
	"errors"
	"fmt"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// ExtraThrottleCodes are throttling error codes of services irflow calls
// that the SDK's default retryer does not know: SNS's modeled
// ThrottledException has the code "Throttled" (HTTP 400, so not retried by
// status either), and an SNS topic or other service encrypted with KMS
// reports KMS throttling as KMSThrottling / KMSThrottlingException. Without
// them a throttled Publish (notify, request-approval) failed its step on the
// first attempt.
var ExtraThrottleCodes = map[string]struct{}{
	"Throttled":              {},
	"KMSThrottling":          {},
	"KMSThrottlingException": {},
}

// throttleCodes are the API error codes of throttling across AWS protocols;
// ExtraThrottleCodes (aws.go, those the SDK retryer must learn too) join
// them in init.
var throttleCodes = map[string]bool{
	"Throttling": true, "ThrottlingException": true, "ThrottledException": true, "RequestThrottled": true,
	"RequestThrottledException": true, "TooManyRequestsException": true, "RequestLimitExceeded": true,
	"ProvisionedThroughputExceededException": true,
	"SlowDown":                               true, "BandwidthLimitExceeded": true, "PriorRequestNotComplete": true,
	"ServiceUnavailable": true, "ServiceUnavailableException": true, "InternalError": true, "InternalFailure": true,
	"InternalServerError": true, "InternalServiceError": true, "RequestTimeout": true, "RequestTimeoutException": true,
	"EC2ThrottledException": true, "ServerException": true,
}

func init() {
	for code := range ExtraThrottleCodes {
		throttleCodes[code] = true
	}
}

// AWSError turns an AWS SDK error into a named error: throttling and 5xx
// become RetryableError, "not found" codes TargetNotFoundError, access denied
// PreconditionFailedError. Other errors are returned wrapped with op.
func AWSError(op string, err error) error {
	if err == nil {
		return nil
	}
	if n := Named(err); n != err {
		return n
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		code := api.ErrorCode()
		switch {
		case throttleCodes[code]:
			return &RetryableError{Op: op, Err: err}
		case code == "NotFound":
			// A bare NotFound (an SNS topic, an S3 key) is irflow's own
			// configuration missing, not the target.
			return &PreconditionFailedError{Reason: fmt.Sprintf("%s: not found: %s", op, api.ErrorMessage())}
		case strings.HasSuffix(code, "NotFound") || strings.HasSuffix(code, "NotFoundException") ||
			strings.HasSuffix(code, ".NotFound") || code == "NoSuchEntity" || code == "ResourceNotFoundException":
			return &TargetNotFoundError{Resource: op, Reason: api.ErrorMessage()}
		case code == "AccessDenied" || code == "AccessDeniedException" || code == "UnauthorizedOperation" || code == "UnauthorizedException":
			return &PreconditionFailedError{Reason: fmt.Sprintf("%s: access denied: %s", op, api.ErrorMessage())}
		}
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() >= 500 {
		return &RetryableError{Op: op, Err: err}
	}
	if strings.Contains(err.Error(), "retry quota exceeded") || strings.Contains(err.Error(), "connection reset") ||
		strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "EOF") {
		return &RetryableError{Op: op, Err: err}
	}
	return fmt.Errorf("%s: %w", op, err)
}
