package handler_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/stricttest"
	"github.com/irflow/irflow/tasks/collect-host-artifacts/handler"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/hostcmd"
	"github.com/irflow/irflow/tasks/hostcmd/hostcmdtest"
	"github.com/irflow/irflow/tasks/taskrt"
)

func TestMain(m *testing.M) { stricttest.Main(m) }

const step = "host"

// TestCollectAgainstMoto: two starts send one command; the sandboxed agent
// runs it once; the check reports objects that are in moto's bucket with the
// hashes the host computed.
func TestCollectAgainstMoto(t *testing.T) {
	w := mototest.Seed(t)
	box := hostcmdtest.New(t)
	box.Stub(t, "docker", hostcmdtest.DockerStub(w.EC2TaskArn, map[string]string{"worker": strings.Repeat("c", 64)}, os.Getpid()))
	box.Stub(t, "nsenter", `while [ $# -gt 0 ]; do case $1 in -t) shift 2 ;; -n) shift ;; *) break ;; esac; done; exec "$@"`)
	box.Stub(t, "ss", `echo 'tcp ESTAB 0 0 172.17.0.2:41234 203.0.113.7:4444'`)
	agent := &hostcmdtest.Agent{Moto: ssm.NewFromConfig(w.Cfg), Box: box, T: t}
	h := &handler.Handler{Runner: &hostcmd.Runner{SSM: agent, History: taskrt.NewChain(w.Cfg, w.Env), Objects: taskrt.NewS3(w.Cfg)},
		Presign: s3.NewPresignClient(taskrt.NewS3(w.Cfg)), Env: w.Env, Paths: box.Paths}
	invoke := w.Async("collect-host-artifacts", step, 1200, h.Handle)
	const caseID = "case-host-1"

	first, err := invoke(t, caseID, "start", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	second, err := invoke(t, caseID, "start", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if second.Outputs["commandId"] != first.Outputs["commandId"] || mototest.SSMCommands(t, w, caseID, step) != 1 {
		t.Errorf("second start: %v; %d commands in moto, want 1", second.Outputs["commandId"], mototest.SSMCommands(t, w, caseID, step))
	}
	done, err := invoke(t, caseID, "check", false, second)
	if err != nil {
		t.Fatal(err)
	}
	if done.Outputs["done"] != true || len(done.Evidence) != 6 {
		t.Fatalf("check: %s, %d evidence", done.Summary, len(done.Evidence))
	}
	objs := mototest.EvidenceObjects(t, w, caseID)
	if len(objs) != 6 {
		t.Errorf("%d objects in moto; want 6", len(objs))
	}
	for _, ev := range done.Evidence {
		body := objs[strings.TrimPrefix(ev.URI, "s3://"+w.Env.EvidenceBucket+"/")]
		sum := sha256.Sum256(body)
		if hex.EncodeToString(sum[:]) != ev.SHA256 || int64(len(body)) != ev.Bytes {
			t.Errorf("%s: moto holds %x/%d; evidence says %s/%d", ev.URI, sum, len(body), ev.SHA256, ev.Bytes)
		}
	}
	if _, err := invoke(t, caseID, "start", false, nil); err != nil || mototest.SSMCommands(t, w, caseID, step) != 1 || agent.Runs() != 1 {
		t.Errorf("third start: %v; %d commands, %d runs", err, mototest.SSMCommands(t, w, caseID, step), agent.Runs())
	}
	mototest.VerifyAudit(t, w, caseID, 8)
}

func TestDryRunAgainstMoto(t *testing.T) {
	w := mototest.Seed(t)
	invoke := w.Async("collect-host-artifacts", step, 1200, handler.New(w.Cfg, w.Env))
	res, err := invoke(t, "case-host-dry", "start", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != contract.StatusDryRun || res.Outputs["done"] != true {
		t.Errorf("dry run: %s %v", res.Status, res.Outputs)
	}
	if mototest.SSMCommands(t, w, "case-host-dry", step) != 0 || len(mototest.EvidenceObjects(t, w, "case-host-dry")) != 0 {
		t.Error("a dry run sent a command or wrote evidence")
	}
	mototest.VerifyAudit(t, w, "case-host-dry", 2)
}

// TestMotoDoesNotRunCommands: plain moto says Success with no output; the
// check refuses to invent evidence.
func TestMotoDoesNotRunCommands(t *testing.T) {
	w := mototest.Seed(t)
	invoke := w.Async("collect-host-artifacts", step, 1200, handler.New(w.Cfg, w.Env))
	start, err := invoke(t, "case-host-moto", "start", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := invoke(t, "case-host-moto", "check", false, start); contract.ErrorName(err) != "PreconditionFailedError" {
		t.Errorf("check on plain moto: %v; want PreconditionFailedError", err)
	}
}
