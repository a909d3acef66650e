package handler

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/irflow/irflow/tasks/approval-api/approval"
	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
)

func TestRequest(t *testing.T) {
	db, s, a := &fakeDB{}, &fakeSNS{}, &fakeAudit{}
	res, err := newHandler(db, s, a).Handle(context.Background(), payload(ModeRequest, nil))
	if err != nil {
		t.Fatal(err)
	}
	id := approval.ID(execID, "approve-containment")
	if len(db.puts) != 1 || *db.puts[0].ConditionExpression != "attribute_not_exists(approvalId)" {
		t.Fatalf("puts %+v", db.puts)
	}
	stored, err := approval.FromItem(db.puts[0].Item)
	if err != nil {
		t.Fatal(err)
	}
	want := approval.Approval{ID: id, CaseID: "case-7", ExecutionID: execID, Step: "approve-containment",
		StateMachine: "arn:aws:states:us-east-1:123456789012:stateMachine:irflow-crypto-mining", LaunchType: "FARGATE",
		RequestedBy: requester, OnTimeout: "reject", TimeoutSeconds: 1800, Status: approval.StatusPending,
		ExpiresAt: t0.Add(30 * time.Minute), TaskToken: token, Attempts: 1}
	if stored.ID != want.ID || stored.CaseID != want.CaseID || stored.StateMachine != want.StateMachine || stored.LaunchType != want.LaunchType ||
		stored.RequestedBy != want.RequestedBy || stored.OnTimeout != want.OnTimeout || stored.Status != want.Status ||
		!stored.ExpiresAt.Equal(want.ExpiresAt) || stored.TaskToken != token || stored.Attempts != 1 ||
		len(stored.Approvers) != 1 || stored.Approvers[0] != icRole || stored.AllowSelfApproval {
		t.Errorf("stored %+v", stored)
	}
	if res.Outputs["approvalId"] != id || res.Outputs["notified"] != true || res.Status != contract.StatusOK {
		t.Errorf("result %+v", res)
	}
	if len(s.sent) != 1 {
		t.Fatalf("%d messages", len(s.sent))
	}
	msg := *s.sent[0].Message
	for _, want := range []string{"irflow approve " + id + ` --reason "why"`, "--reject", "https://abc.lambda-url.us-east-1.on.aws/approvals/" + id,
		"Isolate and stop the task?", icRole, requester, "2026-11-25T12:30:00Z", "Four eyes"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if len(*s.sent[0].Subject) > maxSubject || !strings.Contains(*s.sent[0].Subject, "case-7") {
		t.Errorf("subject %q", *s.sent[0].Subject)
	}
	if len(a.records) != 1 || a.records[0].Event != "approval-requested" || !strings.Contains(a.records[0].Detail, id) {
		t.Errorf("audit %+v", a.records)
	}
	for _, text := range []string{msg, *s.sent[0].Subject, a.records[0].Detail, a.records[0].Summary, res.Summary} {
		if strings.Contains(text, token) {
			t.Errorf("the token leaked into %q", text)
		}
	}
}

func TestRequestApprovers(t *testing.T) {
	tests := []struct {
		name      string
		approvers []string
		defaults  []string
		want      []string
		fails     bool
	}{
		{"the gate's", []string{icRole}, []string{"arn:aws:iam::123456789012:role/Default"}, []string{icRole}, false},
		{"the defaults when the gate names none", []string{}, []string{"arn:aws:iam::123456789012:role/Default"}, []string{"arn:aws:iam::123456789012:role/Default"}, false},
		{"non-principals ignored", []string{"ops@example.com", icRole, "arn:aws:iam::123456789012:role/*"}, nil, []string{icRole}, false},
		{"none at all", []string{}, nil, nil, true},
		{"none valid", []string{"ops@example.com"}, nil, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := &fakeDB{}
			h := newHandler(db, &fakeSNS{}, &fakeAudit{})
			h.DefaultApprovers = tt.defaults
			_, err := h.Handle(context.Background(), payload(ModeRequest, map[string]any{"prompt": "go?", "approvers": tt.approvers,
				"timeoutSeconds": 600, "onTimeout": "reject"}))
			var pf *contract.PreconditionFailedError
			if tt.fails {
				if !errors.As(err, &pf) || len(db.puts) != 0 {
					t.Fatalf("error %v (%d puts); want PreconditionFailedError and nothing stored", err, len(db.puts))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := approval.FromItem(db.puts[0].Item)
			if strings.Join(got.Approvers, ",") != strings.Join(tt.want, ",") {
				t.Errorf("approvers %v; want %v", got.Approvers, tt.want)
			}
		})
	}
}

// TestRequestRetried: Step Functions retried the request with a new token;
// the pending approval takes it.
func TestRequestRetried(t *testing.T) {
	db := &fakeDB{put: func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) { return nil, ccf() }}
	db.update = func(in *dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
		a := approval.Approval{ID: approval.ID(execID, "approve-containment"), CaseID: "case-7", Step: "approve-containment",
			Status: approval.StatusPending, Attempts: 2, Approvers: []string{icRole}, ExpiresAt: t0.Add(time.Hour), TaskToken: "new"}
		item, _ := a.Item()
		return &dynamodb.UpdateItemOutput{Attributes: item}, nil
	}
	res, err := newHandler(db, &fakeSNS{}, &fakeAudit{}).Handle(context.Background(), payload(ModeRequest, nil))
	if err != nil {
		t.Fatal(err)
	}
	up := db.upds[0]
	if *up.ConditionExpression != "#status = :pending" || up.ExpressionAttributeValues[":token"].(*ddbtypes.AttributeValueMemberS).Value != token {
		t.Errorf("update %s / %v", *up.ConditionExpression, up.ExpressionAttributeValues)
	}
	if res.Outputs["attempt"] != 2 {
		t.Errorf("attempt %v", res.Outputs["attempt"])
	}
}

// TestRequestAfterDecision: a decided approval is never reopened.
func TestRequestAfterDecision(t *testing.T) {
	decided := approval.Approval{ID: approval.ID(execID, "approve-containment"), Status: approval.StatusApproved,
		DecidedBy: "arn:aws:sts::123456789012:assumed-role/IncidentCommander/alice", Approvers: []string{icRole}}
	item, _ := decided.Item()
	db := &fakeDB{
		put:    func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) { return nil, ccf() },
		update: func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) { return nil, ccf() },
		get: func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
			return &dynamodb.GetItemOutput{Item: item}, nil
		},
	}
	s := &fakeSNS{}
	_, err := newHandler(db, s, &fakeAudit{}).Handle(context.Background(), payload(ModeRequest, nil))
	var pf *contract.PreconditionFailedError
	if !errors.As(err, &pf) || !strings.Contains(err.Error(), "alice") || len(s.sent) != 0 {
		t.Errorf("error %v, %d messages; want PreconditionFailedError naming the decision and no message", err, len(s.sent))
	}
}

func TestRequestInvalid(t *testing.T) {
	ok := map[string]any{"prompt": "go?", "approvers": []string{icRole}, "timeoutSeconds": 600, "onTimeout": "reject"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for kk, vv := range ok {
			m[kk] = vv
		}
		m[k] = v
		return m
	}
	tests := []struct {
		name  string
		p     *contract.Payload
		field string
	}{
		{"no prompt", payload(ModeRequest, with("prompt", "")), "with.prompt"},
		{"bad onTimeout", payload(ModeRequest, with("onTimeout", "ignore")), "with.onTimeout"},
		{"no timeout", payload(ModeRequest, with("timeoutSeconds", 0)), "with.timeoutSeconds"},
		{"unknown parameter", payload(ModeRequest, with("approver", "x")), "with.approver"},
		{"no token", func() *contract.Payload { p := payload(ModeRequest, ok); p.TaskToken = ""; return p }(), "taskToken"},
		{"no mode", payload("", ok), "mode"},
		{"no step", func() *contract.Payload { p := payload(ModeRequest, ok); p.Step = ""; return p }(), "step"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newHandler(&fakeDB{}, &fakeSNS{}, &fakeAudit{}).Handle(context.Background(), tt.p)
			var ii *contract.InvalidInputError
			if !errors.As(err, &ii) || ii.Field != tt.field {
				t.Errorf("error %v; want InvalidInputError on %s", err, tt.field)
			}
		})
	}
}

func TestNoTopic(t *testing.T) {
	s := &fakeSNS{}
	h := newHandler(&fakeDB{}, s, &fakeAudit{})
	h.TopicArn = ""
	res, err := h.Handle(context.Background(), payload(ModeRequest, nil))
	if err != nil || res.Outputs["notified"] != false || len(s.sent) != 0 {
		t.Errorf("res %+v, err %v, %d messages", res, err, len(s.sent))
	}
}

func TestTimeout(t *testing.T) {
	for _, onTimeout := range []string{"reject", "approve"} {
		t.Run(onTimeout, func(t *testing.T) {
			db, a := &fakeDB{}, &fakeAudit{}
			res, err := newHandler(db, &fakeSNS{}, a).Handle(context.Background(), payload(ModeTimeout,
				map[string]any{"prompt": "go?", "approvers": []string{icRole}, "timeoutSeconds": 1800, "onTimeout": onTimeout}))
			if err != nil {
				t.Fatal(err)
			}
			up := db.upds[0]
			if *up.ConditionExpression != "#status = :pending" || !strings.Contains(*up.UpdateExpression, "REMOVE taskToken") ||
				up.ExpressionAttributeValues[":timedOut"].(*ddbtypes.AttributeValueMemberS).Value != approval.StatusTimedOut {
				t.Errorf("update %s if %s", *up.UpdateExpression, *up.ConditionExpression)
			}
			if res.Outputs["approved"] != (onTimeout == "approve") || res.Outputs["approver"] != "timeout" || res.Outputs["decidedAt"] == "" ||
				res.Outputs["timedOut"] != true {
				t.Errorf("outputs %v", res.Outputs)
			}
			if len(a.records) != 1 || a.records[0].Event != "approval-timeout" || !strings.Contains(a.records[0].Summary, "onTimeout "+onTimeout) {
				t.Errorf("audit %+v", a.records)
			}
		})
	}
}

// TestTimeoutAfterLateDecision: the gate timed out although a decision was
// recorded (it did not reach Step Functions in time); the audit says so.
func TestTimeoutAfterLateDecision(t *testing.T) {
	late := approval.Approval{ID: approval.ID(execID, "approve-containment"), Status: approval.StatusApproved, Decision: "approve",
		DecidedBy: "arn:aws:sts::123456789012:assumed-role/IncidentCommander/alice", Approvers: []string{icRole}}
	item, _ := late.Item()
	db := &fakeDB{
		update: func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) { return nil, ccf() },
		get: func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
			return &dynamodb.GetItemOutput{Item: item}, nil
		},
	}
	a := &fakeAudit{}
	res, err := newHandler(db, &fakeSNS{}, a).Handle(context.Background(), payload(ModeTimeout, nil))
	if err != nil {
		t.Fatal(err)
	}
	if res.Outputs["approved"] != false || !strings.Contains(a.records[0].Detail, "lateDecision") || !strings.Contains(res.Summary, "alice") {
		t.Errorf("result %+v, audit %s", res, a.records[0].Detail)
	}
}

// TestRequiredApprovals: the gate stores how many distinct approvers it
// needs: one for a verified requester, two for a claimed one, the
// playbook's number when higher; and it says so to the approvers.
func TestRequiredApprovals(t *testing.T) {
	tests := []struct {
		name      string
		requester *incident.Requester
		min       int
		want      int
	}{
		{"claimed requester (no requester established)", nil, 0, 2},
		{"claimed requester", &incident.Requester{ID: requester}, 0, 2},
		{"started through the start API", &incident.Requester{ID: requester, Verified: true, Via: incident.ViaStartAPI}, 0, 1},
		{"confirmed GuardDuty finding", &incident.Requester{ID: "aws.guardduty", Verified: true, Via: incident.ViaGuardDuty}, 0, 1},
		{"playbook asks for three", &incident.Requester{ID: requester, Verified: true, Via: incident.ViaStartAPI}, 3, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, s := &fakeDB{}, &fakeSNS{}
			with := map[string]any{"prompt": "Isolate?", "approvers": []string{icRole}, "timeoutSeconds": 1800, "onTimeout": "reject"}
			if tt.min > 0 {
				with["minApprovers"] = tt.min
			}
			p := payload(ModeRequest, with)
			p.Incident.Requester = tt.requester
			res, err := newHandler(db, s, &fakeAudit{}).Handle(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			stored, _ := approval.FromItem(db.puts[0].Item)
			if stored.RequiredApprovals != tt.want || res.Outputs["requiredApprovals"] != tt.want ||
				stored.RequesterVerified != (tt.requester != nil && tt.requester.Verified) {
				t.Errorf("stored %d (verified %v), outputs %v; want %d", stored.RequiredApprovals, stored.RequesterVerified, res.Outputs["requiredApprovals"], tt.want)
			}
			msg := *s.sent[0].Message
			if tt.want > 1 != strings.Contains(msg, "distinct approvers must approve") {
				t.Errorf("the message does not say how many approvers must approve:\n%s", msg)
			}
			if (tt.requester == nil || !tt.requester.Verified) != strings.Contains(msg, "not verified") {
				t.Errorf("the message does not say whether the requester was verified:\n%s", msg)
			}
		})
	}
}

// chainOf serves fixed records as the case's chain.
type chainOf []audit.Record

func (c chainOf) Read(context.Context, string) ([]audit.Record, error) { return c, nil }

// TestRequestCoversCaseTasks: the gate lists every task its decision
// covers: the run's task, this execution's find-siblings sameImage list
// (another execution's is not this run's), then the tasks of findings that
// joined the case, each once; the message shows them.
func TestRequestCoversCaseTasks(t *testing.T) {
	own := "arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef"
	s1, s2, s3 := "arn:aws:ecs:us-east-1:123456789012:task/prod/s1", "arn:aws:ecs:us-east-1:123456789012:task/prod/s2", "arn:aws:ecs:us-east-1:123456789012:task/prod/s3"
	held := "arn:aws:ecs:us-east-1:123456789012:task/prod/held"
	db, s, a := &fakeDB{}, &fakeSNS{}, &fakeAudit{}
	h := newHandler(db, s, a)
	h.Records = chainOf{
		{Event: "result", Action: "find-siblings", ExecutionID: execID, Detail: `{"outputs":{"siblings":{"sameImage":["` + s1 + `","` + s2 + `"],"sameFamily":["x"],"excluded":["` + held + `"]}}}`},
		{Event: "result", Action: "find-siblings", ExecutionID: execID + "-other", Detail: `{"outputs":{"siblings":{"sameImage":["` + s3 + `x"]}}}`},
		{Event: EventFindingJoined, ExecutionID: "e2", Detail: `{"taskArn":"` + s2 + `"}`},
		{Event: EventFindingJoined, ExecutionID: "e3", Detail: `{"taskArn":"` + s3 + `"}`},
		{Event: EventFindingJoined, ExecutionID: "e4", Detail: `{"taskArn":"` + own + `"}`},
		{Event: EventFindingJoined, ExecutionID: "e5", Detail: `{"taskArn":"` + held + `"}`},
	}
	if _, err := h.Handle(context.Background(), payload(ModeRequest, nil)); err != nil {
		t.Fatal(err)
	}
	stored, err := approval.FromItem(db.puts[0].Item)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{own, s1, s2, s3}
	if strings.Join(stored.Tasks, ",") != strings.Join(want, ",") || stored.TasksTruncated {
		t.Errorf("tasks %v (truncated %v); want %v", stored.Tasks, stored.TasksTruncated, want)
	}
	if len(stored.LeftAlone) != 1 || stored.LeftAlone[0] != held || slices.Contains(stored.Tasks, held) {
		t.Errorf("left alone %v, tasks %v; want %s left alone and not covered", stored.LeftAlone, stored.Tasks, held)
	}
	msg := *s.sent[0].Message
	for _, w := range append(want, "4 tasks", "Left alone:", "1 task(s) the playbook's exclude: tags keep out", held) {
		if !strings.Contains(msg, w) {
			t.Errorf("message lacks %q:\n%s", w, msg)
		}
	}
}
