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

const eni = "eni-0123456789abcdef0"

func newTest() (*Handler, *hostcmdtest.FakeSSM, *hostcmdtest.FakePresign, *fakeEC2) {
	r, f, ps := hostcmdtest.FakeRunner()
	e := &fakeEC2{}
	h := &Handler{Runner: r, Presign: ps, EC2: e,
		Env: taskrt.Env{EvidenceBucket: "evidence"}, Paths: hostcmd.DefaultPaths()}
	return h, f, ps, e
}

func payload(mode string, dry bool, with string, prev *contract.Result) *contract.Payload {
	if with == "" {
		with = "{}"
	}
	return &contract.Payload{Action: "capture-traffic", Step: "pcap", Mode: mode, With: json.RawMessage(with), TimeoutSeconds: 1800,
		Previous: prev, Incident: &incident.Incident{CaseID: "case-5", DryRun: dry},
		Target: &incident.Target{LaunchType: "EC2", InstanceID: hostcmdtest.Instance, TaskArn: hostcmdtest.TaskArn, NetworkMode: "bridge",
			ENIs:       []incident.ENI{{ID: eni}},
			Containers: []incident.Container{{Name: "worker"}, {Name: "log_router"}}}}
}

const mirrorWith = `{"mode":"mirror","mirrorTargetId":"tmt-0123456789abcdef0","mirrorFilterId":"tmf-0123456789abcdef0"}`

func TestStartTcpdump(t *testing.T) {
	h, f, ps, e := newTest()
	res, err := h.Handle(context.Background(), payload("start", false, `{"durationSeconds":120,"snapLength":96}`, nil))
	if err != nil {
		t.Fatal(err)
	}
	keys := res.Outputs["keys"].([]string)
	if res.Outputs["done"] != false || len(keys) != 2 || keys[1] != "cases/case-5/pcap/traffic.log_router.pcap" || ps.Puts != 2 {
		t.Errorf("outputs %v", res.Outputs)
	}
	s := strings.Join(f.Sent[0].Parameters["commands"], "\n")
	for _, want := range []string{"IRFLOW_DURATION='120'", "IRFLOW_SNAPLEN='96'", "IRFLOW_MAX_PCAP_BYTES='4294967296'", "irflow_container 'worker' 'worker' ''"} {
		if !strings.Contains(s, want) {
			t.Errorf("script lacks %q", want)
		}
	}
	if len(e.creates) != 0 {
		t.Error("tcpdump mode created a mirror session")
	}
}

func TestErrors(t *testing.T) {
	fargate := payload("start", false, "", nil)
	fargate.Target.InstanceID = ""
	noENI := payload("start", false, mirrorWith, nil)
	noENI.Target.ENIs = nil
	tests := []struct {
		name string
		p    *contract.Payload
		want string
	}{
		{"capture longer than the step allows", payload("start", false, `{"durationSeconds":1800}`, nil), "InvalidInputError"},
		{"too short", payload("start", false, `{"durationSeconds":1}`, nil), "InvalidInputError"},
		{"snap length", payload("start", false, `{"snapLength":-1}`, nil), "InvalidInputError"},
		{"unknown mode", payload("start", false, `{"mode":"span"}`, nil), "InvalidInputError"},
		{"mirror without target", payload("start", false, `{"mode":"mirror","mirrorFilterId":"tmf-0123456789abcdef0"}`, nil), "InvalidInputError"},
		{"mirror without filter", payload("start", false, `{"mode":"mirror","mirrorTargetId":"tmt-0123456789abcdef0"}`, nil), "InvalidInputError"},
		{"bad target id", payload("start", false, `{"mode":"mirror","mirrorTargetId":"tmt-x;y","mirrorFilterId":"tmf-0123456789abcdef0"}`, nil), "InvalidInputError"},
		{"bad step mode", payload("request", false, "", nil), "InvalidInputError"},
		{"fargate tcpdump", fargate, "PreconditionFailedError"},
		{"mirror without ENI", noENI, "PreconditionFailedError"},
		{"check without previous", payload("check", false, "", nil), "InvalidInputError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, f, ps, e := newTest()
			_, err := h.Handle(context.Background(), tt.p)
			hostcmdtest.Refused(t, err, tt.want, f, ps)
			if ps.Puts+len(e.creates) != 0 {
				t.Errorf("presigned %d uploads, created %d mirror sessions before failing", ps.Puts, len(e.creates))
			}
		})
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	for _, with := range []string{"", mirrorWith} {
		h, f, ps, e := newTest()
		res, err := h.Handle(context.Background(), payload("start", true, with, nil))
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != contract.StatusDryRun || res.Outputs["done"] != true {
			t.Errorf("%s: %s %v", with, res.Status, res.Outputs)
		}
		if len(f.Sent)+ps.Puts+len(e.creates) != 0 {
			t.Errorf("%s: a dry run sent, presigned or created something", with)
		}
	}
}

func TestStartCheckCheck(t *testing.T) {
	h, f, _, _ := newTest()
	pcap := []byte(strings.Repeat("\xd4\xc3\xb2\xa1", 64))
	h.Runner.Objects.(*hostcmdtest.FakeObjects).Put("cases/case-5/pcap/traffic.worker.pcap", pcap)
	sum := sha256.Sum256(pcap)
	manifest := "IRFLOW-INFO packets.worker 42\nIRFLOW-INFO truncated.worker stopped at 4294967296 bytes\n" +
		"IRFLOW-EVIDENCE traffic.worker.pcap " + hex.EncodeToString(sum[:]) + " 256\n" +
		"IRFLOW-SKIP traffic.log_router.pcap shares its network namespace with a container captured already\nIRFLOW-DONE 1\n"
	first, res := hostcmdtest.PollToDone(t, f, ssmtypes.CommandInvocationStatusInProgress, manifest, h.Handle, payload("start", false, "", nil))
	if first.Outputs["done"] != false {
		t.Fatalf("first check: %v", first)
	}
	if res.Outputs["done"] != true || len(res.Evidence) != 1 || res.Evidence[0].URI != "s3://evidence/cases/case-5/pcap/traffic.worker.pcap" {
		t.Fatalf("second check %v %v", res.Outputs, res.Evidence)
	}
	if res.Outputs["packets"].(map[string]string)["worker"] != "42" || !strings.Contains(res.Summary, "worker stopped at the 4294967296-byte cap") {
		t.Errorf("summary %q, packets %v", res.Summary, res.Outputs["packets"])
	}
}

func TestCheckFailures(t *testing.T) {
	prev := hostcmdtest.Started("cases/case-5/pcap/traffic.worker.pcap")
	hostcmdtest.RunCheckFailures(t, "irflow: tcpdump is not installed on this host", []hostcmdtest.CheckFailure{
		{Name: "nothing captured", Status: ssmtypes.CommandInvocationStatusSuccess, Stdout: "IRFLOW-SKIP traffic.worker.pcap container worker is not running\nIRFLOW-DONE 0", After: time.Minute, Want: "PreconditionFailedError"},
		{Name: "no tcpdump on the host", Status: ssmtypes.CommandInvocationStatusFailed, Stdout: "", After: time.Minute, Want: "PreconditionFailedError"},
	}, payload("check", false, "", prev), func() (*hostcmd.Runner, *hostcmdtest.FakeSSM, hostcmdtest.Handle) {
		h, f, _, _ := newTest()
		return h.Runner, f, h.Handle
	})
}
