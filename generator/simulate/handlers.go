package simulate

import (
	"context"
	"encoding/json"
)

// TaskHandler runs one action the way its Lambda does: it receives the Task
// state's Payload (schemas/task-payload.v1) and returns the task result
// ({status, summary, evidence, outputs}) or an error. irflow simulate calls
// the mock handlers (MockHandlers) or, with --aws-endpoint, the real ones
// from tasks/registry.
type TaskHandler func(ctx context.Context, payload json.RawMessage) (json.RawMessage, error)

// Handlers maps catalog action names to their handlers: the seam between the
// simulator and the task Lambdas' code.
type Handlers map[string]TaskHandler

// TaskError is an error that carries its Step Functions error name
// explicitly. The simulator's mocks and --fail use it; real handlers return
// the named errors of tasks/contract. contract.ErrorName reads both.
type TaskError struct {
	Name    string
	Message string
}

func (e *TaskError) Error() string { return e.Message }

// ErrorName is the Step Functions error name (contract.NamedError).
func (e *TaskError) ErrorName() string { return e.Name }

// ErrorCode is Name, the way AWS SDK errors expose their code: code that
// classifies Step Functions' refusals (InvalidToken, TaskTimedOut) by code
// reads the simulator's the same way.
func (e *TaskError) ErrorCode() string { return e.Name }

// lambdaCause is the Cause Step Functions gives a Lambda function error:
// the function's error response as JSON.
func lambdaCause(name, message string) string {
	b, _ := json.Marshal(struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}{message, name})
	return string(b)
}

// causeMessage returns the errorMessage of a Lambda error Cause, or the
// cause itself when it is not one.
func causeMessage(cause string) string {
	var c struct {
		ErrorMessage *string `json:"errorMessage"`
	}
	if json.Unmarshal([]byte(cause), &c) == nil && c.ErrorMessage != nil {
		return *c.ErrorMessage
	}
	return cause
}
