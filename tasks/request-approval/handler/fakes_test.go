package handler

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
)

type fakeDB struct {
	put    func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error)
	get    func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error)
	update func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error)
	puts   []*dynamodb.PutItemInput
	upds   []*dynamodb.UpdateItemInput
}

var _ dynamoAPI = (*fakeDB)(nil)

func (f *fakeDB) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	f.puts = append(f.puts, in)
	if f.put == nil {
		return &dynamodb.PutItemOutput{}, nil
	}
	return f.put(in)
}

func (f *fakeDB) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if f.get == nil {
		return &dynamodb.GetItemOutput{}, nil
	}
	return f.get(in)
}

func (f *fakeDB) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	f.upds = append(f.upds, in)
	if f.update == nil {
		return &dynamodb.UpdateItemOutput{}, nil
	}
	return f.update(in)
}

type fakeSNS struct {
	publish func(*sns.PublishInput) (*sns.PublishOutput, error)
	sent    []*sns.PublishInput
}

var _ snsAPI = (*fakeSNS)(nil)

func (f *fakeSNS) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	f.sent = append(f.sent, in)
	if f.publish == nil {
		return &sns.PublishOutput{}, nil
	}
	return f.publish(in)
}

type fakeAudit struct {
	mu      sync.Mutex
	records []audit.Record
}

var _ audit.Auditor = (*fakeAudit)(nil)

func (f *fakeAudit) Append(_ context.Context, r audit.Record) (audit.Record, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r.Seq = int64(len(f.records) + 1)
	f.records = append(f.records, r)
	return r, nil
}

func ccf() error {
	msg := "The conditional request failed"
	return &ddbtypes.ConditionalCheckFailedException{Message: &msg}
}

const (
	token     = "AAAA-secret-task-token-ZZZZ"
	execID    = "arn:aws:states:us-east-1:123456789012:execution:irflow-crypto-mining:case-7"
	icRole    = "arn:aws:iam::123456789012:role/IncidentCommander"
	requester = "arn:aws:iam::123456789012:role/Responder"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// payload is a gate's payload as the generated state sends it.
func payload(mode string, with map[string]any) *contract.Payload {
	if with == nil {
		with = map[string]any{"prompt": "Isolate and stop the task?", "approvers": []string{icRole},
			"timeoutSeconds": 1800, "onTimeout": "reject", "allowSelfApproval": false}
	}
	w, _ := json.Marshal(with)
	p := &contract.Payload{Action: "request-approval", Step: "approve-containment", Mode: mode, With: w,
		Incident: &incident.Incident{CaseID: "case-7", Source: "manual", TaskArn: "arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef",
			Reason: "miner seen in flow logs", RequestedBy: requester, Account: "123456789012", Region: "us-east-1", Partition: "aws"},
		Target:    &incident.Target{LaunchType: "FARGATE"},
		Execution: contract.Execution{ID: execID, Name: "case-7"},
	}
	if mode == ModeRequest {
		p.TaskToken = token
	}
	return p
}

func newHandler(db *fakeDB, s *fakeSNS, a *fakeAudit) *Handler {
	return &Handler{DB: db, SNS: s, Audit: a, Table: "approvals", TopicArn: "arn:aws:sns:us-east-1:123456789012:irflow",
		ApprovalURL: "https://abc.lambda-url.us-east-1.on.aws/", Now: func() time.Time { return t0 }}
}
