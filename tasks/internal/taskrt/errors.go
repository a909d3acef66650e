package taskrt

import (
	"errors"
	"fmt"
	"strings"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// The named errors of DESIGN. aws-lambda-go reports a Go error's type name as
// errorType and Step Functions matches ErrorEquals against it, so these names
// are a contract with the generator (generator/names.go; a test ties them).

// RetryableError is a transient failure (throttling, a 5xx) that outlived the
// SDK's own retries; Step Functions retries the step with backoff.
type RetryableError struct {
	Op  string
	Err error
}

func (e *RetryableError) Error() string { return fmt.Sprintf("%s: %v (retryable)", e.Op, e.Err) }
func (e *RetryableError) Unwrap() error { return e.Err }

// InvalidInputError names the field of the input or payload that is wrong.
type InvalidInputError struct {
	Field  string
	Reason string
}

func (e *InvalidInputError) Error() string {
	return fmt.Sprintf("invalid input: %s: %s", e.Field, e.Reason)
}

// TargetNotFoundError says the task, instance or other resource is gone.
type TargetNotFoundError struct {
	Resource string
	Reason   string
}

func (e *TargetNotFoundError) Error() string {
	return fmt.Sprintf("target not found: %s: %s", e.Resource, e.Reason)
}

// PreconditionFailedError says the action cannot run on this target as it is
// (no SSM agent, no service to scale, access denied, no pinned tool hash).
type PreconditionFailedError struct {
	Reason string
}

func (e *PreconditionFailedError) Error() string { return "precondition failed: " + e.Reason }

// ApprovalRejectedError is how a rejected gate fails its task.
type ApprovalRejectedError struct {
	Approver string
	Reason   string
}

func (e *ApprovalRejectedError) Error() string {
	return fmt.Sprintf("approval rejected by %s: %s", e.Approver, e.Reason)
}

// DuplicateIncidentError says another execution already responds to the task.
type DuplicateIncidentError struct {
	TaskArn      string
	ExistingCase string
	Execution    string
}

func (e *DuplicateIncidentError) Error() string {
	return fmt.Sprintf("task %s already has an open case %s (execution %s)", e.TaskArn, e.ExistingCase, e.Execution)
}

// StepTimeoutError ends an async action whose poll loop outlived the step's timeout.
type StepTimeoutError struct {
	Step  string
	After time.Duration
}

func (e *StepTimeoutError) Error() string {
	return fmt.Sprintf("step %s did not finish within %s", e.Step, e.After)
}

// ErrorName is the name Step Functions sees for err, computed the way
// aws-lambda-go computes errorType: the type name, pointer or not.
func ErrorName(err error) string {
	if err == nil {
		return ""
	}
	t := fmt.Sprintf("%T", err)
	t = strings.TrimPrefix(t, "*")
	if i := strings.LastIndexByte(t, '.'); i >= 0 {
		t = t[i+1:]
	}
	return t
}

// Named returns the first named irflow error in err's chain, or err itself.
// Handlers may wrap named errors; Lambda must report the named one.
func Named(err error) error {
	n, _ := named(err)
	return n
}

// named is Named, and whether it found a named irflow error.
func named(err error) (error, bool) {
	var (
		r  *RetryableError
		ii *InvalidInputError
		nf *TargetNotFoundError
		pf *PreconditionFailedError
		ar *ApprovalRejectedError
		di *DuplicateIncidentError
		st *StepTimeoutError
	)
	switch {
	case errors.As(err, &ii):
		return ii, true
	case errors.As(err, &nf):
		return nf, true
	case errors.As(err, &pf):
		return pf, true
	case errors.As(err, &ar):
		return ar, true
	case errors.As(err, &di):
		return di, true
	case errors.As(err, &st):
		return st, true
	case errors.As(err, &r):
		return r, true
	}
	return err, false
}

// Classified returns err's named irflow error, or, when err's chain has
// none (an AWS API refusal AWSError did not classify, a plain Go error), a
// PreconditionFailedError carrying its message: what Step Functions sees is
// always one of DESIGN's names, never a Go type such as wrapError. A
// refusal nobody classified is not retried, as before: only RetryableError is.
func Classified(err error) error {
	if err == nil {
		return nil
	}
	if n, ok := named(err); ok {
		return n
	}
	return &PreconditionFailedError{Reason: err.Error()}
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
