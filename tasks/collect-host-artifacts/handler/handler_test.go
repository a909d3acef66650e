package handler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"reflect"
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

const fullID = "3f2a9c1d0b7e3f2a9c1d0b7e3f2a9c1d0b7e3f2a9c1d0b7e3f2a9c1d0b7e3f2a"

func newTest() (*Handler, *hostcmdtest.FakeSSM, *hostcmdtest.FakePresign) {
	r, f, ps := hostcmdtest.FakeRunner()
	h := &Handler{Runner: r, Presign: ps,
		Env: taskrt.Env{EvidenceBucket: "evidence"}, Paths: hostcmd.DefaultPaths()}
	return h, f, ps
}

func target() *incident.Target {
	return &incident.Target{LaunchType: "EC2", InstanceID: hostcmdtest.Instance, TaskArn: hostcmdtest.TaskArn, NetworkMode: "bridge",
		Containers: []incident.Container{{Name: "worker", RuntimeID: fullID}, {Name: "log_router"}}}
}

func payload(mode string, dry bool, with string, prev *contract.Result) *contract.Payload {
	if with == "" {
		with = "{}"
	}
	return &contract.Payload{Action: "collect-host-artifacts", Step: "host", Mode: mode, With: json.RawMessage(with), TimeoutSeconds: 1200,
		Previous: prev, Incident: &incident.Incident{CaseID: "case-9", DryRun: dry}, Target: target()}
}

func TestStart(t *testing.T) {
	h, f, ps := newTest()
	res, err := h.Handle(context.Background(), payload("start", false, "", nil))
	if err != nil {
		t.Fatal(err)
	}
	if res.Outputs["done"] != false || res.Outputs["commandId"] != hostcmdtest.CommandID || len(f.Sent) != 1 {
		t.Fatalf("result %v, %d commands", res.Outputs, len(f.Sent))
	}
	keys := res.Outputs["keys"].([]string)
	if len(keys) != 11 || ps.Puts != 11 || keys[0] != "cases/case-9/host/docker-inspect.worker.json" || keys[10] != "cases/case-9/host/ecs-agent-logs.tar.gz" {
		t.Errorf("keys = %v (%d presigned)", keys, ps.Puts)
	}
	s := strings.Join(f.Sent[0].Parameters["commands"], "\n")
	for _, want := range []string{"IRFLOW_TASK_ARN='" + hostcmdtest.TaskArn + "'", "IRFLOW_MAX_LOG_LINES='50000'",
		"IRFLOW_INCLUDE='docker-inspect docker-diff docker-logs process-list ecs-agent-logs network-connections'",
		"\tirflow_container 'worker' 'worker' '" + fullID + "'", "\tirflow_container 'log_router' 'log_router' ''"} {
		if !strings.Contains(s, want) {
			t.Errorf("script lacks %q", want)
		}
	}
}

func TestFileNames(t *testing.T) {
	cs := []hostcmd.Container{{Name: "a", Key: "a"}, {Name: "b", Key: "b"}}
	got := fileNames([]string{"ecs-agent-logs", "docker-logs", "network-connections"}, cs)
	want := []string{"docker-logs.a.log", "network-connections.a.txt", "docker-logs.b.log", "network-connections.b.txt", "ecs-agent-logs.tar.gz"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fileNames = %v; want %v", got, want)
	}
}

func TestErrors(t *testing.T) {
	with := func(w string) *contract.Payload { return payload("start", false, w, nil) }
	tweak := func(f func(*incident.Target)) *contract.Payload {
		p := payload("start", false, "", nil)
		f(p.Target)
		return p
	}
	tests := []struct {
		name string
		p    *contract.Payload
		want string
	}{
		{"unknown artifact", with(`{"include":["core-dump"]}`), "InvalidInputError"},
		{"artifact twice", with(`{"include":["docker-diff","docker-diff"]}`), "InvalidInputError"},
		{"empty include", with(`{"include":[]}`), "InvalidInputError"},
		{"too few log lines", with(`{"maxLogLines":10}`), "InvalidInputError"},
		{"unknown param", with(`{"lines":10}`), "InvalidInputError"},
		{"bad mode", payload("wait", false, "", nil), "InvalidInputError"},
		{"fargate", tweak(func(t *incident.Target) { t.LaunchType, t.InstanceID = "FARGATE", "" }), "PreconditionFailedError"},
		{"no containers", tweak(func(t *incident.Target) { t.Containers = nil }), "PreconditionFailedError"},
		{"unsafe container name", tweak(func(t *incident.Target) { t.Containers[0].Name = "w';reboot;'" }), "InvalidInputError"},
		{"unsafe runtime id", tweak(func(t *incident.Target) { t.Containers[0].RuntimeID = "$(reboot)" }), "InvalidInputError"},
		{"unsafe task arn", tweak(func(t *incident.Target) { t.TaskArn += "';reboot" }), "InvalidInputError"},
		{"check without previous", payload("check", false, "", nil), "InvalidInputError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, f, ps := newTest()
			_, err := h.Handle(context.Background(), tt.p)
			hostcmdtest.Refused(t, err, tt.want, f, ps)
			if ps.Puts != 0 {
				t.Errorf("presigned %d uploads before failing", ps.Puts)
			}
		})
	}
}

func TestDryRunSendsNothing(t *testing.T) {
	h, f, ps := newTest()
	res, err := h.Handle(context.Background(), payload("start", true, `{"include":["docker-logs"]}`, nil))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != contract.StatusDryRun || res.Outputs["done"] != true || len(res.Outputs["keys"].([]string)) != 2 {
		t.Errorf("dry run: %s %v", res.Status, res.Outputs)
	}
	hostcmdtest.NothingSent(t, f, ps)
}

func TestStartCheckCheck(t *testing.T) {
	h, f, _ := newTest()
	inspect, logs := []byte("[{\"Id\":1}]"), []byte(strings.Repeat("l", 99))
	objs := h.Runner.Objects.(*hostcmdtest.FakeObjects)
	objs.Put("cases/case-9/host/docker-inspect.worker.json", inspect)
	objs.Put("cases/case-9/host/ecs-agent-logs.tar.gz", logs)
	manifest := "IRFLOW-INFO container.worker " + fullID + "\nIRFLOW-EVIDENCE docker-inspect.worker.json " + hexOf(inspect) + " 10\n" +
		"IRFLOW-SKIP process-list.worker.txt container is not running\nIRFLOW-EVIDENCE ecs-agent-logs.tar.gz " + hexOf(logs) + " 99\nIRFLOW-DONE 2\n"
	first, res := hostcmdtest.PollToDone(t, f, ssmtypes.CommandInvocationStatusPending, manifest, h.Handle, payload("start", false, "", nil))
	if first.Outputs["done"] != false || first.Outputs["ssmStatus"] != "Pending" {
		t.Fatalf("first check: %v", first)
	}
	if res.Outputs["done"] != true || len(res.Evidence) != 2 || res.Evidence[1].URI != "s3://evidence/cases/case-9/host/ecs-agent-logs.tar.gz" {
		t.Fatalf("second check: %s %v %v", res.Summary, res.Outputs, res.Evidence)
	}
	skipped := res.Outputs["skipped"].([]hostcmd.Skip)
	if len(skipped) != 1 || !strings.Contains(res.Summary, "1 skipped (container is not running)") {
		t.Errorf("skipped %v, summary %q", skipped, res.Summary)
	}
	if ids := res.Outputs["containers"].(map[string]string); ids["worker"] != fullID {
		t.Errorf("containers = %v", ids)
	}
}

func TestCheckFailures(t *testing.T) {
	prev := hostcmdtest.Started("cases/case-9/host/docker-diff.worker.txt")
	hostcmdtest.RunCheckFailures(t, "irflow: docker is not installed on this host", []hostcmdtest.CheckFailure{
		{Name: "nothing collected", Status: ssmtypes.CommandInvocationStatusSuccess, Stdout: "IRFLOW-SKIP docker-diff.worker.txt container worker of the task is not on this host\nIRFLOW-DONE 0", After: time.Minute, Want: "PreconditionFailedError"},
		{Name: "command failed", Status: ssmtypes.CommandInvocationStatusFailed, Stdout: "", After: time.Minute, Want: "PreconditionFailedError"},
	}, payload("check", false, "", prev), func() (*hostcmd.Runner, *hostcmdtest.FakeSSM, hostcmdtest.Handle) {
		h, f, _ := newTest()
		return h.Runner, f, h.Handle
	})
}

func hexOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
