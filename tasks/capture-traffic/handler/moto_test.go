package handler_test

import (
	"testing"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/stricttest"
	"github.com/irflow/irflow/tasks/capture-traffic/handler"
	"github.com/irflow/irflow/tasks/hostcmd/hostcmdtest"
)

func TestMain(m *testing.M) { stricttest.Main(m) }

var step = mototest.AsyncStep{Action: "capture-traffic", Step: "pcap", Timeout: 1800}

// TestCaptureAgainstMoto: two starts send one command; the sandboxed agent
// runs it once; the check reports the pcap that is in moto's bucket with the
// hash the host computed.
func TestCaptureAgainstMoto(t *testing.T) {
	w := mototest.Seed(t)
	m := hostcmdtest.OnMoto(t, w.Cfg, w.Env)
	m.Box.StubTask(t, w.EC2TaskArn)
	m.Box.Stub(t, "tcpdump", `out=""; while [ $# -gt 0 ]; do case $1 in -w) out=$2; shift 2 ;; *) shift ;; esac; done
head -c 3000 /dev/urandom >"$out"; echo "17 packets captured" >&2`)
	h := &handler.Handler{Runner: m.Runner, Presign: m.Presign, Env: w.Env, Paths: m.Box.Paths}
	const caseID = "case-pcap-1"

	done := step.RunOnce(t, w, m.Agent, h.Handle, caseID)
	if len(done.Evidence) != 1 {
		t.Fatalf("check: %s, %d evidence", done.Summary, len(done.Evidence))
	}
	objs := mototest.StoredEvidence(t, w, caseID, done.Evidence)
	if body := objs[w.EvidenceKey(done.Evidence[0])]; len(objs) != 1 || len(body) != 3000 {
		t.Errorf("moto holds %d objects, a pcap of %d bytes; want one of 3000", len(objs), len(body))
	}
}

func TestDryRunAgainstMoto(t *testing.T) {
	w := mototest.Seed(t)
	step.DryRun(t, w, handler.New(w.Cfg, w.Env), "case-pcap-dry")
}

// TestMotoDoesNotRunCommands: plain moto says Success with no output; the
// check refuses to invent evidence.
func TestMotoDoesNotRunCommands(t *testing.T) {
	w := mototest.Seed(t)
	step.CheckOnPlainMoto(t, w, handler.New(w.Cfg, w.Env), "case-pcap-moto")
}
