package handler

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/irflow/irflow/generator/simulate"
	"github.com/irflow/irflow/tasks/approval-api/approval"
)

// The simulator's callback API has the TaskResponder's shape, so the demo
// plugs it in unchanged.
var _ TaskResponder = simulate.Callbacks(nil)

// TestSimulatedGate decides a simulated gate through Decide, the way
// `make demo` does: the simulator's callbacks take the place of Step
// Functions, and the gate receives the approver's identity.
func TestSimulatedGate(t *testing.T) {
	tests := []struct {
		name     string
		caller   string
		decision string
		want     func(simulate.Decision) bool
	}{
		{"approved", alice, "approve", func(d simulate.Decision) bool {
			return strings.Contains(string(d.Output), `"approver":"`+alice+`"`) && d.Error == ""
		}},
		{"rejected", bob, "reject", func(d simulate.Decision) bool {
			return d.Error == "ApprovalRejectedError" && strings.Contains(d.Cause, bob)
		}},
		{"refused: no answer, the gate times out", carol, "approve", func(d simulate.Decision) bool { return d.NoAnswer }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			payload, _ := json.Marshal(map[string]any{"action": "request-approval", "step": gateStep, "mode": "request",
				"execution": map[string]any{"Id": execID}})
			gate := simulate.Gate{State: "FARGATE: " + gateStep, Step: gateStep, Token: token, Payload: payload}
			var status int
			approver := simulate.CallbackApprover(func(ctx context.Context, g simulate.Gate, cb simulate.Callbacks) error {
				id, err := approval.PayloadID(g.Payload)
				if err != nil {
					return err
				}
				h := *f.h
				h.Responder = cb
				status, _ = h.Decide(ctx, Identity{ARN: tt.caller}, id, tt.decision, "demo decision")
				return nil
			})
			d, err := approver.Decide(context.Background(), gate)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.want(d) {
				t.Errorf("decision %+v (status %d)", d, status)
			}
			if tt.caller == carol && status != http.StatusForbidden {
				t.Errorf("self-approval answered %d", status)
			}
		})
	}
}
