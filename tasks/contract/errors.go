package contract

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Error names: the strings the generated state machine's Retry and Catch
// match in ErrorEquals (docs/design.md, "Errors"). Each error type below
// returns its name from ErrorName explicitly, and taskrt.Start hands it to
// Lambda as the errorType (aws-lambda-go's messages.InvokeResponse_Error),
// so renaming a Go type can never change what Step Functions matches.
const (
	ErrRetryable          = "RetryableError"
	ErrInvalidInput       = "InvalidInputError"
	ErrTargetNotFound     = "TargetNotFoundError"
	ErrPreconditionFailed = "PreconditionFailedError"
	ErrApprovalRejected   = "ApprovalRejectedError"
	ErrDuplicateIncident  = "DuplicateIncidentError"
	// ErrStepTimeout is thrown by an async action's check when its poll loop
	// outlives the step's timeout.
	ErrStepTimeout = "StepTimeoutError"
)

// Names lists every task error name, for tests that tie them to the compiler.
var Names = []string{ErrRetryable, ErrInvalidInput, ErrTargetNotFound, ErrPreconditionFailed,
	ErrApprovalRejected, ErrDuplicateIncident, ErrStepTimeout}

// NamedError is an error that carries its Step Functions error name.
type NamedError interface {
	error
	ErrorName() string
}

// ErrorName methods: each type's name in the contract.
func (*RetryableError) ErrorName() string          { return ErrRetryable }
func (*InvalidInputError) ErrorName() string       { return ErrInvalidInput }
func (*TargetNotFoundError) ErrorName() string     { return ErrTargetNotFound }
func (*PreconditionFailedError) ErrorName() string { return ErrPreconditionFailed }
func (*ApprovalRejectedError) ErrorName() string   { return ErrApprovalRejected }
func (*DuplicateIncidentError) ErrorName() string  { return ErrDuplicateIncident }
func (*StepTimeoutError) ErrorName() string        { return ErrStepTimeout }

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

// ErrorName is the name Step Functions sees for err: a NamedError's own
// name; for any other error what aws-lambda-go reports as errorType, the
// type name without package or pointer (an fmt.Errorf is "wrapError").
func ErrorName(err error) string {
	if err == nil {
		return ""
	}
	if n, ok := err.(NamedError); ok {
		return n.ErrorName()
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
// always one of the contract's names (docs/design.md, "The Lambda
// contract"), never a Go type such as wrapError. A refusal nobody
// classified is not retried, as before: only RetryableError is.
func Classified(err error) error {
	if err == nil {
		return nil
	}
	if n, ok := named(err); ok {
		return n
	}
	return &PreconditionFailedError{Reason: err.Error()}
}
