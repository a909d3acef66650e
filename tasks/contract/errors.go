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
	// ErrStopNotDelivered is thrown by stop-task when ECS accepted the stop
	// of an EC2 task but its container agent never got it (the agent cannot
	// reach ECS) before the step's timeout: the task still runs.
	ErrStopNotDelivered = "StopNotDeliveredError"
	// ErrExecSession is thrown by exec-triage when an ECS Exec session ends
	// without output irflow can trust (see ExecSessionError).
	ErrExecSession = "ExecSessionError"
	// ErrCorrelated is thrown by resolve-target when the finding's task
	// belongs to a service another case already responds to (the
	// playbook's triggers.correlate): it joins that case.
	ErrCorrelated = "CorrelatedError"
)

// Names lists every task error name, for tests that tie them to the compiler.
var Names = []string{ErrRetryable, ErrInvalidInput, ErrTargetNotFound, ErrPreconditionFailed,
	ErrApprovalRejected, ErrDuplicateIncident, ErrStepTimeout, ErrStopNotDelivered, ErrExecSession, ErrCorrelated}

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
func (*StopNotDeliveredError) ErrorName() string   { return ErrStopNotDelivered }
func (*ExecSessionError) ErrorName() string        { return ErrExecSession }
func (*CorrelatedError) ErrorName() string         { return ErrCorrelated }

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

// ApprovalRejectedError is how a rejected gate fails its task. ApprovalID
// lets the execution history tell which decision failed the gate.
type ApprovalRejectedError struct {
	Approver   string
	Reason     string
	ApprovalID string
}

func (e *ApprovalRejectedError) Error() string {
	if e.ApprovalID != "" {
		return fmt.Sprintf("approval %s rejected by %s: %s", e.ApprovalID, e.Approver, e.Reason)
	}
	return fmt.Sprintf("approval rejected by %s: %s", e.Approver, e.Reason)
}

// DuplicateIncidentError says another execution already responds to the
// task, or already owns the case id.
type DuplicateIncidentError struct {
	TaskArn      string
	ExistingCase string
	Execution    string
	// CaseTaken says the case id itself belongs to Execution: one
	// execution per case, whatever the task.
	CaseTaken bool
}

func (e *DuplicateIncidentError) Error() string {
	if e.CaseTaken {
		return fmt.Sprintf("case %s already belongs to execution %s: a case has one execution (its audit chain, evidence and report)", e.ExistingCase, e.Execution)
	}
	return fmt.Sprintf("task %s already has an open case %s (execution %s)", e.TaskArn, e.ExistingCase, e.Execution)
}

// CorrelatedError says the task's service already has an open case within
// the playbook's correlation window: the finding joins it (Key is the
// incidents table key, corr#<clusterArn>/<service>).
type CorrelatedError struct {
	TaskArn      string
	Key          string
	ExistingCase string
	Execution    string
}

func (e *CorrelatedError) Error() string {
	return fmt.Sprintf("task %s joins case %s (execution %s): its service %s already has an open case", e.TaskArn, e.ExistingCase, e.Execution, e.Key)
}

// StepTimeoutError ends an async action whose poll loop outlived the step's timeout.
type StepTimeoutError struct {
	Step  string
	After time.Duration
}

func (e *StepTimeoutError) Error() string {
	return fmt.Sprintf("step %s did not finish within %s", e.Step, e.After)
}

// StopNotDeliveredError says ECS accepted a StopTask that never reached the
// task: on EC2, ECS delivers stops through the container agent, and the
// agent of the task's instance is not connected (DescribeContainerInstances
// agentConnected false) while the task stays RUNNING.
type StopNotDeliveredError struct {
	Task, ContainerInstance string
	After                   time.Duration
	LastStatus              string
}

func (e *StopNotDeliveredError) Error() string {
	return fmt.Sprintf("stop of task %s not delivered: after %s it is still %s and the ECS agent of container instance %s is not connected to ECS",
		e.Task, e.After, e.LastStatus, e.ContainerInstance)
}

// ExecSessionError says an ECS Exec session (the Session Manager data
// channel exec-triage reads a container through) ended without output
// irflow can trust: the peer sent frames that are not the protocol, broke
// the sequence, stopped acknowledging, stalled the handshake, went silent
// or never closed. Nothing of such a session is stored. Kind names the
// session error (ecsexec's type name: ProtocolError, SequenceError...), so
// a Catch can tell them apart in the Cause. A transport failure (the
// connection dropped, the stream URL unreachable) is not one of these: it
// is a RetryableError wrapping one, so Step Functions runs a new session.
type ExecSessionError struct {
	Container string
	Kind      string
	Err       error
}

func (e *ExecSessionError) Error() string {
	return fmt.Sprintf("ECS Exec session in container %s ended without a trustworthy collection (%s): %v", e.Container, e.Kind, e.Err)
}

func (e *ExecSessionError) Unwrap() error { return e.Err }

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
		sn *StopNotDeliveredError
		es *ExecSessionError
		co *CorrelatedError
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
	case errors.As(err, &co):
		return co, true
	case errors.As(err, &st):
		return st, true
	case errors.As(err, &sn):
		return sn, true
	case errors.As(err, &r):
		return r, true
	case errors.As(err, &es):
		// After RetryableError: a retryable session failure wraps one.
		return es, true
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
