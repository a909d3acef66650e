package handler

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
)

// siblingPayload is what a forEach's resolve state sends for one task of
// the list.
func siblingPayload(t *testing.T, w *mototest.World, inc incident.Incident, taskArn string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"action": "resolve-target", "step": "contain", "mode": ModeSibling, "with": map[string]any{},
		"incident": inc, "input": map[string]any{"taskArn": taskArn},
		"execution": map[string]any{"Id": "arn:aws:states:us-east-1:" + w.Account + ":execution:irflow-test:" + inc.CaseID,
			"StartTime": time.Now().UTC().Format(time.RFC3339Nano)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSiblingAgainstMoto: mode sibling describes a task of the list (here
// the Fargate task, for a case on the EC2 task) as the full target, twice
// alike, hands the case's incident back unchanged, and takes no lock; a
// task of another account is refused.
func TestSiblingAgainstMoto(t *testing.T) {
	w := mototest.Seed(t)
	rt := runtimeFor(w)
	caseID := mototest.Unique("case-sibling")
	own, err := invoke(t, rt, resolvePayload(t, w, w.Target("EC2").TaskArn, caseID, false))
	if err != nil {
		t.Fatal(err)
	}
	want := w.Target("FARGATE")
	for run := 1; run <= 2; run++ {
		got, err := invoke(t, rt, siblingPayload(t, w, own.Outputs.Incident, want.TaskArn))
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		checkTarget(t, &got.Outputs.Target, want)
		if got.Status != contract.StatusOK || !strings.Contains(got.Summary, "task of the list: FARGATE") {
			t.Errorf("run %d = %s %q", run, got.Status, got.Summary)
		}
		if inc := got.Outputs.Incident; inc.CaseID != caseID || inc.TaskArn != w.Target("EC2").TaskArn {
			t.Errorf("run %d: incident = %+v; want the case's, unchanged", run, inc)
		}
	}
	if it := lockItem(t, w, want.TaskArn); it != nil {
		t.Errorf("mode sibling took a lock on the listed task: %v", it)
	}

	other := strings.Replace(want.TaskArn, ":"+w.Account+":", ":999999999999:", 1)
	_, err = invoke(t, rt, siblingPayload(t, w, own.Outputs.Incident, other))
	var inv *contract.InvalidInputError
	if !errors.As(err, &inv) || inv.Field != "input.taskArn" {
		t.Errorf("a task of another account: %v; want InvalidInputError on input.taskArn", err)
	}
}
