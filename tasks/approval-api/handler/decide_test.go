package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"

	"github.com/irflow/irflow/tasks/approval-api/approval"
	"github.com/irflow/irflow/tasks/contract"
)

const (
	token       = "AAAA-secret-task-token-ZZZZ"
	execID      = "arn:aws:states:us-east-1:123456789012:execution:irflow-crypto-mining:case-7"
	icRole      = "arn:aws:iam::123456789012:role/IncidentCommander"
	alice       = "arn:aws:sts::123456789012:assumed-role/IncidentCommander/alice"
	bob         = "arn:aws:sts::123456789012:assumed-role/IncidentCommander/bob"
	responder   = "arn:aws:iam::123456789012:role/Responder"
	carol       = "arn:aws:sts::123456789012:assumed-role/Responder/carol"
	lookalike   = "arn:aws:sts::123456789012:assumed-role/IncidentCommanderX/eve"
	otherAcct   = "arn:aws:sts::210987654321:assumed-role/IncidentCommander/alice"
	gateStep    = "approve-containment"
	aliceReason = "miner confirmed in flow logs"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// fixture is a handler over one pending approval requested by the
// Responder role and decidable by IncidentCommander and Responder.
type fixture struct {
	h     *Handler
	table *memTable
	sent  *sent
	audit *fakeAudit
	clock *clock
	logs  *bytes.Buffer
	id    string
}

func newFixture(t *testing.T, mutate ...func(*approval.Approval)) *fixture {
	t.Helper()
	a := &approval.Approval{
		ID: approval.ID(execID, gateStep), CaseID: "case-7", ExecutionID: execID, StateMachine: contract.StateMachineARNOf(execID),
		Step: gateStep, Prompt: "Isolate and stop the task?", Approvers: []string{icRole, responder}, RequestedBy: responder,
		OnTimeout: "reject", TimeoutSeconds: 1800, Status: approval.StatusPending, RequestedAt: t0.Format(time.RFC3339),
		ExpiresAt: t0.Add(30 * time.Minute), Attempts: 1, TaskToken: token,
	}
	for _, m := range mutate {
		m(a)
	}
	f := &fixture{table: newMemTable(t, a), sent: &sent{}, audit: &fakeAudit{}, clock: &clock{t: t0.Add(5 * time.Minute)}, id: a.ID}
	log, buf := logBuffer()
	f.logs = buf
	f.h = &Handler{DB: f.table.db(), Audit: f.audit, Responder: f.sent.responder(), Table: "approvals", Now: f.clock.now, Log: log}
	return f
}

type answer struct {
	status int
	ok     approval.DecisionResponse
	err    approval.ErrorResponse
	raw    string
}

func (f *fixture) decide(t *testing.T, caller, decision, reason string) answer {
	t.Helper()
	status, body := f.h.Decide(context.Background(), Identity{ARN: caller, Account: "123456789012"}, f.id, decision, reason)
	a := answer{status: status, raw: string(body)}
	if status == http.StatusOK || status == http.StatusAccepted {
		if err := json.Unmarshal(body, &a.ok); err != nil {
			t.Fatalf("200 body %s: %v", body, err)
		}
	} else if err := json.Unmarshal(body, &a.err); err != nil {
		t.Fatalf("%d body %s: %v", status, body, err)
	}
	if strings.Contains(a.raw, token) {
		t.Errorf("the answer carries the task token: %s", a.raw)
	}
	return a
}

// noTokenInLogs fails when a log line carries the token.
func (f *fixture) noTokenInLogs(t *testing.T) {
	t.Helper()
	if strings.Contains(f.logs.String(), token) {
		t.Errorf("the token reached the log:\n%s", f.logs.String())
	}
	for _, r := range f.audit.records {
		if strings.Contains(r.Detail+r.Summary, token) {
			t.Errorf("the token reached the audit chain: %+v", r)
		}
	}
}

func TestDecideApprove(t *testing.T) {
	f := newFixture(t)
	got := f.decide(t, alice, "approve", aliceReason)
	if got.status != http.StatusOK {
		t.Fatalf("status %d: %s", got.status, got.raw)
	}
	if got.ok.Status != approval.StatusApproved || got.ok.Approver != alice || !got.ok.Delivered || got.ok.AuditSeq != 1 {
		t.Errorf("answer %+v", got.ok)
	}
	if f.sent.successes != 1 || f.sent.failures != 0 || f.sent.token != token {
		t.Fatalf("responder: %d successes, %d failures, token ok %v", f.sent.successes, f.sent.failures, f.sent.token == token)
	}
	// The gate's ResultSelector reads this as a task result.
	var res struct {
		Status   string          `json:"status"`
		Summary  string          `json:"summary"`
		Evidence []any           `json:"evidence"`
		Outputs  map[string]any  `json:"outputs"`
		Extra    json.RawMessage `json:"-"`
	}
	if err := json.Unmarshal([]byte(f.sent.output), &res); err != nil {
		t.Fatal(err)
	}
	if res.Status != "OK" || res.Evidence == nil || res.Outputs["approved"] != true || res.Outputs["approver"] != alice ||
		res.Outputs["reason"] != aliceReason || res.Outputs["decidedAt"] != f.clock.t.Format(time.RFC3339Nano) {
		t.Errorf("SendTaskSuccess output %s", f.sent.output)
	}
	a := f.table.approval(t, f.id)
	if a.Status != approval.StatusApproved || a.DecidedBy != alice || a.TaskToken != "" || a.DeliveredAt == "" || a.AuditSeq != 1 {
		t.Errorf("stored approval %+v", a)
	}
	if len(f.audit.records) != 1 || f.audit.records[0].Event != "approval-decided" || f.audit.records[0].Status != approval.StatusApproved ||
		!strings.Contains(f.audit.records[0].Detail, alice) || f.audit.records[0].CaseID != "case-7" || f.audit.records[0].Step != gateStep {
		t.Errorf("audit %+v", f.audit.records)
	}
	f.noTokenInLogs(t)
}

func TestDecideReject(t *testing.T) {
	f := newFixture(t)
	got := f.decide(t, bob, "reject", "the task is a known batch job")
	if got.status != http.StatusOK || got.ok.Status != approval.StatusRejected {
		t.Fatalf("status %d: %s", got.status, got.raw)
	}
	if f.sent.failures != 1 || f.sent.successes != 0 || f.sent.errName != "ApprovalRejectedError" ||
		!strings.Contains(f.sent.cause, bob) || !strings.Contains(f.sent.cause, "known batch job") {
		t.Errorf("SendTaskFailure(%q, %q), %d successes", f.sent.errName, f.sent.cause, f.sent.successes)
	}
	if f.sent.errName != contract.ErrorName(&contract.ApprovalRejectedError{}) {
		t.Errorf("error name %q is not the runtime's ApprovalRejectedError", f.sent.errName)
	}
	if a := f.table.approval(t, f.id); a.Status != approval.StatusRejected || a.Decision != "reject" {
		t.Errorf("stored %+v", a)
	}
	f.noTokenInLogs(t)
}

func TestDecideRefusals(t *testing.T) {
	tests := []struct {
		name     string
		mutate   func(*approval.Approval)
		caller   string
		decision string
		reason   string
		id       string
		late     time.Duration
		status   int
		code     string
	}{
		{name: "malformed id", caller: alice, decision: "approve", reason: "r", id: "apr-nope", status: 400, code: approval.CodeBadRequest},
		{name: "unknown decision", caller: alice, decision: "maybe", reason: "r", status: 400, code: approval.CodeBadRequest},
		{name: "no reason", caller: alice, decision: "approve", reason: "  ", status: 400, code: approval.CodeBadRequest},
		{name: "reason too long", caller: alice, decision: "approve", reason: strings.Repeat("x", MaxReason+1), status: 400, code: approval.CodeBadRequest},
		{name: "control characters", caller: alice, decision: "approve", reason: "ok\x1b[2J", status: 400, code: approval.CodeBadRequest},
		{name: "no identity", caller: "", decision: "approve", reason: "r", status: 403, code: approval.CodeUnauthorized},
		{name: "not an approver", caller: "arn:aws:sts::123456789012:assumed-role/Developer/dave", decision: "approve", reason: "r", status: 403, code: approval.CodeNotApprover},
		{name: "lookalike role", caller: lookalike, decision: "approve", reason: "r", status: 403, code: approval.CodeNotApprover},
		{name: "same role, other account", caller: otherAcct, decision: "approve", reason: "r", status: 403, code: approval.CodeUnauthorized},
		{name: "self-approval", caller: carol, decision: "approve", reason: "r", status: 403, code: approval.CodeSelfApproval},
		{name: "self-rejection too", caller: carol, decision: "reject", reason: "r", status: 403, code: approval.CodeSelfApproval},
		{name: "unknown approval", caller: alice, decision: "approve", reason: "r", id: approval.ID(execID, "other"), status: 404, code: approval.CodeUnknown},
		{name: "expired", caller: alice, decision: "approve", reason: "r", late: time.Hour, status: 410, code: approval.CodeExpired},
		{name: "expired to the second", caller: alice, decision: "approve", reason: "r", late: 25 * time.Minute, status: 410, code: approval.CodeExpired},
		{name: "timed out", caller: alice, decision: "approve", reason: "r", status: 410, code: approval.CodeExpired,
			mutate: func(a *approval.Approval) { a.Status, a.DecidedBy = approval.StatusTimedOut, approval.TimeoutApprover }},
		{name: "already decided", caller: alice, decision: "approve", reason: "r", status: 409, code: approval.CodeAlreadyDecided,
			mutate: func(a *approval.Approval) {
				a.Status, a.Decision, a.DecidedBy, a.DecidedAt, a.DeliveredAt = approval.StatusRejected, "reject", bob, "t", "t"
			}},
		{name: "closed", caller: alice, decision: "approve", reason: "r", status: 409, code: approval.CodeGateClosed,
			mutate: func(a *approval.Approval) { a.Status, a.Undelivered = approval.StatusClosed, "execution stopped" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mut []func(*approval.Approval)
			if tt.mutate != nil {
				mut = append(mut, tt.mutate)
			}
			f := newFixture(t, mut...)
			if tt.id != "" {
				f.id = tt.id
			}
			f.clock.t = f.clock.t.Add(tt.late)
			got := f.decide(t, tt.caller, tt.decision, tt.reason)
			if got.status != tt.status || got.err.Code != tt.code {
				t.Errorf("got %d %s (%s); want %d %s", got.status, got.err.Code, got.err.Message, tt.status, tt.code)
			}
			if got.err.Message == "" {
				t.Error("a refusal without a message")
			}
			if f.sent.successes+f.sent.failures != 0 || len(f.audit.records) != 0 {
				t.Errorf("a refused decision reached Step Functions (%d) or the audit (%d)", f.sent.successes+f.sent.failures, len(f.audit.records))
			}
			f.noTokenInLogs(t)
		})
	}
}

func TestSelfApprovalAllowed(t *testing.T) {
	f := newFixture(t, func(a *approval.Approval) { a.AllowSelfApproval = true })
	if got := f.decide(t, carol, "approve", "solo on-call tonight"); got.status != http.StatusOK {
		t.Fatalf("status %d: %s", got.status, got.raw)
	}
	if !strings.Contains(f.audit.records[0].Detail, `"selfApproval":true`) {
		t.Errorf("the audit does not say it was a self-approval: %s", f.audit.records[0].Detail)
	}
}

func TestDoubleDecision(t *testing.T) {
	f := newFixture(t)
	if got := f.decide(t, alice, "approve", aliceReason); got.status != http.StatusOK {
		t.Fatalf("first: %d %s", got.status, got.raw)
	}
	for _, who := range []string{bob, alice} {
		got := f.decide(t, who, "reject", "second thoughts")
		if got.status != http.StatusConflict || got.err.Code != approval.CodeAlreadyDecided || !strings.Contains(got.err.Message, alice) {
			t.Errorf("second decision by %s: %d %s", who, got.status, got.raw)
		}
	}
	if f.sent.successes != 1 || f.sent.failures != 0 || len(f.audit.records) != 1 {
		t.Errorf("%d successes, %d failures, %d audit records", f.sent.successes, f.sent.failures, len(f.audit.records))
	}
}

// TestConcurrentDecisions: of many approvers deciding at once, exactly one wins.
func TestConcurrentDecisions(t *testing.T) {
	f := newFixture(t)
	count := atOnce(12, func(i int) int {
		decision := []string{"approve", "reject"}[i%2]
		st, _ := f.h.Decide(context.Background(), Identity{ARN: fmt.Sprintf("arn:aws:sts::123456789012:assumed-role/IncidentCommander/ic%d", i)},
			f.id, decision, "race")
		return st
	})
	onlyStatuses(t, count, http.StatusOK, http.StatusConflict)
	wins := count[http.StatusOK]
	if wins != 1 || f.sent.successes+f.sent.failures != 1 || len(f.audit.records) != 1 {
		t.Errorf("%d winners, %d deliveries, %d audit records; want 1 each", wins, f.sent.successes+f.sent.failures, len(f.audit.records))
	}
}

func TestDeliveryRefused(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		code   string
		stored string
	}{
		{"gate timed out first", fmt.Errorf("%w (Task Timed Out)", ErrTaskTimedOut), http.StatusGone, approval.CodeExpired, approval.StatusTimedOut},
		{"execution stopped", fmt.Errorf("%w (Invalid Token: %s)", ErrTaskGone, token), http.StatusConflict, approval.CodeGateClosed, approval.StatusClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.sent.successErr = tt.err
			got := f.decide(t, alice, "approve", aliceReason)
			if got.status != tt.status || got.err.Code != tt.code {
				t.Fatalf("got %d %s; want %d %s", got.status, got.raw, tt.status, tt.code)
			}
			a := f.table.approval(t, f.id)
			if a.Status != tt.stored || a.TaskToken != "" || a.Undelivered == "" || strings.Contains(a.Undelivered, token) {
				t.Errorf("stored %+v", a)
			}
			events := []string{}
			for _, r := range f.audit.records {
				events = append(events, r.Event)
			}
			if strings.Join(events, ",") != "approval-decided,approval-undelivered" {
				t.Errorf("audit events %v", events)
			}
			// Nobody can decide it again.
			if again := f.decide(t, bob, "reject", "r"); again.status < 400 {
				t.Errorf("decided again: %d", again.status)
			}
			f.noTokenInLogs(t)
		})
	}
}

// TestDeliveryRetried: a send Step Functions refused before applying it
// (throttled) leaves the decision recorded; the same command again
// delivers it without a second audit record.
func TestDeliveryRetried(t *testing.T) {
	f := newFixture(t)
	f.sent.successErr = &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
	got := f.decide(t, alice, "approve", aliceReason)
	if got.status != http.StatusBadGateway || got.err.Code != approval.CodeNotDelivered || !strings.Contains(got.err.Message, "repeat") {
		t.Fatalf("got %d %s", got.status, got.raw)
	}
	if other := f.decide(t, bob, "approve", "me too"); other.status != http.StatusConflict {
		t.Errorf("another approver during the retry window: %d %s", other.status, other.raw)
	}
	if flip := f.decide(t, alice, "reject", "changed my mind"); flip.status != http.StatusConflict {
		t.Errorf("a different decision during the retry window: %d %s", flip.status, flip.raw)
	}
	f.sent.successErr = nil
	got = f.decide(t, alice, "approve", aliceReason)
	if got.status != http.StatusOK || !got.ok.Delivered {
		t.Fatalf("retry: %d %s", got.status, got.raw)
	}
	if f.sent.successes != 2 || len(f.audit.records) != 1 {
		t.Errorf("%d sends, %d audit records; want 2 and 1", f.sent.successes, len(f.audit.records))
	}
}

func TestAuditFailureResumes(t *testing.T) {
	f := newFixture(t)
	f.audit.err = &contract.RetryableError{Op: "audit", Err: errors.New("throttled")}
	got := f.decide(t, alice, "approve", aliceReason)
	if got.status != http.StatusServiceUnavailable || got.err.Code != approval.CodeAuditFailed {
		t.Fatalf("got %d %s", got.status, got.raw)
	}
	if f.sent.successes != 0 {
		t.Fatal("delivered before the audit had the decision")
	}
	f.audit.err = nil
	if got := f.decide(t, alice, "approve", aliceReason); got.status != http.StatusOK {
		t.Fatalf("resume: %d %s", got.status, got.raw)
	}
	if f.sent.successes != 1 || len(f.audit.records) != 1 {
		t.Errorf("%d sends, %d audit records", f.sent.successes, len(f.audit.records))
	}
}

// TestTokenReplacedWhileDeciding: a retried request swapped the token
// between our read and our write; the decision goes to the new token.
func TestTokenReplacedWhileDeciding(t *testing.T) {
	f := newFixture(t)
	db := f.table.db()
	get := db.get
	swapped := false
	db.get = func(in *dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
		out, err := get(in)
		if !swapped {
			swapped = true
			f.table.mu.Lock()
			f.table.items[f.id]["taskToken"] = str("NEW-" + token)
			f.table.mu.Unlock()
		}
		return out, err
	}
	f.h.DB = db
	if got := f.decide(t, alice, "approve", aliceReason); got.status != http.StatusOK {
		t.Fatalf("got %d %s", got.status, got.raw)
	}
	if f.sent.token != "NEW-"+token {
		t.Errorf("sent to the old token")
	}
}

// TestSelfApprovalAcrossPermissionSets: an IAM Identity Center user holds
// several permission sets. alice starts the response as Responder and
// tries to approve it as IncidentCommander: one person, refused.
func TestSelfApprovalAcrossPermissionSets(t *testing.T) {
	const (
		ssoIC        = "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_IncidentCommander_9f8e7d6c5b4a3a2b"
		aliceAsResp  = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Responder_0a1b2c3d4e5f6a7b/alice@example.com"
		aliceAsIC    = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_IncidentCommander_9f8e7d6c5b4a3a2b/Alice@example.com"
		bobAsIC      = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_IncidentCommander_9f8e7d6c5b4a3a2b/bob@example.com"
		decideReason = "contain it"
	)
	for _, decision := range []string{"approve", "reject"} {
		f := newFixture(t, func(a *approval.Approval) { a.Approvers, a.RequestedBy = []string{ssoIC}, aliceAsResp })
		if got := f.decide(t, aliceAsIC, decision, decideReason); got.status != http.StatusForbidden || got.err.Code != approval.CodeSelfApproval {
			t.Errorf("%s by alice under another permission set: %d %s; want 403 %s", decision, got.status, got.raw, approval.CodeSelfApproval)
		}
		if f.sent.successes+f.sent.failures != 0 {
			t.Errorf("the refused %s reached Step Functions", decision)
		}
		if got := f.decide(t, bobAsIC, decision, decideReason); got.status != http.StatusOK {
			t.Errorf("%s by bob: %d %s", decision, got.status, got.raw)
		}
	}
}
