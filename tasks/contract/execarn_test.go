package contract

import "testing"

func TestParseExecutionARN(t *testing.T) {
	good := "arn:aws:states:eu-west-1:111122223333:execution:irflow-crypto-mining:case-1"
	e, ok := ParseExecutionARN(good)
	if want := (ExecutionARN{"aws", "eu-west-1", "111122223333", "irflow-crypto-mining", "case-1"}); !ok || e != want {
		t.Fatalf("ParseExecutionARN(%q) = %+v, %v; want %+v", good, e, ok, want)
	}
	if got, want := e.StateMachineARN(), "arn:aws:states:eu-west-1:111122223333:stateMachine:irflow-crypto-mining"; got != want {
		t.Errorf("StateMachineARN = %q; want %q", got, want)
	}
	// The cases approval.StateMachineARN was tested on before it moved here.
	for exec, want := range map[string]string{
		"arn:aws:states:us-east-1:123456789012:execution:irflow-x:case-1":         "arn:aws:states:us-east-1:123456789012:stateMachine:irflow-x",
		"arn:aws-us-gov:states:us-gov-west-1:123456789012:execution:irflow-y:run": "arn:aws-us-gov:states:us-gov-west-1:123456789012:stateMachine:irflow-y",
		"not-an-arn": "",
		"arn:aws:states:us-east-1:123456789012:stateMachine:irflow-x": "",
	} {
		if got := StateMachineARNOf(exec); got != want {
			t.Errorf("StateMachineARNOf(%q) = %q; want %q", exec, got, want)
		}
	}
	for _, bad := range []string{
		"",
		"case-1",
		"arn:aws:states:eu-west-1:111122223333:stateMachine:irflow-crypto-mining",
		"arn:aws:states:eu-west-1:111122223333:express:irflow-crypto-mining:case-1:run",
		"arn:aws:states:eu-west-1:111122223333:execution:irflow-crypto-mining:case-1:extra",
		"arn:aws:states:eu-west-1:111122223333:execution::case-1",
		"arn:aws:states:eu-west-1:111122223333:execution:m:",
		"arn:aws:lambda:eu-west-1:111122223333:execution:m:n",
		"urn:aws:states:eu-west-1:111122223333:execution:m:n",
	} {
		if e, ok := ParseExecutionARN(bad); ok {
			t.Errorf("ParseExecutionARN(%q) = %+v; want not an execution ARN", bad, e)
		}
		if sm := StateMachineARNOf(bad); sm != "" {
			t.Errorf("StateMachineARNOf(%q) = %q; want \"\"", bad, sm)
		}
	}
}
