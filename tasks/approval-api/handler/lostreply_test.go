package handler

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/irflow/irflow/tasks/approval-api/approval"
	"github.com/irflow/irflow/tasks/taskrt"
)

// sfnStub is Step Functions for one waiting gate, over HTTP, for the real
// SDK client: SendTaskSuccess and SendTaskFailure apply to the gate's
// token once (later sends are refused as Step Functions refuses a used
// token), and GetExecutionHistory answers from what happened. lose decides
// what becomes of the answer to each send.
type sfnStub struct {
	*httptest.Server
	t       *testing.T
	mu      sync.Mutex
	token   string
	state   string // the gate's state name
	applied string // "" waiting; "success" or "failure"
	output  string // the success output, or the failure cause
	errName string
	// lose(n) says what happens to send n (1-based): "" answer normally,
	// "reset" apply then reset the connection, "500" apply then answer
	// 500, "drop" reset the connection without applying.
	lose func(n int) string
	// refusal is the error a used token gets: TaskTimedOut or InvalidToken.
	refusal string
	// history: "" serve it, "denied" refuse (AccessDeniedException).
	history string
	sends   int
	reads   int
}

func newSFNStub(t *testing.T, state string) *sfnStub {
	s := &sfnStub{t: t, token: token, state: state, refusal: "TaskTimedOut", lose: func(int) string { return "" }}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *sfnStub) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AWSStepFunctions.")
	s.mu.Lock()
	defer s.mu.Unlock()
	switch op {
	case "SendTaskSuccess", "SendTaskFailure":
		s.sends++
		var in struct{ TaskToken, Output, Error, Cause string }
		_ = json.Unmarshal(body, &in)
		if in.TaskToken != s.token {
			s.refuse(w, "InvalidToken", "Invalid Token")
			return
		}
		fate := s.lose(s.sends)
		if fate == "drop" {
			s.reset(w)
			return
		}
		if s.applied != "" {
			s.refuse(w, s.refusal, "the task was already answered")
			return
		}
		if op == "SendTaskSuccess" {
			s.applied, s.output = "success", in.Output
		} else {
			s.applied, s.output, s.errName = "failure", in.Cause, in.Error
		}
		switch fate {
		case "reset":
			s.reset(w)
		case "500":
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, `{"__type":"InternalFailure","message":"we are sorry"}`)
		default:
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			_, _ = io.WriteString(w, "{}")
		}
	case "GetExecutionHistory":
		s.reads++
		if s.history == "denied" {
			s.refuse(w, "AccessDeniedException", "not authorized to perform states:GetExecutionHistory")
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_ = json.NewEncoder(w).Encode(map[string]any{"events": s.events()})
	default:
		s.t.Errorf("unexpected Step Functions call %q", op)
		w.WriteHeader(http.StatusBadRequest)
	}
}

// events is the execution's history, newest first (the handler asks for
// reverseOrder).
func (s *sfnStub) events() []map[string]any {
	ts := float64(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC).Unix())
	evs := []map[string]any{
		{"type": "ExecutionStarted", "executionStartedEventDetails": map[string]any{"input": "{}"}},
		{"type": "TaskStateEntered", "stateEnteredEventDetails": map[string]any{"name": "FARGATE: other-gate", "input": "{}"}},
		{"type": "TaskSucceeded", "taskSucceededEventDetails": map[string]any{"resource": "invoke.waitForTaskToken", "resourceType": "lambda",
			"output": `{"status":"OK","outputs":{"approvalId":"apr-00000000000000000000","approver":"someone","decision":"approve"}}`}},
		{"type": "TaskStateExited", "stateExitedEventDetails": map[string]any{"name": "FARGATE: other-gate", "output": "{}"}},
		{"type": "TaskStateEntered", "stateEnteredEventDetails": map[string]any{"name": s.state, "input": "{}"}},
		{"type": "TaskScheduled", "taskScheduledEventDetails": map[string]any{"resource": "invoke.waitForTaskToken", "resourceType": "lambda",
			"region": "us-east-1", "parameters": "{}"}},
		{"type": "TaskSubmitted", "taskSubmittedEventDetails": map[string]any{"resource": "invoke.waitForTaskToken", "resourceType": "lambda"}},
	}
	switch s.applied {
	case "success":
		evs = append(evs, map[string]any{"type": "TaskSucceeded", "taskSucceededEventDetails": map[string]any{
			"resource": "invoke.waitForTaskToken", "resourceType": "lambda", "output": s.output}})
	case "failure":
		evs = append(evs, map[string]any{"type": "TaskFailed", "taskFailedEventDetails": map[string]any{
			"resource": "invoke.waitForTaskToken", "resourceType": "lambda", "error": s.errName, "cause": s.output}})
	case "timeout":
		evs = append(evs, map[string]any{"type": "TaskTimedOut", "taskTimedOutEventDetails": map[string]any{
			"resource": "invoke.waitForTaskToken", "resourceType": "lambda", "error": "States.Timeout"}})
	}
	if s.applied != "" {
		evs = append(evs, map[string]any{"type": "TaskStateExited", "stateExitedEventDetails": map[string]any{"name": s.state, "output": "{}"}})
	}
	out := make([]map[string]any, 0, len(evs))
	for i := len(evs) - 1; i >= 0; i-- {
		evs[i]["id"], evs[i]["timestamp"] = i+1, ts+float64(i)
		out = append(out, evs[i])
	}
	return out
}

func (s *sfnStub) refuse(w http.ResponseWriter, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}

// reset closes the connection without an answer: the reply is lost.
func (s *sfnStub) reset(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		s.t.Fatal(err)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0) // RST, not FIN
	}
	conn.Close()
}

// responder is the approval API's real SFNResponder on a real SDK client
// with irflow's own retryer, aimed at the stub.
func (s *sfnStub) responder() *SFNResponder {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
		Retryer: taskrt.NewRetryer, BaseEndpoint: aws.String(s.URL)}
	return newSFNResponder(sfn.NewFromConfig(cfg))
}

// TestLostReply: Step Functions applies the decision but its answer is
// lost. The approval API sends once (no SDK retries), reads the execution
// history, finds the gate ended with this decision and records it
// delivered — never TIMED_OUT or CLOSED, which would say the decision did
// not reach an execution that in fact acted on it.
func TestLostReply(t *testing.T) {
	tests := []struct {
		name     string
		decision string
		lose     func(n int) string
		refusal  string
		sends    int
		history  int
	}{
		{name: "connection reset after apply, resend would get TaskTimedOut", decision: "approve",
			lose: func(n int) string { return map[int]string{1: "reset"}[n] }, refusal: "TaskTimedOut", sends: 1, history: 1},
		{name: "connection reset after apply, resend would get InvalidToken", decision: "approve",
			lose: func(n int) string { return map[int]string{1: "reset"}[n] }, refusal: "InvalidToken", sends: 1, history: 1},
		{name: "HTTP 500 after apply", decision: "approve",
			lose: func(n int) string { return map[int]string{1: "500"}[n] }, refusal: "TaskTimedOut", sends: 1, history: 1},
		{name: "rejection: connection reset after apply", decision: "reject",
			lose: func(n int) string { return map[int]string{1: "reset"}[n] }, refusal: "TaskTimedOut", sends: 1, history: 1},
		{name: "reset before apply: the gate still waits, sent again", decision: "approve",
			lose: func(n int) string { return map[int]string{1: "drop"}[n] }, refusal: "TaskTimedOut", sends: 2, history: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(a *approval.Approval) { a.LaunchType = "FARGATE" })
			stub := newSFNStub(t, "FARGATE: "+gateStep)
			stub.lose, stub.refusal = tt.lose, tt.refusal
			f.h.Responder = stub.responder()
			got := f.decide(t, alice, tt.decision, aliceReason)
			if got.status != http.StatusOK || !got.ok.Delivered || got.ok.DeliveryUnknown != "" {
				t.Fatalf("got %d %s; want 200, delivered", got.status, got.raw)
			}
			if stub.sends != tt.sends || stub.reads != tt.history || stub.applied == "" {
				t.Errorf("%d sends, %d history reads, applied %q; want %d and %d", stub.sends, stub.reads, stub.applied, tt.sends, tt.history)
			}
			a := f.table.approval(t, f.id)
			if a.Status == approval.StatusTimedOut || a.Status == approval.StatusClosed || a.DeliveredAt == "" || a.Undelivered != "" || a.TaskToken != "" {
				t.Errorf("stored %+v; want delivered", a)
			}
			var events []string
			for _, r := range f.audit.records {
				events = append(events, r.Event)
			}
			wantEvents := "approval-decided"
			if tt.history > 0 && tt.sends == 1 {
				wantEvents += ",approval-delivered"
			}
			if strings.Join(events, ",") != wantEvents {
				t.Errorf("audit events %v; want %s", events, wantEvents)
			}
			f.noTokenInLogs(t)
		})
	}
}

// TestLostReplyHistoryUnreadable: the answer is lost and the history
// cannot be read: the decision is "delivery unknown" — said to the
// approver (202), the audit trail and the approval — and repeating the
// command once the history can be read settles it.
func TestLostReplyHistoryUnreadable(t *testing.T) {
	f := newFixture(t, func(a *approval.Approval) { a.LaunchType = "FARGATE" })
	stub := newSFNStub(t, "FARGATE: "+gateStep)
	stub.lose = func(n int) string { return map[int]string{1: "reset"}[n] }
	stub.history = "denied"
	f.h.Responder = stub.responder()
	got := f.decide(t, alice, "approve", aliceReason)
	if got.status != http.StatusAccepted || got.ok.Delivered || !strings.Contains(got.ok.DeliveryUnknown, "may have taken effect") {
		t.Fatalf("got %d %s; want 202 with delivery unknown", got.status, got.raw)
	}
	a := f.table.approval(t, f.id)
	if a.Status != approval.StatusApproved || a.DeliveryUnknown == "" || a.Undelivered != "" || a.DeliveredAt != "" {
		t.Errorf("stored %+v; want APPROVED with delivery unknown", a)
	}
	if n := len(f.audit.records); n != 2 || f.audit.records[1].Event != EventDeliveryUnknown || !strings.Contains(f.audit.records[1].Summary, "DELIVERY UNKNOWN") {
		t.Fatalf("audit %+v", f.audit.records)
	}
	stub.history = ""
	got = f.decide(t, alice, "approve", aliceReason)
	if got.status != http.StatusOK || !got.ok.Delivered {
		t.Fatalf("repeat: %d %s", got.status, got.raw)
	}
	if a := f.table.approval(t, f.id); a.DeliveryUnknown != "" || a.DeliveredAt == "" || a.Status != approval.StatusApproved {
		t.Errorf("stored after the repeat %+v", a)
	}
	if last := f.audit.records[len(f.audit.records)-1]; last.Event != EventDelivered {
		t.Errorf("audit %+v; want the delivery confirmed last", f.audit.records)
	}
	f.noTokenInLogs(t)
}

// TestLostReplyGateTimedOut: the answer was lost and, by the time the
// history is read, the gate had timed out without this decision: that is
// certain, so the approval is closed TIMED_OUT.
func TestLostReplyGateTimedOut(t *testing.T) {
	f := newFixture(t, func(a *approval.Approval) { a.LaunchType = "FARGATE" })
	stub := newSFNStub(t, "FARGATE: "+gateStep)
	stub.lose = func(int) string { return "drop" }
	f.h.Responder = stub.responder()
	stub.mu.Lock()
	stub.applied = "timeout"
	stub.mu.Unlock()
	got := f.decide(t, alice, "approve", aliceReason)
	if got.status != http.StatusGone || got.err.Code != approval.CodeExpired {
		t.Fatalf("got %d %s", got.status, got.raw)
	}
	if a := f.table.approval(t, f.id); a.Status != approval.StatusTimedOut || !strings.Contains(a.Undelivered, "timed out") {
		t.Errorf("stored %+v", a)
	}
}
