package handler_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/stricttest"
	"github.com/irflow/irflow/tasks/capture-memory/handler"
	"github.com/irflow/irflow/tasks/contract"
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

var step = mototest.AsyncStep{Action: "capture-memory", Step: "memory", Timeout: 3600}

// TestCaptureAgainstMoto runs start, start again, check and start again on
// moto, with the agent in the sandbox standing in for the instance's.
func TestCaptureAgainstMoto(t *testing.T) {
	w, env := world(t)
	m := hostcmdtest.OnMoto(t, w.Cfg, env)
	h := &handler.Handler{Runner: m.Runner, Presign: m.Presign, Env: env, Paths: m.Box.Paths, PartBytes: 1 << 20, MaxParts: 16}
	const caseID = "case-mem-1"

	done := step.RunOnce(t, w, m.Agent, h.Handle, caseID)
	if len(done.Evidence) != 2 {
		t.Fatalf("check: %s %v", done.Summary, done.Outputs)
	}
	objs := mototest.StoredEvidence(t, w, caseID, done.Evidence)
	whole := sha256.New()
	for _, ev := range done.Evidence {
		whole.Write(objs[w.EvidenceKey(ev)])
	}
	img := done.Outputs["image"].(map[string]any)
	if hex.EncodeToString(whole.Sum(nil)) != img["sha256"] || img["bytes"] != float64(1572864) {
		t.Errorf("image %v does not match its parts", img)
	}
}

func TestDryRunAgainstMoto(t *testing.T) {
	w, env := world(t)
	step.DryRun(t, w, handler.New(w.Cfg, env), "case-mem-dry")
}

// TestMotoDoesNotRunCommands pins down what plain moto does: it accepts the
// command and reports Success at once with empty output, which the check
// refuses (no manifest) instead of reporting evidence that does not exist.
func TestMotoDoesNotRunCommands(t *testing.T) {
	w, env := world(t)
	err := step.CheckOnPlainMoto(t, w, handler.New(w.Cfg, env), "case-mem-moto")
	if err == nil || !strings.Contains(err.Error(), "reported Success but its command output: no IRFLOW-DONE") {
		t.Errorf("check on plain moto: %v", err)
	}
}

func TestNoPinnedHashAgainstMoto(t *testing.T) {
	w := mototest.Seed(t)
	invoke := step.Invoke(w, handler.New(w.Cfg, w.Env))
	_, err := invoke(t, "case-mem-nopin", "start", false, nil)
	if contract.ErrorName(err) != "PreconditionFailedError" || mototest.SSMCommands(t, w, "case-mem-nopin", "memory") != 0 {
		t.Errorf("err %v, %d commands; want PreconditionFailedError before sending", err, mototest.SSMCommands(t, w, "case-mem-nopin", "memory"))
	}
}
