package handler_test

import (
	"testing"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/stricttest"
	"github.com/irflow/irflow/tasks/collect-host-artifacts/handler"
	"github.com/irflow/irflow/tasks/hostcmd/hostcmdtest"
)

func TestMain(m *testing.M) { stricttest.Main(m) }

var step = mototest.AsyncStep{Action: "collect-host-artifacts", Step: "host", Timeout: 1200}

// TestCollectAgainstMoto: two starts send one command; the sandboxed agent
// runs it once; the check reports objects that are in moto's bucket with the
// hashes the host computed.
func TestCollectAgainstMoto(t *testing.T) {
	w := mototest.Seed(t)
	m := hostcmdtest.OnMoto(t, w.Cfg, w.Env)
	m.Box.StubTask(t, w.EC2TaskArn)
	m.Box.Stub(t, "ss", `echo 'tcp ESTAB 0 0 172.17.0.2:41234 203.0.113.7:4444'`)
	h := &handler.Handler{Runner: m.Runner, Presign: m.Presign, Env: w.Env, Paths: m.Box.Paths}
	const caseID = "case-host-1"

	done := step.RunOnce(t, w, m.Agent, h.Handle, caseID)
	if len(done.Evidence) != 6 {
		t.Fatalf("check: %s, %d evidence", done.Summary, len(done.Evidence))
	}
	if objs := mototest.StoredEvidence(t, w, caseID, done.Evidence); len(objs) != 6 {
		t.Errorf("%d objects in moto; want 6", len(objs))
	}
}

func TestDryRunAgainstMoto(t *testing.T) {
	w := mototest.Seed(t)
	step.DryRun(t, w, handler.New(w.Cfg, w.Env), "case-host-dry")
}

// TestMotoDoesNotRunCommands: plain moto says Success with no output; the
// check refuses to invent evidence.
func TestMotoDoesNotRunCommands(t *testing.T) {
	w := mototest.Seed(t)
	step.CheckOnPlainMoto(t, w, handler.New(w.Cfg, w.Env), "case-host-moto")
}
