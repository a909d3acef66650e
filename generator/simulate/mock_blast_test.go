package simulate

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/tasks/contract"
)

// blastCall runs a mock of find-siblings or pin-service on the target the
// mock resolve-target gives a console input on launch type lt; edit may
// change the target first.
func blastCall(t *testing.T, lt, action string, with map[string]any, dry bool, edit func(map[string]any)) (map[string]any, error) {
	t.Helper()
	h := MockHandlers(MockOptions{LaunchType: lt})
	res, err := resolve(t, h, string(readInputs(t, "testdata/inputs/console-live.json")[0].data))
	if err != nil {
		t.Fatal(err)
	}
	outputs := res["outputs"].(map[string]any)
	target := outputs["target"].(map[string]any)
	if edit != nil {
		edit(target)
	}
	inc := outputs["incident"].(map[string]any)
	inc["dryRun"] = dry
	b, _ := json.Marshal(map[string]any{"action": action, "step": "s", "with": with, "incident": inc, "target": target, "execution": json.RawMessage(mockExec)})
	out, err := h[action](context.Background(), b)
	if err != nil {
		return nil, err
	}
	var r map[string]any
	json.Unmarshal(out, &r)
	checkResult(t, r)
	return r, nil
}

func TestMockSiblings(t *testing.T) {
	tests := []struct {
		lt                       string
		edit                     func(map[string]any)
		image, instance, unknown int
		complete                 bool
	}{
		{"FARGATE", nil, 2, 0, 0, true},
		{"EC2", nil, 2, 1, 0, true},
		{"FARGATE", func(tg map[string]any) { tg["containers"].([]any)[0].(map[string]any)["imageDigest"] = "" }, 0, 0, 2, false},
	}
	for _, tt := range tests {
		r, err := blastCall(t, tt.lt, "find-siblings", map[string]any{"maxListed": 1.0}, true, tt.edit)
		if err != nil {
			t.Fatal(err)
		}
		o := r["outputs"].(map[string]any)
		lists, counts := o["siblings"].(map[string]any), o["counts"].(map[string]any)
		if counts["sameImage"] != float64(tt.image) || counts["sameInstance"] != float64(tt.instance) || counts["unknownDigest"] != float64(tt.unknown) ||
			o["imageDigestsComplete"] != tt.complete || len(lists["sameFamily"].([]any)) != 1 || o["truncated"] != true || r["status"] != "OK" {
			t.Errorf("%s: %v", tt.lt, o)
		}
		if len(r["evidence"].([]any)) != 1 {
			t.Errorf("%s: evidence %v", tt.lt, r["evidence"])
		}
	}
}

func TestMockPin(t *testing.T) {
	r, err := blastCall(t, "FARGATE", "pin-service", map[string]any{}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := r["outputs"].(map[string]any)
	prev, def := o["previousTaskDefinition"].(string), o["taskDefinition"].(string)
	if o["mode"] != "rollback" || !strings.HasSuffix(prev, ":7") || !strings.HasSuffix(def, ":6") || len(o["replacementsFromCompromisedDigest"].([]any)) != 1 {
		t.Errorf("rollback: %v", o)
	}
	sib, _ := blastCall(t, "FARGATE", "find-siblings", map[string]any{}, false, nil)
	if o["replacementsFromCompromisedDigest"].([]any)[0] != sib["outputs"].(map[string]any)["siblings"].(map[string]any)["sameImage"].([]any)[0] &&
		o["replacementsFromCompromisedDigest"].([]any)[0] != sib["outputs"].(map[string]any)["siblings"].(map[string]any)["sameImage"].([]any)[1] {
		t.Errorf("the replacement is not one of find-siblings' siblings: %v", o["replacementsFromCompromisedDigest"])
	}

	r, _ = blastCall(t, "EC2", "pin-service", map[string]any{"mode": "scale-to-zero"}, true, nil)
	if o := r["outputs"].(map[string]any); r["status"] != "DRY_RUN" || o["desiredCount"] != 0.0 || o["mode"] != "scale-to-zero" {
		t.Errorf("scale-to-zero dry run: %v", r)
	}
	first := func(tg map[string]any) {
		tg["taskDefinitionArn"] = strings.TrimSuffix(tg["taskDefinitionArn"].(string), ":7") + ":1"
	}
	if _, err := blastCall(t, "FARGATE", "pin-service", map[string]any{}, false, first); contract.ErrorName(err) != generator.ErrPreconditionFailed {
		t.Errorf("first revision, no fallback: %v", err)
	}
	r, _ = blastCall(t, "FARGATE", "pin-service", map[string]any{"fallback": "scale-to-zero"}, false, first)
	if o := r["outputs"].(map[string]any); o["mode"] != "scale-to-zero" || o["fallbackReason"] == "" {
		t.Errorf("fallback: %v", o)
	}
	standalone := func(tg map[string]any) { tg["service"], tg["group"] = "", "family:x" }
	if _, err := blastCall(t, "EC2", "pin-service", map[string]any{}, false, standalone); contract.ErrorName(err) != generator.ErrPreconditionFailed ||
		!strings.Contains(err.Error(), "stop-task is the containment") {
		t.Errorf("standalone: %v", err)
	}
}
