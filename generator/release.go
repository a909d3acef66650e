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

// Step ids of irflow-release's Task states: their results go to
// $.steps.<id>, their audit records and evidence folders carry them.
const (
	ReleaseStepLoad     = "load-case"
	ReleaseStepGate     = "approve-release"
	ReleaseStepRelease  = "release"
	ReleaseStepFinalize = "finalize-release"
)

// Outcomes of a release ($.outcome, the release's case report).
const (
	OutcomeReleased          = "RELEASED"
	OutcomePartiallyReleased = "PARTIALLY_RELEASED"
)

// CompileRelease returns the ASL of irflow-release, the deployment's one
// release state machine. Its input is incident.ReleaseInput ({caseId,
// steps, dryRun, reason, requestedBy}, sealed by the start API as a
// playbook's input is). States:
//
//   - Load case: release-containment in mode resolve reads the input, the
//     case's claim (its task) and verifies the start API's seal: the
//     requester is verified, or only claimed (then the gate needs two
//     approvers more, issue 12); $ becomes {incident, target, with,
//     steps, errors}. An unknown case or a bad seal ends the execution
//     (Release refused) before anything is asked or changed.
//   - Approve release: request-approval, the deployment's approvers, four
//     eyes, rejected on timeout; the requester may not approve.
//   - Release containment: release-containment undoing the case's ledger,
//     newest first; $.outcome is its release status.
//   - Release report: finalize-case on the release's steps, outcome
//     RELEASED, PARTIALLY_RELEASED, REJECTED or FAILED: the case report of
//     the release (every entry, what could not be undone and why).
//   - Released?: Succeed on RELEASED, else Fail naming why.
//
// Every Task is audited on the case's chain by the task runtime, the
// gate's decision with its approvers. The functions are
// DefinitionSubstitutions placeholders like a playbook's
// (catalog.FunctionPlaceholder).
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
	gate, rel, fin := catalog.Lookup("request-approval"), catalog.Lookup(catalog.ReleaseAction), catalog.Lookup("finalize-case")
	if gate == nil || rel == nil || fin == nil {
		return nil, fmt.Errorf("release: the catalog lacks request-approval, finalize-case or %s", catalog.ReleaseAction)
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
	fn := func(a *catalog.Action) string { return "${" + a.FunctionPlaceholder() + "}" }
	result := map[string]any{"status.$": "$.status", "summary.$": "$.summary", "evidence.$": "$.evidence", "outputs.$": "$.outputs"}
	payloadResult := map[string]any{"status.$": "$.Payload.status", "summary.$": "$.Payload.summary", "evidence.$": "$.Payload.evidence",
		"outputs.$": "$.Payload.outputs"}
	setOutcome := func(outcome string) map[string]any {
		return map[string]any{"Type": "Pass", "Result": outcome, "ResultPath": "$.outcome", "Next": "Release report"}
	}
	prompt := "Release the containment of this case (undo isolation, protection, revocations and scaling recorded in its ledger)?"
	states := map[string]any{
		"Load case": map[string]any{
			"Type": "Task", "Comment": "the case from its claim, the requester from the start API's seal (release-containment, mode resolve)",
			"Resource": "arn:aws:states:::lambda:invoke",
			"Parameters": map[string]any{
				"FunctionName": fn(rel),
				"Payload": map[string]any{
					"action": catalog.ReleaseAction, "step": ReleaseStepLoad, "mode": "resolve", "with": map[string]any{},
					"input.$": "$$.Execution.Input", "execution.$": "$$.Execution",
				},
			},
			"ResultSelector": map[string]any{"incident.$": "$.Payload.outputs.incident", "target.$": "$.Payload.outputs.target",
				"with.$": "$.Payload.outputs.with", "steps": map[string]any{}, "errors": map[string]any{}},
			"ResultPath": "$", "TimeoutSeconds": rel.Timeout.Seconds(), "Retry": retry(rel),
			"Catch": []any{map[string]any{"ErrorEquals": []string{"States.ALL"}, "ResultPath": "$.error", "Next": "Release refused"}},
			"Next":  "Approve release",
		},
		"Release refused": map[string]any{"Type": "Fail", "Error": "ReleaseRefused",
			"Cause": "the release input was refused (unknown case, malformed input or a start seal that does not verify): nothing was asked or changed"},
		"Approve release": map[string]any{
			"Type": "Task", "Comment": prompt,
			"Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
			"Parameters": map[string]any{
				"FunctionName": fn(gate),
				"Payload": map[string]any{
					"action": "request-approval", "mode": "request", "step": ReleaseStepGate,
					"execution.$": "$$.Execution", "incident.$": "$.incident", "target.$": "$.target", "taskToken.$": "$$.Task.Token",
					"with": map[string]any{"allowSelfApproval": false, "approvers": approvers, "minApprovers": o.MinApprovers,
						"onTimeout": "reject", "prompt": prompt, "timeoutSeconds": secs},
				},
			},
			"ResultSelector": result, "ResultPath": "$.steps." + ReleaseStepGate, "TimeoutSeconds": secs,
			"Retry": retry(gate),
			"Catch": []any{
				map[string]any{"ErrorEquals": []string{"ApprovalRejectedError", "States.Timeout"}, "ResultPath": "$.errors." + ReleaseStepGate, "Next": "Release rejected"},
				map[string]any{"ErrorEquals": []string{"States.ALL"}, "ResultPath": "$.errors." + ReleaseStepGate, "Next": "Release failed"},
			},
			"Next": "Release containment",
		},
		"Release containment": map[string]any{
			"Type": "Task", "Comment": rel.Description,
			"Resource": "arn:aws:states:::lambda:invoke",
			"Parameters": map[string]any{
				"FunctionName": fn(rel),
				"Payload": map[string]any{
					"action": catalog.ReleaseAction, "step": ReleaseStepRelease,
					"execution.$": "$$.Execution", "incident.$": "$.incident", "target.$": "$.target", "with.$": "$.with",
				},
			},
			"ResultSelector": payloadResult, "ResultPath": "$.steps." + ReleaseStepRelease, "TimeoutSeconds": rel.Timeout.Seconds(),
			"Retry": retry(rel),
			"Catch": []any{map[string]any{"ErrorEquals": []string{"States.ALL"}, "ResultPath": "$.errors." + ReleaseStepRelease, "Next": "Release failed"}},
			"Next":  "Release status",
		},
		"Release status": map[string]any{"Type": "Pass", "Comment": "RELEASED or PARTIALLY_RELEASED, as release-containment found it",
			"InputPath": "$.steps." + ReleaseStepRelease + ".outputs.releaseStatus", "ResultPath": "$.outcome", "Next": "Release report"},
		"Release rejected": setOutcome("REJECTED"),
		"Release failed":   setOutcome(OutcomeFailed),
		"Release report": map[string]any{
			"Type": "Task", "Comment": "the case report of the release (finalize-case): its outcome, every entry undone or refused and why",
			"Resource": "arn:aws:states:::lambda:invoke",
			"Parameters": map[string]any{
				"FunctionName": fn(fin),
				"Payload": map[string]any{
					"action": "finalize-case", "step": ReleaseStepFinalize, "with": map[string]any{},
					"execution.$": "$$.Execution", "incident.$": "$.incident", "target.$": "$.target",
					"steps.$": "$.steps", "errors.$": "$.errors", "outcome.$": "$.outcome",
				},
			},
			"ResultSelector": payloadResult, "ResultPath": "$.steps." + ReleaseStepFinalize, "TimeoutSeconds": fin.Timeout.Seconds(),
			"Retry": retry(fin),
			"Next":  "Released?",
		},
		"Released?": map[string]any{
			"Type": "Choice",
			"Choices": []any{
				map[string]any{"Variable": "$.outcome", "StringEquals": OutcomeReleased, "Next": "Released"},
				map[string]any{"Variable": "$.outcome", "StringEquals": OutcomePartiallyReleased, "Next": "Partially released"},
				map[string]any{"Variable": "$.outcome", "StringEquals": "REJECTED", "Next": "Not approved"},
			},
			"Default": "Release did not complete",
		},
		"Released": map[string]any{"Type": "Succeed"},
		"Partially released": map[string]any{"Type": "Fail", "Error": "PartiallyReleased",
			"Cause": "some changes were refused: the world moved on since containment (see the release step's outputs.entries and the case report)"},
		"Not approved":             map[string]any{"Type": "Fail", "Error": "ReleaseRejected", "Cause": "the release gate was rejected or timed out: nothing was released"},
		"Release did not complete": map[string]any{"Type": "Fail", "Error": "ReleaseFailed", "Cause": "a step of the release failed (see $.errors and the case report)"},
	}
	doc := map[string]any{
		"Comment": "irflow-release: undo a case's containment after a four-eyes approval (generated from the catalog; issue 16)",
		"StartAt": "Load case", "States": states,
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
