package simulate

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/irflow/irflow/generator/internal/asl"
	"github.com/irflow/irflow/generator/internal/sim"
	"github.com/irflow/irflow/tasks/catalog"
	"github.com/irflow/irflow/tasks/contract"
)

// invoker does the work of the generated Task states: it maps the Lambda
// FunctionName placeholder back to its action, calls that action's handler
// with the Payload, wraps the result the way the lambda:invoke integration
// does, and asks the Approver about waitForTaskToken gates.
type invoker struct {
	model    *simModel
	handlers Handlers
	approver Approver
	fail     map[string]string // step id → error name
	// required is each gate state's required approvals, from its
	// request-approval result.
	required map[string]int
}

func (iv *invoker) Invoke(ctx context.Context, call *sim.Call) (sim.Reply, error) {
	info := iv.model.tasks[call.State]
	if call.Resource != asl.ResourceLambdaInvoke && call.Resource != asl.ResourceLambdaInvokeWait {
		return sim.Reply{}, fmt.Errorf("resource %q is not supported: irflow's Task states invoke Lambda functions", call.Resource)
	}
	params, ok := call.Input.(map[string]any)
	if !ok {
		return sim.Reply{}, fmt.Errorf("the Parameters of a lambda:invoke task must be an object")
	}
	action, err := functionAction(params["FunctionName"])
	if err != nil {
		return sim.Reply{}, err
	}
	if info.action != "" && info.action != action {
		return sim.Reply{}, fmt.Errorf("FunctionName invokes %s but the Payload says action %s", action, info.action)
	}
	if name, ok := iv.fail[info.step]; ok && info.step != "" {
		return sim.Reply{Err: &sim.Error{Name: name,
			Cause: lambdaCause(name, fmt.Sprintf("simulated failure of step %s (--fail)", info.step))}}, nil
	}
	h := iv.handlers[action]
	if h == nil {
		return sim.Reply{}, fmt.Errorf("no handler for action %q", action)
	}
	payload, err := json.Marshal(params["Payload"])
	if err != nil {
		return sim.Reply{}, err
	}
	out, err := callHandler(withNow(ctx, call.Now), h, payload)
	if err != nil {
		if ctx.Err() != nil {
			return sim.Reply{}, ctx.Err()
		}
		name := contract.ErrorName(err)
		return sim.Reply{Err: &sim.Error{Name: name, Cause: lambdaCause(name, err.Error())}}, nil
	}
	if call.Resource == asl.ResourceLambdaInvokeWait {
		var req struct {
			Outputs struct {
				RequiredApprovals int `json:"requiredApprovals"`
			} `json:"outputs"`
		}
		if json.Unmarshal(out, &req) == nil && req.Outputs.RequiredApprovals > 0 {
			iv.required[call.State] = req.Outputs.RequiredApprovals
		}
		return iv.decide(ctx, call, info, payload)
	}
	result, err := sim.Decode(out)
	if err != nil {
		return sim.Reply{}, fmt.Errorf("the %s handler returned invalid JSON: %v", action, err)
	}
	// The lambda:invoke integration's result is the Invoke API response.
	return sim.Reply{Output: map[string]any{"ExecutedVersion": "$LATEST", "Payload": result, "StatusCode": json.Number("200")}}, nil
}

// decide asks the Approver about a gate whose request-approval call returned.
func (iv *invoker) decide(ctx context.Context, call *sim.Call, info taskInfo, payload []byte) (sim.Reply, error) {
	d, err := iv.approver.Decide(ctx, Gate{State: call.State, Step: info.step, Token: call.Token,
		TimeoutSeconds: call.TimeoutSeconds, Payload: payload, MinApprovers: gateQuorum(payload), At: call.Now})
	switch {
	case err != nil:
		return sim.Reply{}, fmt.Errorf("approver: %w", err)
	case d.NoAnswer:
		return sim.Reply{Elapsed: sim.Forever}, nil
	case d.Error != "":
		return sim.Reply{Err: &sim.Error{Name: d.Error, Cause: d.Cause}, Elapsed: d.After}, nil
	}
	out, err := sim.Decode(d.Output)
	if err != nil {
		return sim.Reply{}, fmt.Errorf("approver: the task output is not JSON: %v", err)
	}
	return sim.Reply{Output: out, Elapsed: d.After}, nil
}

// functionAction maps a FunctionName (${Fn_<action>} as generated, or an
// action name) to its catalog action.
func functionAction(v any) (string, error) {
	fn, _ := v.(string)
	key := strings.TrimSuffix(strings.TrimPrefix(fn, "${"), "}")
	for _, a := range catalog.All() {
		if key == a.FunctionPlaceholder() || fn == a.Name {
			return a.Name, nil
		}
	}
	return "", fmt.Errorf("FunctionName %q names no catalog action", fn)
}

// callHandler calls a handler, turning a panic into an error the way the
// Lambda runtime reports one.
func callHandler(ctx context.Context, h TaskHandler, payload []byte) (out json.RawMessage, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &TaskError{Name: "Runtime.HandlerPanic", Message: fmt.Sprintf("handler panicked: %v", r)}
		}
	}()
	return h(ctx, payload)
}
