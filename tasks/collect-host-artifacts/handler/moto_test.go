package handler_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/irflow/irflow/tasks/collect-host-artifacts/handler"
	"github.com/irflow/irflow/tasks/hostcmd"
	"github.com/irflow/irflow/tasks/hostcmd/hostcmdtest"
	"github.com/irflow/irflow/tasks/internal/mototest"
	"github.com/irflow/irflow/tasks/internal/taskrt"
)

func TestMain(m *testing.M) { mototest.Main(m) }

const step = "host"

type invoker func(t *testing.T, caseID, mode string, dry bool, prev *taskrt.Result) (*taskrt.Result, error)

func runtimeFor(w *mototest.World, h taskrt.HandlerFunc) invoker {
	return func(t *testing.T, caseID, mode string, dry bool, prev *taskrt.Result) (*taskrt.Result, error) {
		t.Helper()
		rt := &taskrt.Runtime{Action: "collect-host-artifacts", Handle: h, Audit: taskrt.NewChain(w.Cfg, w.Env), Log: taskrt.NewLogger(io.Discard)}
		extra := map[string]any{"mode": mode, "timeoutSeconds": 1200}
		if prev != nil {
			extra["previous"] = prev
		}
		out, err := rt.Invoke(context.Background(), w.Payload("collect-host-artifacts", step, "EC2", caseID, dry, nil, extra))
		if err != nil {
			return nil, err
		}
		var res taskrt.Result
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatal(err)
		}
		return &res, nil
	}
}

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
	h := &handler.Handler{Runner: &hostcmd.Runner{SSM: agent, History: taskrt.NewChain(w.Cfg, w.Env)},
		Presign: s3.NewPresignClient(taskrt.NewS3(w.Cfg)), Env: w.Env, Paths: box.Paths}
	invoke := runtimeFor(w, h.Handle)
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
	records, err := taskrt.NewChain(w.Cfg, w.Env).Read(context.Background(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	if err := taskrt.Verify(records); err != nil || len(records) != 8 {
		t.Errorf("audit chain: %d records, %v", len(records), err)
	}
}

func TestDryRunAgainstMoto(t *testing.T) {
	w := mototest.Seed(t)
	invoke := runtimeFor(w, handler.New(w.Cfg, w.Env))
	res, err := invoke(t, "case-host-dry", "start", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != taskrt.StatusDryRun || res.Outputs["done"] != true {
		t.Errorf("dry run: %s %v", res.Status, res.Outputs)
	}
	if mototest.SSMCommands(t, w, "case-host-dry", step) != 0 || len(mototest.EvidenceObjects(t, w, "case-host-dry")) != 0 {
		t.Error("a dry run sent a command or wrote evidence")
	}
	records, _ := taskrt.NewChain(w.Cfg, w.Env).Read(context.Background(), "case-host-dry")
	if err := taskrt.Verify(records); err != nil || len(records) != 2 {
		t.Errorf("audit chain: %d records, %v", len(records), err)
	}
}

// TestMotoDoesNotRunCommands: plain moto says Success with no output; the
// check refuses to invent evidence.
func TestMotoDoesNotRunCommands(t *testing.T) {
	w := mototest.Seed(t)
	invoke := runtimeFor(w, handler.New(w.Cfg, w.Env))
	start, err := invoke(t, "case-host-moto", "start", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := invoke(t, "case-host-moto", "check", false, start); taskrt.ErrorName(err) != "PreconditionFailedError" {
		t.Errorf("check on plain moto: %v; want PreconditionFailedError", err)
	}
}
