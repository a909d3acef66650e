package handler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/hostcmd"
	"github.com/irflow/irflow/tasks/hostcmd/hostcmdtest"
	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/taskrt"
)

const imgHash = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"

func newTest(env taskrt.Env) (*Handler, *hostcmdtest.FakeSSM, *hostcmdtest.FakePresign) {
	r, f, ps := hostcmdtest.FakeRunner()
	if env.EvidenceBucket == "" {
		env.EvidenceBucket = "evidence"
	}
	h := &Handler{Runner: r, Presign: ps, Env: env,
		Paths: hostcmd.DefaultPaths()}
	return h, f, ps
}

func payload(mode string, dry bool, with string, prev *contract.Result) *contract.Payload {
	if with == "" {
		with = "{}"
	}
	return &contract.Payload{Action: "capture-memory", Step: "memory", Mode: mode, With: json.RawMessage(with), TimeoutSeconds: 3600,
		Previous: prev, Incident: &incident.Incident{CaseID: "case-7", DryRun: dry},
		Target: &incident.Target{LaunchType: "EC2", InstanceID: hostcmdtest.Instance, TaskArn: "arn:aws:ecs:us-east-1:123456789012:task/c/0123456789abcdef0123456789abcdef"}}
}

var envPinned = taskrt.Env{AVMLURL: "s3://tools-bucket/tools/avml", AVMLSha256: hostcmdtest.SHA256}

func script(t *testing.T, f *hostcmdtest.FakeSSM) string {
	t.Helper()
	if len(f.Sent) != 1 {
		t.Fatalf("%d commands sent; want 1", len(f.Sent))
	}
	return strings.Join(f.Sent[0].Parameters["commands"], "\n")
}

func TestStart(t *testing.T) {
	h, f, ps := newTest(envPinned)
	res, err := h.Handle(context.Background(), payload("start", false, "", nil))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != contract.StatusOK || res.Outputs["done"] != false || res.Outputs["commandId"] != hostcmdtest.CommandID {
		t.Errorf("result %s %v", res.Status, res.Outputs)
	}
	keys := res.Outputs["keys"].([]string)
	if len(keys) != DefaultMaxParts || keys[0] != "cases/case-7/memory/memory.lime.compressed.part000" {
		t.Errorf("keys = %v", keys)
	}
	s := script(t, f)
	for _, want := range []string{"IRFLOW_AVML_SHA256='" + hostcmdtest.SHA256 + "'", "IRFLOW_COMPRESS='1'",
		"IRFLOW_AVML_URL='https://bucket.s3.us-east-1.amazonaws.com/get/tools-bucket/tools/avml?X-Amz-Signature=abc'",
		"'memory.lime.compressed.part015') printf"} {
		if !strings.Contains(s, want) {
			t.Errorf("script lacks %q", want)
		}
	}
	if ps.Puts != DefaultMaxParts || ps.Gets != 1 {
		t.Errorf("presigned %d PUTs and %d GETs; want %d and 1", ps.Puts, ps.Gets, DefaultMaxParts)
	}
}

func TestStartParamsOverrideDeployment(t *testing.T) {
	h, f, ps := newTest(envPinned)
	other := strings.Repeat("b", 64)
	_, err := h.Handle(context.Background(), payload("start", false, `{"avmlUrl":"https://tools.example.com/avml","avmlSha256":"`+other+`","compress":false}`, nil))
	if err != nil {
		t.Fatal(err)
	}
	s := script(t, f)
	if !strings.Contains(s, "IRFLOW_AVML_URL='https://tools.example.com/avml'") || !strings.Contains(s, "IRFLOW_AVML_SHA256='"+other+"'") ||
		!strings.Contains(s, "IRFLOW_IMAGE='memory.lime'") || !strings.Contains(s, "IRFLOW_COMPRESS='0'") {
		t.Errorf("script does not use the step's tool and compress: false")
	}
	if ps.Gets != 0 {
		t.Errorf("an https tool URL was presigned")
	}
}

func TestErrors(t *testing.T) {
	fargate := payload("start", false, "", nil)
	fargate.Target = &incident.Target{LaunchType: "FARGATE", TaskArn: "arn:aws:ecs:us-east-1:123456789012:task/c/0123456789abcdef0123456789abcdef"}
	tests := []struct {
		name string
		env  taskrt.Env
		p    *contract.Payload
		want string
	}{
		{"no pinned hash", taskrt.Env{AVMLURL: "s3://b/avml"}, payload("start", false, "", nil), "PreconditionFailedError"},
		{"no pinned hash in a dry run either", taskrt.Env{AVMLURL: "s3://b/avml"}, payload("start", true, "", nil), "PreconditionFailedError"},
		{"bad deployment hash", taskrt.Env{AVMLURL: "s3://b/avml", AVMLSha256: "abc"}, payload("start", false, "", nil), "PreconditionFailedError"},
		{"no tool location", taskrt.Env{AVMLSha256: hostcmdtest.SHA256}, payload("start", false, "", nil), "PreconditionFailedError"},
		{"bad step hash", envPinned, payload("start", false, `{"avmlSha256":"ABC"}`, nil), "InvalidInputError"},
		{"unsafe step url", envPinned, payload("start", false, `{"avmlUrl":"https://x/a';reboot;'"}`, nil), "InvalidInputError"},
		{"s3 url without key", envPinned, payload("start", false, `{"avmlUrl":"s3://bucket"}`, nil), "InvalidInputError"},
		{"s3 url without key in a dry run", envPinned, payload("start", true, `{"avmlUrl":"s3://bucket/"}`, nil), "InvalidInputError"},
		{"deployment s3 url without key", taskrt.Env{AVMLURL: "s3://tools", AVMLSha256: hostcmdtest.SHA256}, payload("start", false, "", nil), "PreconditionFailedError"},
		{"unknown param", envPinned, payload("start", false, `{"avml":"x"}`, nil), "InvalidInputError"},
		{"bad mode", envPinned, payload("request", false, "", nil), "InvalidInputError"},
		{"fargate target", envPinned, fargate, "PreconditionFailedError"},
		{"no evidence bucket", taskrt.Env{AVMLURL: "s3://b/avml", AVMLSha256: hostcmdtest.SHA256, EvidenceBucket: "-"}, payload("start", false, "", nil), "PreconditionFailedError"},
		{"check without previous", envPinned, payload("check", false, "", nil), "InvalidInputError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, f, ps := newTest(tt.env)
			if tt.env.EvidenceBucket == "-" {
				h.Env.EvidenceBucket = ""
			}
			_, err := h.Handle(context.Background(), tt.p)
			hostcmdtest.Refused(t, err, tt.want, f, ps)
			if ps.Puts != 0 {
				t.Errorf("presigned %d uploads before failing; want none (the tool's location is checked first)", ps.Puts)
			}
		})
	}
}

func TestDryRunSendsNothing(t *testing.T) {
	h, f, ps := newTest(envPinned)
	res, err := h.Handle(context.Background(), payload("start", true, "", nil))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != contract.StatusDryRun || res.Outputs["done"] != true || !strings.HasPrefix(res.Summary, "would capture") {
		t.Errorf("result %s %q %v", res.Status, res.Summary, res.Outputs)
	}
	hostcmdtest.NothingSent(t, f, ps)
	res, err = h.Handle(context.Background(), payload("check", true, "", res))
	if err != nil || res.Status != contract.StatusDryRun || res.Outputs["done"] != true {
		t.Errorf("dry-run check: %v %v", res, err)
	}
}

// TestStartCheckCheck walks the poll loop: start, a check while the command
// runs, a check once it succeeded, each fed the previous result.
func TestStartCheckCheck(t *testing.T) {
	h, f, _ := newTest(envPinned)
	// What the host uploaded, read back and hashed again by the check.
	objs := h.Runner.Objects.(*hostcmdtest.FakeObjects)
	objs.Put("cases/case-7/memory/memory.lime.compressed.part000", []byte("abcd"))
	objs.Put("cases/case-7/memory/memory.lime.compressed.part001", []byte("efg"))
	part1 := sha256Hex("efg")
	manifest := strings.Join([]string{
		"IRFLOW-INFO avml-sha256 " + hostcmdtest.SHA256, "IRFLOW-INFO image memory.lime.compressed",
		"IRFLOW-INFO image-sha256 " + imgHash, "IRFLOW-INFO image-bytes 7", "IRFLOW-INFO parts 2",
		"IRFLOW-EVIDENCE memory.lime.compressed.part000 " + sha256Hex("abcd") + " 4",
		"IRFLOW-EVIDENCE memory.lime.compressed.part001 " + part1 + " 3", "IRFLOW-DONE 2"}, "\n")
	first, res := hostcmdtest.PollToDone(t, f, ssmtypes.CommandInvocationStatusInProgress, manifest, h.Handle, payload("start", false, "", nil))
	if first.Outputs["done"] != false || first.Outputs["ssmStatus"] != "InProgress" || first.Outputs["commandId"] != hostcmdtest.CommandID {
		t.Errorf("first check outputs %v", first.Outputs)
	}
	if res.Outputs["done"] != true || len(res.Evidence) != 2 {
		t.Fatalf("second check: %s %v %v", res.Summary, res.Outputs, res.Evidence)
	}
	if res.Evidence[1].URI != "s3://evidence/cases/case-7/memory/memory.lime.compressed.part001" || res.Evidence[1].SHA256 != part1 || res.Evidence[1].Bytes != 3 ||
		res.Evidence[1].VersionID != "v1" {
		t.Errorf("evidence = %+v", res.Evidence[1])
	}
	img := res.Outputs["image"].(map[string]any)
	if img["sha256"] != imgHash || img["bytes"] != int64(7) || img["parts"] != 2 {
		t.Errorf("image = %v", img)
	}
	if len(f.Sent) != 1 {
		t.Errorf("%d commands sent over the loop; want 1", len(f.Sent))
	}
}

func TestCheckFailures(t *testing.T) {
	prev := hostcmdtest.Started("cases/case-7/memory/memory.lime.compressed.part000")
	hostcmdtest.RunCheckFailures(t, "irflow: AVML hash mismatch", []hostcmdtest.CheckFailure{
		{Name: "command failed", Status: ssmtypes.CommandInvocationStatusFailed, Stdout: "", After: time.Minute, Want: "PreconditionFailedError"},
		{Name: "no image announced", Status: ssmtypes.CommandInvocationStatusSuccess, Stdout: "IRFLOW-DONE 0", After: time.Minute, Want: "PreconditionFailedError"},
	}, payload("check", false, "", prev), func() (*hostcmd.Runner, *hostcmdtest.FakeSSM, hostcmdtest.Handle) {
		h, f, _ := newTest(envPinned)
		return h.Runner, f, h.Handle
	})
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
