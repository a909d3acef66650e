package handler

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
)

func apiErr(code string) error {
	return &smithy.GenericAPIError{Code: code, Message: code + " message"}
}

type fakeSNS struct {
	err       error
	published []*sns.PublishInput
}

var _ snsAPI = (*fakeSNS)(nil)

func (f *fakeSNS) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	f.published = append(f.published, in)
	return &sns.PublishOutput{MessageId: aws.String("msg-1")}, nil
}

type fakeAudit struct {
	records []audit.Record
	err     error
}

var _ auditReader = (*fakeAudit)(nil)

func (f *fakeAudit) Read(context.Context, string) ([]audit.Record, error) { return f.records, f.err }

const execArn = "arn:aws:states:us-east-1:111122223333:execution:irflow-crypto-mining:run-1"

func casePayload(with string, dryRun bool) *contract.Payload {
	return &contract.Payload{Action: "notify", Step: "page", With: json.RawMessage(with), Execution: contract.Execution{ID: execArn},
		Incident: &incident.Incident{CaseID: "case-1", Source: "guardduty", TaskArn: "arn:task", LaunchType: "FARGATE", DryRun: dryRun,
			RequestedBy: "aws.guardduty", Reason: "GuardDuty Impact:Runtime/CryptoMinerExecuted",
			Finding: &incident.Finding{ID: "f1", Type: "Impact:Runtime/CryptoMinerExecuted", Severity: 8, Title: "Miner"}},
		Target: &incident.Target{LaunchType: "FARGATE", TaskArn: "arn:task", NetworkMode: "awsvpc", Service: "payments-api"}}
}

func handler() (*Handler, *fakeSNS) {
	f := &fakeSNS{}
	return &Handler{SNS: f, Audit: &fakeAudit{}, TopicArn: "arn:topic", ApprovalURL: "https://approve.example/"}, f
}

// jsonBlock decodes the JSON after the readable part.
func jsonBlock(t *testing.T, msg string) map[string]any {
	t.Helper()
	_, js, ok := strings.Cut(msg, "\n--- JSON ---\n")
	var m map[string]any
	if !ok || json.Unmarshal([]byte(js), &m) != nil {
		t.Fatalf("no JSON block in:\n%s", msg)
	}
	return m
}

func TestNotifyPlaybookStep(t *testing.T) {
	h, f := handler()
	r, err := h.Handle(context.Background(), casePayload(`{"message":"Containment approval follows."}`, false))
	if err != nil {
		t.Fatal(err)
	}
	in := f.published[0]
	if got := aws.ToString(in.Subject); got != "irflow [crypto-mining, case case-1]: Impact:Runtime/CryptoMinerExecuted" {
		t.Errorf("subject %q", got)
	}
	msg := aws.ToString(in.Message)
	for _, want := range []string{"Containment approval follows.", "Case:         case-1", "FARGATE (awsvpc network mode)", "severity 8 (HIGH)", "Approvals: https://approve.example/"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if js := jsonBlock(t, msg); js["caseId"] != "case-1" || js["event"] != EventNotification {
		t.Errorf("JSON block %v", js)
	}
	a := in.MessageAttributes
	if aws.ToString(a["caseId"].StringValue) != "case-1" || aws.ToString(a["severity"].StringValue) != "HIGH" ||
		aws.ToString(a["event"].StringValue) != "notification" || aws.ToString(a["dryRun"].StringValue) != "false" || aws.ToString(a["playbook"].StringValue) != "crypto-mining" {
		t.Errorf("attributes %v", a)
	}
	if r.Outputs["messageId"] != "msg-1" || r.Outputs["alreadySent"] != false {
		t.Errorf("outputs %v", r.Outputs)
	}
}

func TestNotifyDryRunStillSends(t *testing.T) {
	h, f := handler()
	if _, err := h.Handle(context.Background(), casePayload(`{"subject":"Crypto-mining – paging ☎ on-call"}`, true)); err != nil {
		t.Fatal(err)
	}
	if len(f.published) != 1 {
		t.Fatal("a dry run must still notify")
	}
	if got := aws.ToString(f.published[0].Subject); got != "[DRY RUN] Crypto-mining ? paging ? on-call" {
		t.Errorf("subject %q; want the dry-run prefix and ASCII only", got)
	}
	if !strings.HasPrefix(aws.ToString(f.published[0].Message), "[DRY RUN]") {
		t.Error("message does not say it is a dry run")
	}
}

func TestNotifyEvents(t *testing.T) {
	stepFailed := casePayload(`{"event":"step-failed"}`, false)
	stepFailed.Failure = &contract.Failure{Step: "isolate", Action: "isolate-network", Summary: "isolate-network failed",
		Error: &contract.StateError{Error: "PreconditionFailedError", Cause: `{"errorMessage":"precondition failed: no quarantine group","errorType":"PreconditionFailedError"}`}}
	stepFailed.Errors = map[string]contract.StateError{"memory": {Error: "States.Timeout", Cause: "timed out"}}
	unsupported := casePayload(`{"event":"unsupported-launch-type"}`, false)
	unsupported.Target.LaunchType = "EXTERNAL"
	tests := []struct {
		name    string
		p       *contract.Payload
		subject string
		want    []string
	}{
		{"step failed", stepFailed, "step isolate failed",
			[]string{"Step isolate (isolate-network) failed", "PreconditionFailedError: precondition failed: no quarantine group", "memory: States.Timeout: timed out"}},
		{"unsupported", unsupported, "launch type EXTERNAL is not supported", []string{"launch type EXTERNAL", "respond by hand"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, f := handler()
			if _, err := h.Handle(context.Background(), tt.p); err != nil {
				t.Fatal(err)
			}
			msg := aws.ToString(f.published[0].Message)
			if !strings.HasSuffix(aws.ToString(f.published[0].Subject), tt.subject) {
				t.Errorf("subject %q", aws.ToString(f.published[0].Subject))
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message lacks %q:\n%s", w, msg)
				}
			}
			if strings.Contains(msg, "Approvals:") {
				t.Error("the approval URL belongs to playbook notifications only")
			}
		})
	}
}

func TestNotifyResolveFailed(t *testing.T) {
	gd, err := os.ReadFile("../../../examples/inputs/guardduty-ec2-reverse-shell.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, input := range []string{string(gd), `"not even an object"`, `{"taskArn":"arn:evil\n\u0007","dryRun":true}`} {
		h, f := handler()
		p := &contract.Payload{Action: "notify", With: json.RawMessage(`{"event":"resolve-failed"}`), Input: json.RawMessage(input),
			Execution: contract.Execution{ID: execArn}, Error: &contract.StateError{Error: "States.TaskFailed", Cause: "boom"}}
		if _, err := h.Handle(context.Background(), p); err != nil {
			t.Fatalf("input %.30s: %v", input, err)
		}
		in := f.published[0]
		msg := aws.ToString(in.Message)
		if !strings.Contains(msg, "States.TaskFailed: boom") || !strings.Contains(aws.ToString(in.Subject), "execution run-1") {
			t.Errorf("input %.30s: subject %q message:\n%s", input, aws.ToString(in.Subject), msg)
		}
		if _, ok := in.MessageAttributes["caseId"]; ok {
			t.Error("caseId attribute without a case")
		}
		switch {
		case strings.Contains(input, "GuardDuty"):
			if !strings.Contains(msg, "task/batch/5a4b3c2d1e0f49a8b7c6d5e4f3a2b1c0") || aws.ToString(in.MessageAttributes["severity"].StringValue) != "HIGH" {
				t.Errorf("GuardDuty input: task or severity missing:\n%s", msg)
			}
		case strings.Contains(input, "evil"):
			if strings.ContainsAny(jsonBlock(t, msg)["taskArn"].(string), "\n\a") || !strings.HasPrefix(aws.ToString(in.Subject), "[DRY RUN]") {
				t.Errorf("untrusted input reached the message unclean:\n%s", msg)
			}
		}
	}
}

func TestNotifyFitsSNS(t *testing.T) {
	h, f := handler()
	p := casePayload(`{"event":"step-failed"}`, false)
	p.Errors = map[string]contract.StateError{}
	for _, k := range strings.Split("abcdefghijklmnopqrstuvwxyz", "") {
		for _, n := range []string{"1", "2", "3", "4"} {
			p.Errors["step-"+k+n] = contract.StateError{Error: "States.TaskFailed", Cause: strings.Repeat("é", 30000)}
		}
	}
	if _, err := h.Handle(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	msg := aws.ToString(f.published[0].Message)
	if len(msg) > maxMessageBytes-messageAttributesSlack || !strings.Contains(msg, "step-z4") {
		t.Errorf("message of %d bytes; want under %d with every error named", len(msg), maxMessageBytes-messageAttributesSlack)
	}
	jsonBlock(t, msg)
}

func TestNotifyOnce(t *testing.T) {
	detail := `{"evidence":[],"outputs":{"event":"notification","messageId":"msg-0"}}`
	prior := audit.Record{CaseID: "case-1", ExecutionID: execArn, Step: "page", Action: "notify", Event: "result", Status: "OK", Detail: detail}
	otherExec := prior
	otherExec.ExecutionID = "arn:other"
	tests := []struct {
		name  string
		audit *fakeAudit
		sends int
	}{
		{"sent before", &fakeAudit{records: []audit.Record{prior}}, 0},
		{"another execution's", &fakeAudit{records: []audit.Record{otherExec}}, 1},
		{"audit unreadable", &fakeAudit{err: errors.New("boom")}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, f := handler()
			h.Audit = tt.audit
			r, err := h.Handle(context.Background(), casePayload(`{}`, false))
			if err != nil {
				t.Fatal(err)
			}
			if len(f.published) != tt.sends || (tt.sends == 0 && (r.Outputs["messageId"] != "msg-0" || !strings.Contains(r.Summary, "already sent"))) {
				t.Errorf("sent %d; result %+v", len(f.published), r)
			}
		})
	}
}

func TestNotifyErrors(t *testing.T) {
	tests := []struct {
		name, with string
		h          func(h *Handler, f *fakeSNS)
		want       string
	}{
		{"no topic", `{}`, func(h *Handler, _ *fakeSNS) { h.TopicArn = "" }, "PreconditionFailedError"},
		{"throttled", `{}`, func(_ *Handler, f *fakeSNS) { f.err = apiErr("Throttling") }, "RetryableError"},
		{"topic gone", `{}`, func(_ *Handler, f *fakeSNS) { f.err = apiErr("NotFound") }, "PreconditionFailedError"}, // irflow's own topic missing is configuration, not the target
		{"subject too long", `{"subject":"` + strings.Repeat("x", 91) + `"}`, nil, "InvalidInputError"},
		{"subject control", `{"subject":"a\u0007b"}`, nil, "InvalidInputError"},
		{"bad event", `{"event":"Step Failed"}`, nil, "InvalidInputError"},
		{"unknown param", `{"to":"me"}`, nil, "InvalidInputError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, f := handler()
			if tt.h != nil {
				tt.h(h, f)
			}
			_, err := h.Handle(context.Background(), casePayload(tt.with, false))
			if got := contract.ErrorName(err); got != tt.want {
				t.Errorf("error %v (%s); want %s", err, got, tt.want)
			}
		})
	}
}
