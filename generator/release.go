package generator

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/irflow/irflow/generator/internal/asl"
	"github.com/irflow/irflow/tasks/catalog"
)

// ReleaseStateMachineName is the deployment's one release state machine.
const ReleaseStateMachineName = "irflow-release"

// ReleaseOptions shape the release state machine's approval gate.
type ReleaseOptions struct {
	// Approvers are the deployment's approvers (the gate's default list);
	// empty: the request-approval Lambda's IRFLOW_DEFAULT_APPROVERS.
	Approvers []string
	// MinApprovers defaults to 2: four eyes on undoing containment.
	MinApprovers int
	// Timeout of the gate; 0 is 1h. A gate that times out is rejected.
	Timeout time.Duration
}

// CompileRelease returns the ASL of irflow-release: the gate (request-
// approval, four eyes, rejected on timeout), then release-containment
// undoing the case's containment from its ledger, then a Choice on the
// release status. Every Task is audited on the case's chain by the task
// runtime, the gate's decision with its approvers. Its input is
// {"incident": ..., "target": ..., "with": {"steps": [...]}}: the case
// resolved from its claim (irflow release does it), and the steps to
// release (empty: all). The functions are DefinitionSubstitutions
// placeholders like a playbook's (catalog.FunctionPlaceholder).
func CompileRelease(o ReleaseOptions) ([]byte, error) {
	if o.MinApprovers == 0 {
		o.MinApprovers = 2
	}
	if o.MinApprovers < 2 {
		return nil, fmt.Errorf("release: minApprovers %d: undoing containment takes four eyes (at least 2)", o.MinApprovers)
	}
	if o.Timeout == 0 {
		o.Timeout = time.Hour
	}
	approvers := append([]string{}, o.Approvers...)
	sort.Strings(approvers)
	gate, rel := catalog.Lookup("request-approval"), catalog.Lookup(catalog.ReleaseAction)
	if gate == nil || rel == nil {
		return nil, fmt.Errorf("release: the catalog lacks request-approval or %s", catalog.ReleaseAction)
	}
	secs := int(o.Timeout / time.Second)
	retry := func(a *catalog.Action) []any {
		return []any{map[string]any{
			"ErrorEquals": []string{"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
				"Lambda.TooManyRequestsException", "RetryableError"},
			"IntervalSeconds": a.Retry.IntervalSeconds, "MaxAttempts": a.Retry.MaxAttempts, "BackoffRate": a.Retry.BackoffRate,
			"MaxDelaySeconds": a.Retry.MaxDelaySeconds, "JitterStrategy": "FULL",
		}}
	}
	result := map[string]any{"status.$": "$.status", "summary.$": "$.summary", "evidence.$": "$.evidence", "outputs.$": "$.outputs"}
	payloadResult := map[string]any{"status.$": "$.Payload.status", "summary.$": "$.Payload.summary", "evidence.$": "$.Payload.evidence",
		"outputs.$": "$.Payload.outputs"}
	prompt := "Release the containment of this case (undo isolation, protection, revocations and scaling recorded in its ledger)?"
	states := map[string]any{
		"Approve release": map[string]any{
			"Type": "Task", "Comment": prompt,
			"Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
			"Parameters": map[string]any{
				"FunctionName": "${" + gate.FunctionPlaceholder() + "}",
				"Payload": map[string]any{
					"action": "request-approval", "mode": "request", "step": "approve-release",
					"execution.$": "$$.Execution", "incident.$": "$.incident", "target.$": "$.target", "taskToken.$": "$$.Task.Token",
					"with": map[string]any{"allowSelfApproval": false, "approvers": approvers, "minApprovers": o.MinApprovers,
						"onTimeout": "reject", "prompt": prompt, "timeoutSeconds": secs},
				},
			},
			"ResultSelector": result, "ResultPath": "$.steps.approve-release", "TimeoutSeconds": secs,
			"Retry": retry(gate),
			"Catch": []any{
				map[string]any{"ErrorEquals": []string{"ApprovalRejectedError", "States.Timeout"}, "ResultPath": "$.errors.approve-release", "Next": "Release rejected"},
				map[string]any{"ErrorEquals": []string{"States.ALL"}, "ResultPath": "$.errors.approve-release", "Next": "Release failed"},
			},
			"Next": "Release containment",
		},
		"Release containment": map[string]any{
			"Type": "Task", "Comment": rel.Description,
			"Resource": "arn:aws:states:::lambda:invoke",
			"Parameters": map[string]any{
				"FunctionName": "${" + rel.FunctionPlaceholder() + "}",
				"Payload": map[string]any{
					"action": catalog.ReleaseAction, "step": "release",
					"execution.$": "$$.Execution", "incident.$": "$.incident", "target.$": "$.target", "with.$": "$.with",
				},
			},
			"ResultSelector": payloadResult, "ResultPath": "$.steps.release", "TimeoutSeconds": rel.Timeout.Seconds(),
			"Retry": retry(rel),
			"Catch": []any{map[string]any{"ErrorEquals": []string{"States.ALL"}, "ResultPath": "$.errors.release", "Next": "Release failed"}},
			"Next":  "Released?",
		},
		"Released?": map[string]any{
			"Type":    "Choice",
			"Choices": []any{map[string]any{"Variable": "$.steps.release.outputs.releaseStatus", "StringEquals": "RELEASED", "Next": "Released"}},
			"Default": "Partially released",
		},
		"Released": map[string]any{"Type": "Succeed"},
		"Partially released": map[string]any{"Type": "Fail", "Error": "PartiallyReleased",
			"Cause": "some changes were refused: the world moved on since containment (see the release step's outputs.entries)"},
		"Release rejected": map[string]any{"Type": "Fail", "Error": "ReleaseRejected", "Cause": "the release gate was rejected or timed out: nothing was released"},
		"Release failed":   map[string]any{"Type": "Fail", "Error": "ReleaseFailed", "Cause": "a step of the release failed (see $.errors)"},
	}
	doc := map[string]any{
		"Comment": "irflow-release: undo a case's containment after a four-eyes approval (generated from the catalog; issue 16)",
		"StartAt": "Approve release", "States": states,
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	sm, err := asl.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("release: generated ASL does not parse: %w", err)
	}
	if ps := append(asl.Verify(sm), Policy(sm)...); len(ps) > 0 {
		return nil, fmt.Errorf("release: generated ASL: %v", ps)
	}
	return b, nil
}
