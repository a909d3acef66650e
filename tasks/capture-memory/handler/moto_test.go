package handler_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/stricttest"
	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/capture-memory/handler"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/hostcmd"
	"github.com/irflow/irflow/tasks/hostcmd/hostcmdtest"
	"github.com/irflow/irflow/tasks/taskrt"
)

func TestMain(m *testing.M) { stricttest.Main(m) }

const avmlStub = "#!/bin/sh\nout=\"\"; for a in \"$@\"; do case $a in --compress) ;; *) out=$a ;; esac; done\nhead -c 1572864 /dev/urandom >\"$out\"\n"

// world seeds moto and puts the pinned AVML stand-in into a tools bucket.
func world(t *testing.T) (*mototest.World, taskrt.Env) {
	t.Helper()
	w := mototest.Seed(t)
	tools := mototest.Unique("tools")
	s3c := taskrt.NewS3(w.Cfg)
	ctx := context.Background()
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(tools)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(tools), Key: aws.String("tools/avml"), Body: strings.NewReader(avmlStub)}); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(avmlStub))
	env := w.Env
	env.AVMLURL, env.AVMLSha256 = "s3://"+tools+"/tools/avml", hex.EncodeToString(sum[:])
	return w, env
}

// TestCaptureAgainstMoto runs start, start again, check and start again on
// moto, with the agent in the sandbox standing in for the instance's.
func TestCaptureAgainstMoto(t *testing.T) {
	w, env := world(t)
	box := hostcmdtest.New(t)
	agent := &hostcmdtest.Agent{Moto: ssm.NewFromConfig(w.Cfg), Box: box, T: t}
	h := &handler.Handler{Runner: &hostcmd.Runner{SSM: agent, History: taskrt.NewChain(w.Cfg, env), Objects: taskrt.NewS3(w.Cfg)},
		Presign: s3.NewPresignClient(taskrt.NewS3(w.Cfg)), Env: env, Paths: box.Paths, PartBytes: 1 << 20, MaxParts: 16}
	invoke := w.Async("capture-memory", "memory", 3600, h.Handle)
	const caseID = "case-mem-1"

	first, err := invoke(t, caseID, "start", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	second, err := invoke(t, caseID, "start", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if first.Outputs["commandId"] != second.Outputs["commandId"] || second.Outputs["reused"] != true {
		t.Errorf("second start %v; want the first command reused", second.Outputs)
	}
	if n := mototest.SSMCommands(t, w, caseID, "memory"); n != 1 {
		t.Errorf("moto has %d commands for the step; want 1", n)
	}

	done, err := invoke(t, caseID, "check", false, second)
	if err != nil {
		t.Fatal(err)
	}
	if done.Outputs["done"] != true || len(done.Evidence) != 2 {
		t.Fatalf("check: %s %v", done.Summary, done.Outputs)
	}
	whole := sha256.New()
	for _, ev := range done.Evidence {
		key := strings.TrimPrefix(ev.URI, "s3://"+env.EvidenceBucket+"/")
		obj, err := taskrt.NewS3(w.Cfg).GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(env.EvidenceBucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("%s: %v", ev.URI, err)
		}
		body, _ := io.ReadAll(obj.Body)
		sum := sha256.Sum256(body)
		if hex.EncodeToString(sum[:]) != ev.SHA256 || int64(len(body)) != ev.Bytes {
			t.Errorf("%s in moto is %x/%d; evidence says %s/%d", key, sum, len(body), ev.SHA256, ev.Bytes)
		}
		whole.Write(body)
	}
	img := done.Outputs["image"].(map[string]any)
	if hex.EncodeToString(whole.Sum(nil)) != img["sha256"] || img["bytes"] != float64(1572864) {
		t.Errorf("image %v does not match its parts", img)
	}

	third, err := invoke(t, caseID, "start", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if third.Outputs["commandId"] != first.Outputs["commandId"] || mototest.SSMCommands(t, w, caseID, "memory") != 1 || agent.Runs() != 1 {
		t.Errorf("a start after done sent or ran again: %d commands, %d runs", mototest.SSMCommands(t, w, caseID, "memory"), agent.Runs())
	}

	records, err := taskrt.NewChain(w.Cfg, env).Read(context.Background(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != 8 {
		t.Errorf("%d audit records; want 8 (start and result of 4 invocations)", len(records))
	}
	if err := audit.Verify(records); err != nil {
		t.Errorf("audit chain: %v", err)
	}
}

func TestDryRunAgainstMoto(t *testing.T) {
	w, env := world(t)
	invoke := w.Async("capture-memory", "memory", 3600, handler.New(w.Cfg, env))
	res, err := invoke(t, "case-mem-dry", "start", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != contract.StatusDryRun || res.Outputs["done"] != true {
		t.Errorf("dry run: %s %v", res.Status, res.Outputs)
	}
	if mototest.SSMCommands(t, w, "case-mem-dry", "memory") != 0 || len(mototest.EvidenceObjects(t, w, "case-mem-dry")) != 0 {
		t.Error("a dry run sent a command or wrote evidence")
	}
	records, _ := taskrt.NewChain(w.Cfg, env).Read(context.Background(), "case-mem-dry")
	if err := audit.Verify(records); err != nil || len(records) != 2 {
		t.Errorf("audit chain of the dry run: %d records, %v", len(records), err)
	}
}

// TestMotoDoesNotRunCommands pins down what plain moto does: it accepts the
// command and reports Success at once with empty output, which the check
// refuses (no manifest) instead of reporting evidence that does not exist.
func TestMotoDoesNotRunCommands(t *testing.T) {
	w, env := world(t)
	invoke := w.Async("capture-memory", "memory", 3600, handler.New(w.Cfg, env))
	start, err := invoke(t, "case-mem-moto", "start", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = invoke(t, "case-mem-moto", "check", false, start)
	if contract.ErrorName(err) != "PreconditionFailedError" || !strings.Contains(err.Error(), "reported Success but its command output: no IRFLOW-DONE") {
		t.Errorf("check on plain moto: %v", err)
	}
}

func TestNoPinnedHashAgainstMoto(t *testing.T) {
	w := mototest.Seed(t)
	invoke := w.Async("capture-memory", "memory", 3600, handler.New(w.Cfg, w.Env))
	_, err := invoke(t, "case-mem-nopin", "start", false, nil)
	if contract.ErrorName(err) != "PreconditionFailedError" || mototest.SSMCommands(t, w, "case-mem-nopin", "memory") != 0 {
		t.Errorf("err %v, %d commands; want PreconditionFailedError before sending", err, mototest.SSMCommands(t, w, "case-mem-nopin", "memory"))
	}
}
