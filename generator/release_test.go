package generator

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestCompileRelease: the release state machine gates on four eyes, runs
// release-containment with the catalog's function placeholder and retry,
// and ends Released or PartiallyReleased on the release status.
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
	gate := doc.States[doc.StartAt]
	with := gate["Parameters"].(map[string]any)["Payload"].(map[string]any)["with"].(map[string]any)
	if doc.StartAt != "Approve release" || with["minApprovers"] != float64(2) || with["onTimeout"] != "reject" || gate["Next"] != "Release containment" {
		t.Errorf("gate %v", gate)
	}
	rel := doc.States["Release containment"]
	if fn := rel["Parameters"].(map[string]any)["FunctionName"]; fn != "${Fn_release_containment}" {
		t.Errorf("function %v", fn)
	}
	for _, want := range []string{`"StringEquals": "RELEASED"`, `"Error": "PartiallyReleased"`, `"Error": "ReleaseRejected"`, `role/A",`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("ASL lacks %s", want)
		}
	}
	if _, err := CompileRelease(ReleaseOptions{MinApprovers: 1}); err == nil {
		t.Error("one approver accepted for a release")
	}
}
