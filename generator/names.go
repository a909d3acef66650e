package generator

import "github.com/irflow/irflow/tasks/contract"

// Names of the states every generated machine has around the playbook's
// steps. Tests, the simulator and the docs refer to them.
const (
	StateResolveTarget        = "Resolve target"
	StateLaunchType           = "Launch type?"
	StateExcludedCheck        = "Excluded?"
	StateNotifyExcluded       = "Notify excluded"
	StateExcluded             = "Excluded"
	StateDuplicate            = "Duplicate incident"
	StateCorrelated           = "Correlated"
	StateFailInvalidInput     = "Fail: invalid input"
	StateNotifyResolveFailure = "Notify resolve failure"
	StateFailResolve          = "Fail: resolve target"
	StateNotifyUnsupported    = "Notify unsupported launch type"
	StateUnsupported          = "Unsupported"
	StateCompleted            = "Completed"
	StateRejected             = "Rejected"
	StateNotifyFailure        = "Notify failure"
	StateFailed               = "Failed"
	StateFinalize             = "Finalize case"
	StateOutcome              = "Outcome?"
	StateFailStep             = "Fail: step failed"
	StateFailUnsupported      = "Fail: unsupported launch type"
	StateDone                 = "Done"
)

// Error names the generated machine matches: the task errors of the Lambda
// contract (tasks/contract, declared there once) and the names of the
// generated Fail states.
const (
	ErrRetryable          = contract.ErrRetryable
	ErrInvalidInput       = contract.ErrInvalidInput
	ErrTargetNotFound     = contract.ErrTargetNotFound
	ErrPreconditionFailed = contract.ErrPreconditionFailed
	ErrApprovalRejected   = contract.ErrApprovalRejected
	ErrDuplicateIncident  = contract.ErrDuplicateIncident
	ErrCorrelated         = contract.ErrCorrelated
	ErrStepTimeout        = contract.ErrStepTimeout
	ErrStopNotDelivered   = contract.ErrStopNotDelivered
	ErrExecSession        = contract.ErrExecSession

	// Fail-state errors of the generated machine.
	ErrStepFailed            = "StepFailed"
	ErrUnsupportedLaunchType = "UnsupportedLaunchType"
	ErrResolveTargetFailed   = "ResolveTargetFailed"
)

// transientErrors are retried on every Task: Lambda service faults and a
// task's own RetryableError (throttling its SDK retryer could not absorb).
var transientErrors = []string{
	"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
	"Lambda.TooManyRequestsException", ErrRetryable,
}

// Outcomes of an execution, as finalize-case records them and simulate prints them.
const (
	OutcomeCompleted    = "COMPLETED"
	OutcomeRejected     = "REJECTED"
	OutcomeFailed       = "FAILED"
	OutcomeUnsupported  = "UNSUPPORTED"
	OutcomeInvalidInput = "INVALID_INPUT"
	OutcomeDuplicate    = "DUPLICATE"
	// OutcomeExcluded: the task carries a tag of the playbook's exclude:
	// nothing was done to it; the execution SUCCEEDED.
	OutcomeExcluded = "EXCLUDED"
	// OutcomeCorrelated: the finding's task belongs to a service another
	// case already responds to (triggers.correlate); it joined that case.
	// The execution SUCCEEDED.
	OutcomeCorrelated = "CORRELATED"
)

// Outcome derives the outcome of a finished execution: from $.outcome of a
// SUCCEEDED execution's output, or from the error of a FAILED one.
func Outcome(succeeded bool, output map[string]any, errorName string) string {
	if succeeded {
		if o, ok := output["outcome"].(string); ok {
			return o
		}
		return OutcomeCompleted
	}
	switch errorName {
	case ErrInvalidInput:
		return OutcomeInvalidInput
	case ErrUnsupportedLaunchType:
		return OutcomeUnsupported
	}
	return OutcomeFailed
}
