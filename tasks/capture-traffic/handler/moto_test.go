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
	"github.com/irflow/irflow/tasks/capture-traffic/handler"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/hostcmd"
	"github.com/irflow/irflow/tasks/hostcmd/hostcmdtest"
	"github.com/irflow/irflow/tasks/taskrt"
)

func TestMain(m *testing.M) { stricttest.Main(m) }

const step = "pcap"

// TestCaptureAgainstMoto: two starts send one command; the sandboxed agent
// runs it once; the check reports the pcap that is in moto's bucket with the
// hash the host computed.
func TestCaptureAgainstMoto(t *testing.T) {
	w := mototest.Seed(t)
	box := hostcmdtest.New(t)
	box.Stub(t, "docker", hostcmdtest.DockerStub(w.EC2TaskArn, map[string]string{"worker": strings.Repeat("c", 64)}, os.Getpid()))
	box.Stub(t, "nsenter", `while [ $# -gt 0 ]; do case $1 in -t) shift 2 ;; -n) shift ;; *) break ;; esac; done; exec "$@"`)
	box.Stub(t, "tcpdump", `out=""; while [ $# -gt 0 ]; do case $1 in -w) out=$2; shift 2 ;; *) shift ;; esac; done
head -c 3000 /dev/urandom >"$out"; echo "17 packets captured" >&2`)
	agent := &hostcmdtest.Agent{Moto: ssm.NewFromConfig(w.Cfg), Box: box, T: t}
	h := &handler.Handler{Runner: &hostcmd.Runner{SSM: agent, History: taskrt.NewChain(w.Cfg, w.Env), Objects: taskrt.NewS3(w.Cfg)},
		Presign: s3.NewPresignClient(taskrt.NewS3(w.Cfg)), Env: w.Env, Paths: box.Paths}
	invoke := w.Async("capture-traffic", step, 1800, h.Handle)
	const caseID = "case-pcap-1"

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
	if done.Outputs["done"] != true || len(done.Evidence) != 1 {
		t.Fatalf("check: %s, %d evidence", done.Summary, len(done.Evidence))
	}
	objs := mototest.EvidenceObjects(t, w, caseID)
	body := objs[strings.TrimPrefix(done.Evidence[0].URI, "s3://"+w.Env.EvidenceBucket+"/")]
	sum := sha256.Sum256(body)
	if len(objs) != 1 || hex.EncodeToString(sum[:]) != done.Evidence[0].SHA256 || len(body) != 3000 {
		t.Errorf("moto holds %d objects, pcap %x/%d; evidence says %+v", len(objs), sum, len(body), done.Evidence[0])
	}
	if _, err := invoke(t, caseID, "start", false, nil); err != nil || mototest.SSMCommands(t, w, caseID, step) != 1 || agent.Runs() != 1 {
		t.Errorf("third start: %v; %d commands, %d runs", err, mototest.SSMCommands(t, w, caseID, step), agent.Runs())
	}
	mototest.VerifyAudit(t, w, caseID, 8)
}

func TestDryRunAgainstMoto(t *testing.T) {
	w := mototest.Seed(t)
	invoke := w.Async("capture-traffic", step, 1800, handler.New(w.Cfg, w.Env))
	res, err := invoke(t, "case-pcap-dry", "start", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != contract.StatusDryRun || res.Outputs["done"] != true {
		t.Errorf("dry run: %s %v", res.Status, res.Outputs)
	}
	if mototest.SSMCommands(t, w, "case-pcap-dry", step) != 0 || len(mototest.EvidenceObjects(t, w, "case-pcap-dry")) != 0 {
		t.Error("a dry run sent a command or wrote evidence")
	}
	mototest.VerifyAudit(t, w, "case-pcap-dry", 2)
}

// TestMotoDoesNotRunCommands: plain moto says Success with no output; the
// check refuses to invent evidence.
func TestMotoDoesNotRunCommands(t *testing.T) {
	w := mototest.Seed(t)
	invoke := w.Async("capture-traffic", step, 1800, handler.New(w.Cfg, w.Env))
	start, err := invoke(t, "case-pcap-moto", "start", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := invoke(t, "case-pcap-moto", "check", false, start); contract.ErrorName(err) != "PreconditionFailedError" {
		t.Errorf("check on plain moto: %v; want PreconditionFailedError", err)
	}
}
