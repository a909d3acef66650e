package registry

import (
	"context"
	"encoding/json"
	"io"
	"testing"
	"time"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/stricttest"
	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/taskrt"
)

func TestMain(m *testing.M) { stricttest.Main(m) }

// TestChainAgainstMoto runs the first steps of a Fargate response the way
// the state machine passes state between them: resolve-target's outputs
// become every later payload's incident and target. The case's audit chain
// must then hold one verified record per start and result.
func TestChainAgainstMoto(t *testing.T) {
	w := mototest.Seed(t)
	logOutput = io.Discard
	hs := Handlers(context.Background(), w.Cfg, w.Env)
	caseID := mototest.Unique("case")
	exec := map[string]any{"Id": "arn:aws:states:us-east-1:" + w.Account + ":execution:irflow-crypto-mining:" + caseID,
		"Name": caseID, "StartTime": time.Now().UTC().Format(time.RFC3339Nano)}
	call := func(action string, payload map[string]any) map[string]json.RawMessage {
		t.Helper()
		in, _ := json.Marshal(payload)
		out, err := hs[action](context.Background(), in)
		if err != nil {
			t.Fatalf("%s: %v", action, err)
		}
		var res struct {
			Status  string                     `json:"status"`
			Outputs map[string]json.RawMessage `json:"outputs"`
		}
		if err := json.Unmarshal(out, &res); err != nil || res.Status != contract.StatusOK {
			t.Fatalf("%s: %s", action, out)
		}
		return res.Outputs
	}
	resolved := call("resolve-target", map[string]any{"action": "resolve-target", "step": "", "with": map[string]any{"lockTtlMinutes": 1440},
		"input":     map[string]any{"taskArn": w.FargateTaskArn, "reason": "chain test", "requestedBy": "arn:aws:iam::" + w.Account + ":role/Responder"},
		"execution": exec})
	steps := []struct{ step, action string }{
		{"tag", "tag-resources"}, {"metadata", "capture-task-metadata"}, {"logs", "collect-logs"}, {"tell", "notify"},
	}
	for _, s := range steps {
		call(s.action, map[string]any{"action": s.action, "step": s.step, "with": map[string]any{},
			"incident": resolved["incident"], "target": resolved["target"], "execution": exec})
	}
	recs, err := taskrt.NewChain(w.Cfg, w.Env).Read(context.Background(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	if want := 1 + 2*len(steps); len(recs) != want {
		t.Errorf("audit chain has %d records; want %d (resolve-target's result, then start and result of each step)", len(recs), want)
	}
	if err := audit.Verify(recs); err != nil {
		t.Errorf("audit chain: %v", err)
	}
}
