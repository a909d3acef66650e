package handler_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/stricttest"
	"github.com/irflow/irflow/tasks/collect-host-artifacts/handler"
	"github.com/irflow/irflow/tasks/hostcmd"
	"github.com/irflow/irflow/tasks/hostcmd/hostcmdtest"
	"github.com/irflow/irflow/tasks/taskrt"
)

func TestMain(m *testing.M) { stricttest.Main(m) }

var step = mototest.AsyncStep{Action: "collect-host-artifacts", Step: "host", Timeout: 1200}

// TestCollectAgainstMoto: two starts send one command; the sandboxed agent
// runs it once; the check reports objects that are in moto's bucket with the
// hashes the host computed.
func TestCollectAgainstMoto(t *testing.T) {
	w := mototest.Seed(t)
	box := hostcmdtest.New(t)
	box.StubTask(t, w.EC2TaskArn)
	box.Stub(t, "ss", `echo 'tcp ESTAB 0 0 172.17.0.2:41234 203.0.113.7:4444'`)
	agent := hostcmdtest.MotoAgent(t, w.Cfg, box)
	h := &handler.Handler{Runner: &hostcmd.Runner{SSM: agent, History: taskrt.NewChain(w.Cfg, w.Env), Objects: taskrt.NewS3(w.Cfg)},
		Presign: s3.NewPresignClient(taskrt.NewS3(w.Cfg)), Env: w.Env, Paths: box.Paths}
	const caseID = "case-host-1"

	done := step.RunOnce(t, w, agent, h.Handle, caseID)
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
