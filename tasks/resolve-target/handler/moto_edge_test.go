package handler

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/tasks/contract"
)

// TestDryRunLockYieldsToRealResponse: a rehearsal holds the lock against
// other rehearsals but never against the response to a live finding.
func TestDryRunLockYieldsToRealResponse(t *testing.T) {
	w := mototest.Seed(t)
	rt := runtimeFor(w)
	dry := mototest.Unique("dry")
	r, err := invoke(t, rt, resolvePayload(t, w, w.FargateTaskArn, dry, true))
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if !r.Outputs.Incident.DryRun || !strings.Contains(r.Summary, "dry run") {
		t.Errorf("dry run result = %+v", r)
	}
	var dup *contract.DuplicateIncidentError
	if _, err := invoke(t, rt, resolvePayload(t, w, w.FargateTaskArn, mototest.Unique("dry2"), true)); !errors.As(err, &dup) {
		t.Errorf("second rehearsal: %v; want DuplicateIncidentError", err)
	}
	live := mototest.Unique("live")
	if _, err := invoke(t, rt, resolvePayload(t, w, w.FargateTaskArn, live, false)); err != nil {
		t.Fatalf("live response after a rehearsal: %v", err)
	}
	if got := attr(lockItem(t, w, w.FargateTaskArn), "caseId"); got != live {
		t.Errorf("lock held by %s; want %s", got, live)
	}
	if _, err := invoke(t, rt, resolvePayload(t, w, w.FargateTaskArn, mototest.Unique("dry3"), true)); !errors.As(err, &dup) || dup.ExistingCase != live {
		t.Errorf("rehearsal during a live response: %v; want DuplicateIncidentError naming %s", err, live)
	}
}

// TestMissingTaskReleasesLock: a task ECS does not know fails with
// TargetNotFoundError and leaves the lock free for the next execution.
func TestMissingTaskReleasesLock(t *testing.T) {
	w := mototest.Seed(t)
	rt := runtimeFor(w)
	gone := fmt.Sprintf("arn:aws:ecs:us-east-1:%s:task/%s/0123456789abcdef0123456789abcdef", w.Account, w.ClusterName)
	for i := 0; i < 2; i++ {
		_, err := invoke(t, rt, resolvePayload(t, w, gone, mototest.Unique("gone"), false))
		var nf *contract.TargetNotFoundError
		if !errors.As(err, &nf) {
			t.Fatalf("run %d: %v; want TargetNotFoundError (not a duplicate)", i+1, err)
		}
	}
	if it := lockItem(t, w, gone); attr(it, "releasedAt") == "" {
		t.Errorf("lock item = %v; want it released", it)
	}
}

func TestInvalidInputAgainstMoto(t *testing.T) {
	w := mototest.Seed(t)
	payload := []byte(`{"action":"resolve-target","step":"","with":{},"input":{"taskArn":"arn:aws:ec2:us-east-1:123456789012:instance/i-1","reason":"x","requestedBy":"me"},"execution":{"Id":"e"}}`)
	_, err := runtimeFor(w).Invoke(context.Background(), payload)
	var ii *contract.InvalidInputError
	if !errors.As(err, &ii) || ii.Field != "taskArn" {
		t.Errorf("got %v; want InvalidInputError on taskArn", err)
	}
}
