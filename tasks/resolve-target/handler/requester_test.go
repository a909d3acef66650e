package handler

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	gdtypes "github.com/aws/aws-sdk-go-v2/service/guardduty/types"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
	start "github.com/irflow/irflow/tasks/start-api/handler"
)

const (
	startTime = "2026-11-20T14:02:12.5Z"
	alice     = "arn:aws:sts::111122223333:assumed-role/Responder/alice"
	mallory   = "arn:aws:sts::111122223333:assumed-role/Responder/mallory"
	smArn     = "arn:aws:states:us-east-1:111122223333:stateMachine:irflow-x"
)

// sampleFinding is the Fargate sample finding, edited by edit.
func sampleFinding(t *testing.T, edit func(detail map[string]any)) string {
	t.Helper()
	raw, err := os.ReadFile("../../../examples/inputs/guardduty-fargate-cryptominer.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(ev["detail"].(map[string]any))
	}
	b, _ := json.Marshal(ev)
	return string(b)
}

// sealed is a console input started by the start API for caller: sealed
// (start.Seal) for execution run-1 of irflow-x at at with the test key.
func sealed(t *testing.T, caller string, at time.Time, input map[string]any) string {
	t.Helper()
	raw, _ := json.Marshal(input)
	out, err := start.Seal(context.Background(), sharedKey, smArn, "run-1", caller, at, raw)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func consoleOf(by string) map[string]any {
	return map[string]any{"taskArn": fargateArn, "reason": "suspicious", "requestedBy": by, "caseId": "case-1"}
}

func startAt(t *testing.T) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, startTime)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// TestRequester: who asked for the response is verified only by the start
// API's envelope or by GuardDuty confirming the finding; a typed-in
// requestedBy is a claim.
func TestRequester(t *testing.T) {
	at := startAt(t)
	tests := []struct {
		name  string
		input string
		with  string
		want  incident.Requester
	}{
		{name: "console input names somebody else", input: `{"taskArn":"` + fargateArn + `","reason":"r","requestedBy":"` + alice + `"}`,
			want: incident.Requester{ID: alice}},
		{name: "started through the start API", input: sealed(t, alice, at.Add(-2*time.Second), consoleOf(alice)),
			want: incident.Requester{ID: alice, Verified: true, Via: incident.ViaStartAPI}},
		{name: "GuardDuty confirms the finding", input: sampleFinding(t, nil),
			want: incident.Requester{ID: "aws.guardduty", Verified: true, Via: incident.ViaGuardDuty}},
		{name: "confirmed finding, triggers.manual false", input: sampleFinding(t, nil), with: `{"manual":false}`,
			want: incident.Requester{ID: "aws.guardduty", Verified: true, Via: incident.ViaGuardDuty}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newWorld()
			with := tt.with
			if with == "" {
				with = `{}`
			}
			r, err := h.Handle(context.Background(), payloadFor(tt.input, with))
			if err != nil {
				t.Fatal(err)
			}
			inc, _ := outputs(t, r)
			if inc.Requester == nil || *inc.Requester != tt.want {
				t.Errorf("requester %+v; want %+v", inc.Requester, tt.want)
			}
		})
	}
}

// TestRequesterRefusals: a finding GuardDuty does not confirm, and a start
// envelope that does not verify, end the execution with INVALID_INPUT
// naming the field; a playbook with triggers.manual false admits only
// confirmed findings.
func TestRequesterRefusals(t *testing.T) {
	at := startAt(t)
	good := sealed(t, alice, at, consoleOf(alice))
	tamper := func(s string, edit func(m map[string]any)) string {
		var m map[string]any
		_ = json.Unmarshal([]byte(s), &m)
		edit(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	tests := []struct {
		name, input, with string
		setup             func(h *Handler)
		want, field       string
		reason            string
	}{
		{name: "hand-made finding with a new detail.id", input: sampleFinding(t, func(d map[string]any) {
			d["id"] = "0000000000000000000000000000beef"
			d["arn"] = "arn:aws:guardduty:us-east-1:111122223333:detector/" + sampleDetector + "/finding/0000000000000000000000000000beef"
		}), want: contract.ErrInvalidInput, field: "detail.id", reason: "has no such finding"},
		{name: "hand-made finding, triggers.manual false", with: `{"manual":false}`, input: sampleFinding(t, func(d map[string]any) {
			d["id"] = "0000000000000000000000000000beef"
			d["arn"] = "arn:aws:guardduty:us-east-1:111122223333:detector/" + sampleDetector + "/finding/0000000000000000000000000000beef"
		}), want: contract.ErrInvalidInput, field: "detail.id"},
		{name: "known finding, another task", input: sampleFinding(t, func(d map[string]any) {
			d["resource"].(map[string]any)["ecsClusterDetails"].(map[string]any)["taskDetails"].(map[string]any)["arn"] = ec2Arn
		}), want: contract.ErrInvalidInput, field: "detail.id", reason: "it names task"},
		{name: "known finding, another type", input: sampleFinding(t, func(d map[string]any) { d["type"] = "Execution:Runtime/ReverseShell" }),
			want: contract.ErrInvalidInput, field: "detail.id", reason: "its type is"},
		{name: "finding ARN names a detector of another region", input: sampleFinding(t, func(d map[string]any) {
			d["arn"] = "arn:aws:guardduty:eu-west-1:111122223333:detector/" + sampleDetector + "/finding/b2c6a1f0e4d94a1f8c7e5d3b2a190817"
		}), want: contract.ErrInvalidInput, field: "detail.id", reason: "does not name a GuardDuty detector"},
		{name: "finding confirmed by the configured detector only", input: sampleFinding(t, nil),
			setup: func(h *Handler) { h.DetectorID = "admin-detector" }, want: contract.ErrInvalidInput, field: "detail.id", reason: "detector admin-detector has no such finding"},
		{name: "GuardDuty access denied", input: sampleFinding(t, nil),
			setup: func(h *Handler) { h.GuardDuty.(*fakeGuardDuty).err = apiErr{"AccessDeniedException"} }, want: contract.ErrPreconditionFailed},
		{name: "GuardDuty throttled", input: sampleFinding(t, nil),
			setup: func(h *Handler) { h.GuardDuty.(*fakeGuardDuty).err = apiErr{"TooManyRequestsException"} }, want: contract.ErrRetryable},
		{name: "console input, triggers.manual false", input: consoleInput(fargateArn, false), with: `{"manual":false}`,
			want: contract.ErrInvalidInput, field: "input"},
		{name: "start API input, triggers.manual false", input: good, with: `{"manual":false}`, want: contract.ErrInvalidInput, field: "input"},
		{name: "envelope kept, reason changed", input: tamper(good, func(m map[string]any) { m["reason"] = "nothing" }),
			want: contract.ErrInvalidInput, field: "irflowStart.mac", reason: "does not verify"},
		{name: "envelope kept, dry run turned on", input: tamper(good, func(m map[string]any) { m["dryRun"] = true }),
			want: contract.ErrInvalidInput, field: "irflowStart.mac"},
		{name: "envelope of another caller", input: tamper(good, func(m map[string]any) {
			m["requestedBy"] = mallory
			m["irflowStart"].(map[string]any)["caller"] = mallory
		}), want: contract.ErrInvalidInput, field: "irflowStart.mac"},
		{name: "requestedBy differs from the caller", input: tamper(good, func(m map[string]any) { m["requestedBy"] = mallory }),
			want: contract.ErrInvalidInput, field: "irflowStart.caller"},
		{name: "envelope of another key", input: tamper(good, func(m map[string]any) {
			m["irflowStart"].(map[string]any)["keyId"] = "arn:aws:kms:us-east-1:111122223333:key/mine"
		}), want: contract.ErrInvalidInput, field: "irflowStart.keyId"},
		{name: "envelope replayed much later", input: sealed(t, alice, at.Add(-time.Hour), consoleOf(alice)),
			want: contract.ErrInvalidInput, field: "irflowStart.at"},
		{name: "malformed envelope", input: tamper(good, func(m map[string]any) { m["irflowStart"] = "trust me" }),
			want: contract.ErrInvalidInput, field: "irflowStart"},
		{name: "no MAC key to check the envelope", input: good, setup: func(h *Handler) { h.MAC = nil }, want: contract.ErrPreconditionFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, db := newWorld()
			if tt.setup != nil {
				tt.setup(h)
			}
			handleRefused(t, h, tt.input, tt.with, tt.want, tt.field, tt.reason)
			if len(db.puts) != 0 {
				t.Errorf("a refused input claimed a case or took a lock: %d puts", len(db.puts))
			}
		})
	}
}

// TestEnvelopeReplayedOnAnotherExecution: the envelope binds the
// execution name and state machine; copied into another execution's
// input it does not verify.
func TestEnvelopeReplayedOnAnotherExecution(t *testing.T) {
	at := startAt(t)
	h, _ := newWorld()
	p := payloadFor(sealed(t, alice, at, consoleOf(alice)), `{}`)
	p.Execution.Name, p.Execution.ID = "run-2", strings.Replace(p.Execution.ID, "run-1", "run-2", 1)
	_, err := h.Handle(context.Background(), p)
	var ii *contract.InvalidInputError
	if !errors.As(err, &ii) || ii.Field != "irflowStart.mac" {
		t.Errorf("replayed envelope: %v; want irflowStart.mac refused", err)
	}
}

// TestCaseClaimedByAnotherExecution: a second execution with the case id
// of another (a console caseId reused, GuardDuty re-publishing a finding
// after the lock was released) gets DUPLICATE and takes no lock.
func TestCaseClaimedByAnotherExecution(t *testing.T) {
	h, db := newWorld()
	db.put = func(in *dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) {
		if strings.HasPrefix(pkOf(in.Item), "case#") {
			if aws.ToString(in.ConditionExpression) != condCaseFree {
				t.Errorf("case claim condition %s", aws.ToString(in.ConditionExpression))
			}
			return nil, &ddbtypes.ConditionalCheckFailedException{}
		}
		return &dynamodb.PutItemOutput{}, nil
	}
	db.get = func(in *dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
		if pkOf(in.Key) != "case#gd-b2c6a1f0e4d94a1f8c7e5d3b2a190817" {
			t.Errorf("read %v; want the case claim", in.Key)
		}
		return &dynamodb.GetItemOutput{Item: map[string]ddbtypes.AttributeValue{"executionId": str("exec-first")}}, nil
	}
	_, err := h.Handle(context.Background(), payloadFor(sampleFinding(t, nil), `{}`))
	var dup *contract.DuplicateIncidentError
	if !errors.As(err, &dup) || !dup.CaseTaken || dup.Execution != "exec-first" || dup.ExistingCase != "gd-b2c6a1f0e4d94a1f8c7e5d3b2a190817" {
		t.Fatalf("got %v; want DuplicateIncidentError naming exec-first", err)
	}
	if len(db.taskPuts()) != 0 || len(db.dels) != 0 {
		t.Errorf("took the task lock (%d) or released a claim it does not hold (%d)", len(db.taskPuts()), len(db.dels))
	}
}

// TestCaseClaimItem: the claim stores the execution, when it started, the
// task and the requester, under case#<caseId>.
func TestCaseClaimItem(t *testing.T) {
	h, db := newWorld()
	h.GuardDuty = &fakeGuardDuty{findings: map[string][]gdtypes.Finding{}}
	if _, err := h.Handle(context.Background(), payloadFor(consoleInput(fargateArn, false), `{}`)); err != nil {
		t.Fatal(err)
	}
	c := db.puts[0]
	if pkOf(c.Item) != "case#run-1" || attr(c.Item, "executionId") != payloadFor("", "").Execution.ID || attr(c.Item, "taskArn") != fargateArn ||
		attr(c.Item, "requester") != "arn:aws:iam::111122223333:role/Analyst" || attr(c.Item, "startedAt") == "" {
		t.Errorf("claim item %v", c.Item)
	}
	if _, ok := c.Item["expiresAt"]; ok {
		t.Error("a case claim must never expire")
	}
}
