package generator

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestCompileRelease: the release state machine loads the case
// (release-containment in mode resolve, from the execution input), gates
// on four eyes, runs release-containment with the catalog's function
// placeholder and retry, writes the release's case report with
// finalize-case on every path after the load, and ends Released,
// PartiallyReleased, ReleaseRejected or ReleaseFailed on $.outcome.
func TestCompileRelease(t *testing.T) {
	b, err := CompileRelease(ReleaseOptions{Approvers: []string{"arn:aws:iam::123456789012:role/B", "arn:aws:iam::123456789012:role/A"}})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		StartAt string
		States  map[string]map[string]any
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	payload := func(state string) map[string]any {
		return doc.States[state]["Parameters"].(map[string]any)["Payload"].(map[string]any)
	}
	load := payload("Load case")
	if doc.StartAt != "Load case" || load["mode"] != "resolve" || load["input.$"] != "$$.Execution.Input" || doc.States["Load case"]["Next"] != "Approve release" {
		t.Errorf("load %v", doc.States["Load case"])
	}
	gate := doc.States["Approve release"]
	with := payload("Approve release")["with"].(map[string]any)
	if with["minApprovers"] != float64(2) || with["onTimeout"] != "reject" || with["allowSelfApproval"] != false || gate["Next"] != "Release containment" {
		t.Errorf("gate %v", gate)
	}
	rel := doc.States["Release containment"]
	if fn := rel["Parameters"].(map[string]any)["FunctionName"]; fn != "${Fn_release_containment}" {
		t.Errorf("function %v", fn)
	}
	rep := payload("Release report")
	if rep["action"] != "finalize-case" || rep["step"] != ReleaseStepFinalize || rep["outcome.$"] != "$.outcome" || rep["steps.$"] != "$.steps" {
		t.Errorf("report %v", rep)
	}
	// Every way out after the load goes through the report.
	for _, st := range []string{"Release status", "Release rejected", "Release failed"} {
		if doc.States[st]["Next"] != "Release report" {
			t.Errorf("%s goes to %v, not the report", st, doc.States[st]["Next"])
		}
	}
	for _, want := range []string{`"StringEquals": "RELEASED"`, `"StringEquals": "PARTIALLY_RELEASED"`, `"Error": "PartiallyReleased"`,
		`"Error": "ReleaseRejected"`, `"Error": "ReleaseRefused"`, `role/A",`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("ASL lacks %s", want)
		}
	}
	if _, err := CompileRelease(ReleaseOptions{MinApprovers: 1}); err == nil {
		t.Error("one approver accepted for a release")
	}
}
