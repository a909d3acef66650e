package handler

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
)

// recordingAuditor keeps what is appended, or fails.
type recordingAuditor struct {
	records []audit.Record
	err     error
}

func (a *recordingAuditor) AppendOpen(_ context.Context, r audit.Record) (audit.Record, error) {
	if a.err != nil {
		return r, a.err
	}
	a.records = append(a.records, r)
	return r, nil
}

// TestJoinOncePerExecution: a joining finding is appended to the open
// case's chain with its finding and task, then marked (join#<execution>);
// a retry that finds the marker appends nothing; an append that fails
// writes no marker and fails (the retry appends it).
func TestJoinOncePerExecution(t *testing.T) {
	markers := map[string]bool{}
	db := &fakeDB{
		get: func(in *dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
			if markers[pkOf(in.Key)] {
				return &dynamodb.GetItemOutput{Item: in.Key}, nil
			}
			return &dynamodb.GetItemOutput{}, nil
		},
		put: func(in *dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) {
			markers[pkOf(in.Item)] = true
			return &dynamodb.PutItemOutput{}, nil
		},
	}
	au := &recordingAuditor{}
	l := &lock{DB: db, Table: "incidents", Now: func() time.Time { return time.Unix(1_800_000_000, 0) }, Audit: au}
	inc := &incident.Incident{CaseID: "gd-join", TaskArn: "arn:aws:ecs:us-east-1:123456789012:task/c/t2",
		Finding: &incident.Finding{ID: "f-2", Type: "Impact:Runtime/CryptoMinerExecuted", Severity: 8}}
	tg := &incident.Target{Service: "checkout", TaskArn: inc.TaskArn}
	co := &contract.CorrelatedError{ExistingCase: "gd-first", Key: "corr#x/checkout"}
	exec := "arn:aws:states:us-east-1:123456789012:execution:irflow-x:e2"

	au.err = errors.New("throttled")
	if err := l.join(context.Background(), inc, tg, exec, co); err == nil || markers[incident.JoinKey(exec)] {
		t.Fatalf("a failed append: %v, marker %v; want the error and no marker", err, markers)
	}
	au.err = nil
	for run := 1; run <= 2; run++ {
		if err := l.join(context.Background(), inc, tg, exec, co); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
	}
	if len(au.records) != 1 {
		t.Fatalf("%d records; want 1", len(au.records))
	}
	r := au.records[0]
	if r.CaseID != "gd-first" || r.Event != EventFindingJoined || r.ExecutionID != exec || !strings.Contains(r.Detail, `"id":"f-2"`) ||
		!strings.Contains(r.Detail, inc.TaskArn) || !strings.Contains(r.Summary, "finding f-2") {
		t.Errorf("record %+v", r)
	}
	if !markers[incident.JoinKey(exec)] {
		t.Errorf("no marker: %v", markers)
	}
	var exp *ddbtypes.AttributeValueMemberN
	for _, p := range db.puts {
		if pkOf(p.Item) == incident.JoinKey(exec) {
			exp, _ = p.Item["expiresAt"].(*ddbtypes.AttributeValueMemberN)
		}
	}
	if exp == nil || exp.Value != "1800086400" {
		t.Errorf("marker expiresAt %v; want a day later", exp)
	}
}

// TestJoinClosedCase: a finding whose case was finalized while it joined
// is not recorded there and is retried (RetryableError): the retry finds
// the service's item released and opens a case of its own.
func TestJoinClosedCase(t *testing.T) {
	db := &fakeDB{}
	au := &recordingAuditor{err: &audit.ClosedError{CaseID: "gd-first"}}
	l := &lock{DB: db, Table: "incidents", Now: time.Now, Audit: au}
	inc := &incident.Incident{CaseID: "gd-late", TaskArn: "arn:aws:ecs:us-east-1:123456789012:task/c/t3"}
	err := l.join(context.Background(), inc, &incident.Target{Service: "checkout"}, "exec-late", &contract.CorrelatedError{ExistingCase: "gd-first"})
	var re *contract.RetryableError
	if !errors.As(err, &re) || len(au.records) != 0 {
		t.Fatalf("got %v, %d records; want a RetryableError and nothing recorded", err, len(au.records))
	}
	for _, p := range db.puts {
		if pkOf(p.Item) == incident.JoinKey("exec-late") {
			t.Errorf("a join marker was written for a join that did not land")
		}
	}
}
