package contract

import "strings"

// ExecutionARN is a standard workflow's execution ARN, $$.Execution.Id:
// arn:PARTITION:states:REGION:ACCOUNT:execution:STATE_MACHINE:NAME.
// An execution name cannot hold a colon (StartExecution's name rules:
// https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html),
// so the ARN has exactly eight parts.
type ExecutionARN struct {
	Partition, Region, Account, StateMachine, Name string
}

// ParseExecutionARN reads an execution ARN; ok is false for anything else
// (an express execution's arn:...:express:..., a state machine's ARN, a
// part left empty).
func ParseExecutionARN(s string) (ExecutionARN, bool) {
	p := strings.Split(s, ":")
	if len(p) != 8 || p[0] != "arn" || p[2] != "states" || p[5] != "execution" {
		return ExecutionARN{}, false
	}
	for _, part := range p[1:] {
		if part == "" {
			return ExecutionARN{}, false
		}
	}
	return ExecutionARN{Partition: p[1], Region: p[3], Account: p[4], StateMachine: p[6], Name: p[7]}, true
}

// StateMachineARN is the ARN of the state machine the execution ran:
// arn:PARTITION:states:REGION:ACCOUNT:stateMachine:STATE_MACHINE.
func (e ExecutionARN) StateMachineARN() string {
	return strings.Join([]string{"arn", e.Partition, "states", e.Region, e.Account, "stateMachine", e.StateMachine}, ":")
}

// StateMachineARNOf is the state machine ARN of an execution ARN, "" when
// executionID is not one.
func StateMachineARNOf(executionID string) string {
	if e, ok := ParseExecutionARN(executionID); ok {
		return e.StateMachineARN()
	}
	return ""
}
