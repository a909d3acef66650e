package handler

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/irflow/irflow/tasks/funcurl"
	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/mac"
	"github.com/irflow/irflow/tasks/mac/mactest"
)

const (
	prefix = "arn:aws:states:us-east-1:123456789012:stateMachine:irflow-"
	task   = "arn:aws:ecs:us-east-1:123456789012:task/payments/0f8e7d6c5b4a39281706f5e4d3c2b1a0"
	alice  = "arn:aws:sts::123456789012:assumed-role/Responder/alice"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

type fakeSFN struct {
	err    error
	starts []*sfn.StartExecutionInput
}

func (f *fakeSFN) StartExecution(_ context.Context, in *sfn.StartExecutionInput, _ ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error) {
	f.starts = append(f.starts, in)
	if f.err != nil {
		return nil, f.err
	}
	return &sfn.StartExecutionOutput{ExecutionArn: aws.String(strings.Replace(aws.ToString(in.StateMachineArn), ":stateMachine:", ":execution:", 1) + ":" + aws.ToString(in.Name))}, nil
}

func newTest() (*Handler, *fakeSFN, *mac.Key) {
	key, _ := mactest.Key("arn:aws:kms:us-east-1:123456789012:key/hmac")
	f := &fakeSFN{}
	return &Handler{SFN: f, MAC: key, StateMachinePrefix: prefix, Now: func() time.Time { return t0 }}, f, key
}

func request(method, path, body, caller string) events.LambdaFunctionURLRequest {
	return funcurl.Request(method, path, body, caller, "123456789012")
}

// TestStart: the caller the signed request proves is the requester; the
// execution is named after the case and its input is sealed for exactly
// this state machine and execution, which resolve-target verifies.
func TestStart(t *testing.T) {
	h, f, key := newTest()
	resp, _ := h.HandleURL(context.Background(), request("POST", "/start",
		`{"playbook":"crypto-mining","taskArn":"`+task+`","reason":"miner in flow logs","dryRun":true,"caseId":"case-1"}`, alice))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, resp.Body)
	}
	var res Response
	_ = json.Unmarshal([]byte(resp.Body), &res)
	if res.RequestedBy != alice || res.CaseID != "case-1" || res.StateMachineArn != prefix+"crypto-mining" || !strings.HasSuffix(res.ExecutionArn, ":case-1") {
		t.Errorf("answer %+v", res)
	}
	in := f.starts[0]
	if aws.ToString(in.Name) != "case-1" || aws.ToString(in.StateMachineArn) != prefix+"crypto-mining" {
		t.Errorf("started %s as %s", aws.ToString(in.StateMachineArn), aws.ToString(in.Name))
	}
	raw := []byte(aws.ToString(in.Input))
	inc, err := incident.Normalize(raw, incident.Execution{Name: "case-1", StartTime: t0})
	if err != nil || inc.RequestedBy != alice || !inc.DryRun || inc.CaseID != "case-1" {
		t.Fatalf("the started input %s: %+v, %v", raw, inc, err)
	}
	env, digest, err := incident.StartEnvelopeOf(raw)
	if err != nil || env == nil || env.Caller != alice || env.KeyID != key.ID {
		t.Fatalf("envelope %+v, %v", env, err)
	}
	ok, err := key.Verify(context.Background(), env.MAC, mac.PurposeStart, incident.StartMACFields(prefix+"crypto-mining", "case-1", env, digest)...)
	if err != nil || !ok {
		t.Errorf("the envelope's MAC does not verify: %v", err)
	}
	if ok, _ := key.Verify(context.Background(), env.MAC, mac.PurposeStart, incident.StartMACFields(prefix+"crypto-mining", "case-2", env, digest)...); ok {
		t.Error("the envelope verifies for another execution")
	}
}

func TestStartRefusals(t *testing.T) {
	good := func(edit func(m map[string]any)) string {
		m := map[string]any{"playbook": "crypto-mining", "taskArn": task, "reason": "r", "caseId": "case-1"}
		if edit != nil {
			edit(m)
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	tests := []struct {
		name, method, path, body, caller string
		sfnErr                           error
		status                           int
		code, field                      string
	}{
		{name: "no identity", body: good(nil), status: 403, code: CodeNoIdentity},
		{name: "identity of another account", body: good(nil), caller: "arn:aws:sts::210987654321:assumed-role/Responder/alice", status: 403, code: CodeNoIdentity},
		{name: "requestedBy typed in", body: good(func(m map[string]any) { m["requestedBy"] = "arn:aws:iam::123456789012:user/bob" }), caller: alice,
			status: 400, code: CodeBadRequest},
		{name: "an envelope typed in", body: good(func(m map[string]any) { m["irflowStart"] = map[string]any{} }), caller: alice, status: 400, code: CodeBadRequest},
		{name: "task is not an ARN", body: good(func(m map[string]any) { m["taskArn"] = "payments/0f8e" }), caller: alice, status: 400, code: CodeInvalidInput, field: "taskArn"},
		{name: "reason with an escape", body: good(func(m map[string]any) { m["reason"] = "ok\x1b[2J" }), caller: alice, status: 400, code: CodeInvalidInput, field: "reason"},
		{name: "bad case id", body: good(func(m map[string]any) { m["caseId"] = "-x" }), caller: alice, status: 400, code: CodeInvalidInput, field: "caseId"},
		{name: "bad playbook", body: good(func(m map[string]any) { m["playbook"] = "../x" }), caller: alice, status: 400, code: CodeInvalidInput, field: "playbook"},
		{name: "unknown playbook", body: good(nil), caller: alice, sfnErr: &sfntypes.StateMachineDoesNotExist{Message: aws.String("nope")},
			status: 404, code: CodeUnknown, field: "playbook"},
		{name: "case already started", body: good(nil), caller: alice, sfnErr: &sfntypes.ExecutionAlreadyExists{Message: aws.String("exists")},
			status: 409, code: CodeDuplicate, field: "caseId"},
		{name: "wrong method", method: "GET", body: "", caller: alice, status: 405, code: CodeBadRequest},
		{name: "wrong path", path: "/approvals", body: good(nil), caller: alice, status: 404, code: CodeBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, f, _ := newTest()
			f.err = tt.sfnErr
			method, path := tt.method, tt.path
			if method == "" {
				method = "POST"
			}
			if path == "" {
				path = "/start"
			}
			resp, _ := h.HandleURL(context.Background(), request(method, path, tt.body, tt.caller))
			var e ErrorResponse
			_ = json.Unmarshal([]byte(resp.Body), &e)
			if resp.StatusCode != tt.status || e.Code != tt.code || e.Field != tt.field || e.Message == "" {
				t.Errorf("got %d %s; want %d %s field %q", resp.StatusCode, resp.Body, tt.status, tt.code, tt.field)
			}
			if tt.sfnErr == nil && len(f.starts) != 0 {
				t.Errorf("a refused request started an execution")
			}
			if strings.ContainsRune(resp.Body, 0x1b) {
				t.Errorf("the answer carries a raw ESC: %q", resp.Body)
			}
		})
	}
}
