package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/stricttest"
	"github.com/irflow/irflow/tasks/approval-api/approval"
	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
	request "github.com/irflow/irflow/tasks/request-approval/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

func TestMain(m *testing.M) { stricttest.Main(m) }

// gate is a gate opened in moto through request-approval's real handler.
type gate struct {
	w      *mototest.World
	caseID string
	id     string
	token  string
	h      *Handler
	sent   *sent
}

// openGate requests an approval the way the gate's first call does, then
// builds the approval API on the same stores with a recording responder.
func openGate(t *testing.T, w *mototest.World, allowSelf bool) *gate {
	t.Helper()
	caseID := mototest.Unique("case")
	g := &gate{w: w, caseID: caseID, token: "moto-token-" + caseID, sent: &sent{}}
	rt := &taskrt.Runtime{Action: "request-approval", Handle: request.New(w.Cfg, w.Env), Audit: taskrt.NewChain(w.Cfg, w.Env),
		Log: taskrt.NewLogger(io.Discard)}
	with := map[string]any{"prompt": "Isolate and stop the task?", "timeoutSeconds": 1800, "onTimeout": "reject",
		"approvers":         []string{"arn:aws:iam::" + w.Account + ":role/IncidentCommander", "arn:aws:iam::" + w.Account + ":role/Responder"},
		"allowSelfApproval": allowSelf}
	raw, err := rt.Invoke(context.Background(), w.Payload("request-approval", "approve-containment", "FARGATE", caseID, false, with,
		map[string]any{"mode": "request", "taskToken": g.token, "incident": verifiedIncident(w, caseID)}))
	if err != nil {
		t.Fatal(err)
	}
	var res contract.Result
	_ = json.Unmarshal(raw, &res)
	g.id, _ = res.Outputs["approvalId"].(string)
	g.h = New(w.Cfg, w.Env)
	g.h.Responder = g.sent.responder()
	g.h.Log = taskrt.NewLogger(io.Discard)
	return g
}

// verifiedIncident is the world's Fargate incident with its requester
// verified (started through the start API): its gates need one approver.
func verifiedIncident(w *mototest.World, caseID string) *incident.Incident {
	inc := w.Incident("FARGATE", caseID, false)
	inc.Requester = &incident.Requester{ID: inc.RequestedBy, Verified: true, Via: incident.ViaStartAPI}
	return inc
}

func (g *gate) session(role, name string) Identity {
	return Identity{ARN: fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", g.w.Account, role, name), Account: g.w.Account}
}

func (g *gate) decide(t *testing.T, who Identity, decision, reason string) (int, string) {
	t.Helper()
	st, body := g.h.Decide(context.Background(), who, g.id, decision, reason)
	if strings.Contains(string(body), g.token) {
		t.Errorf("the answer carries the token: %s", body)
	}
	return st, string(body)
}

func (g *gate) chain(t *testing.T) []audit.Record {
	t.Helper()
	records, err := taskrt.NewChain(g.w.Cfg, g.w.Env).Read(context.Background(), g.caseID)
	if err != nil {
		t.Fatal(err)
	}
	if err := audit.Verify(records); err != nil {
		t.Fatalf("the audit chain does not verify: %v", err)
	}
	for _, r := range records {
		if strings.Contains(r.Detail+r.Summary, g.token) {
			t.Errorf("record %d carries the token", r.Seq)
		}
	}
	return records
}

// TestApproveMoto: request, approve, and the gate receives a task result
// naming the approver; a second decision is refused.
func TestApproveMoto(t *testing.T) {
	w := mototest.Seed(t)
	g := openGate(t, w, false)
	alice := g.session("IncidentCommander", "alice")
	st, body := g.decide(t, alice, "approve", "miner confirmed")
	if st != http.StatusOK {
		t.Fatalf("%d %s", st, body)
	}
	if g.sent.successes != 1 || g.sent.token != g.token {
		t.Fatalf("responder got %d successes (token ok: %v)", g.sent.successes, g.sent.token == g.token)
	}
	var res contract.Result
	if err := json.Unmarshal([]byte(g.sent.output), &res); err != nil {
		t.Fatal(err)
	}
	if res.Status != "OK" || res.Outputs["approved"] != true || res.Outputs["approver"] != alice.ARN || res.Outputs["reason"] != "miner confirmed" {
		t.Errorf("gate result %s", g.sent.output)
	}
	st, body = g.decide(t, g.session("IncidentCommander", "bob"), "reject", "no")
	if st != http.StatusConflict || !strings.Contains(body, approval.CodeAlreadyDecided) {
		t.Errorf("second decision: %d %s", st, body)
	}
	records := g.chain(t)
	last := records[len(records)-1]
	if last.Event != "approval-decided" || last.Status != approval.StatusApproved || !strings.Contains(last.Detail, alice.ARN) {
		t.Errorf("last record %+v", last)
	}
}

func TestRefusalsMoto(t *testing.T) {
	w := mototest.Seed(t)
	tests := []struct {
		name   string
		who    func(*gate) Identity
		late   time.Duration
		status int
		code   string
	}{
		{"self-approval", func(g *gate) Identity { return g.session("Responder", "carol") }, 0, http.StatusForbidden, approval.CodeSelfApproval},
		{"lookalike", func(g *gate) Identity { return g.session("IncidentCommanderX", "eve") }, 0, http.StatusForbidden, approval.CodeNotApprover},
		{"expired", func(g *gate) Identity { return g.session("IncidentCommander", "alice") }, 31 * time.Minute, http.StatusGone, approval.CodeExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := openGate(t, w, false)
			g.h.Now = func() time.Time { return time.Now().Add(tt.late) }
			st, body := g.decide(t, tt.who(g), "approve", "r")
			if st != tt.status || !strings.Contains(body, tt.code) {
				t.Errorf("got %d %s; want %d %s", st, body, tt.status, tt.code)
			}
			if g.sent.successes+g.sent.failures != 0 {
				t.Error("a refused decision reached Step Functions")
			}
			if records := g.chain(t); records[len(records)-1].Event != "result" {
				t.Errorf("a refused decision was audited: %+v", records[len(records)-1])
			}
		})
	}
}

func TestRejectMoto(t *testing.T) {
	w := mototest.Seed(t)
	g := openGate(t, w, false)
	st, body := g.decide(t, g.session("IncidentCommander", "alice"), "reject", "known batch job")
	if st != http.StatusOK {
		t.Fatalf("%d %s", st, body)
	}
	if g.sent.failures != 1 || g.sent.errName != "ApprovalRejectedError" || !strings.Contains(g.sent.cause, "known batch job") {
		t.Errorf("SendTaskFailure(%q, %q)", g.sent.errName, g.sent.cause)
	}
	records := g.chain(t)
	if last := records[len(records)-1]; last.Status != approval.StatusRejected {
		t.Errorf("last record %+v", last)
	}
}

// TestSelfApprovalAllowedMoto: a playbook that allows it lets the requester decide.
func TestSelfApprovalAllowedMoto(t *testing.T) {
	w := mototest.Seed(t)
	g := openGate(t, w, true)
	if st, body := g.decide(t, g.session("Responder", "carol"), "approve", "solo on call"); st != http.StatusOK {
		t.Errorf("%d %s", st, body)
	}
}

// TestConcurrentDecisionsMoto: moto's conditional update lets exactly one
// of many simultaneous decisions win, and the chain stays whole.
func TestConcurrentDecisionsMoto(t *testing.T) {
	w := mototest.Seed(t)
	g := openGate(t, w, false)
	count := atOnce(8, func(i int) int {
		st, _ := g.h.Decide(context.Background(), g.session("IncidentCommander", fmt.Sprintf("ic%d", i)),
			g.id, []string{"approve", "reject"}[i%2], "race")
		return st
	})
	onlyStatuses(t, count, http.StatusOK, http.StatusConflict)
	wins := count[http.StatusOK]
	if wins != 1 || g.sent.successes+g.sent.failures != 1 {
		t.Errorf("%d winners, %d deliveries; want 1 and 1", wins, g.sent.successes+g.sent.failures)
	}
	decided := 0
	for _, r := range g.chain(t) {
		if r.Event == "approval-decided" {
			decided++
		}
	}
	if decided != 1 {
		t.Errorf("%d approval-decided records; want 1", decided)
	}
}

// TestUnverifiedRequesterMoto: a console input names its requester; nobody
// verified it, so request-approval stores a gate needing two distinct
// approvers, and the approval API delivers only the second approval.
func TestUnverifiedRequesterMoto(t *testing.T) {
	w := mototest.Seed(t)
	caseID := mototest.Unique("case")
	const set = "AWSReservedSSO_IncidentCommander_9f8e7d6c5b4a3a2b"
	rt := &taskrt.Runtime{Action: "request-approval", Handle: request.New(w.Cfg, w.Env), Audit: taskrt.NewChain(w.Cfg, w.Env),
		Log: taskrt.NewLogger(io.Discard)}
	with := map[string]any{"prompt": "Isolate and stop the task?", "timeoutSeconds": 1800, "onTimeout": "reject",
		"approvers": []string{"arn:aws:iam::" + w.Account + ":role/aws-reserved/sso.amazonaws.com/" + set}}
	raw, err := rt.Invoke(context.Background(), w.Payload("request-approval", "approve-containment", "FARGATE", caseID, false, with,
		map[string]any{"mode": "request", "taskToken": "moto-token-" + caseID}))
	if err != nil {
		t.Fatal(err)
	}
	var res contract.Result
	_ = json.Unmarshal(raw, &res)
	if res.Outputs["requiredApprovals"] != float64(2) {
		t.Fatalf("request-approval outputs %v; want requiredApprovals 2 for an unverified requester", res.Outputs)
	}
	h := New(w.Cfg, w.Env)
	s := &sent{}
	h.Responder, h.Log = s.responder(), taskrt.NewLogger(io.Discard)
	id := res.Outputs["approvalId"].(string)
	who := func(name string) Identity {
		return Identity{ARN: "arn:aws:sts::" + w.Account + ":assumed-role/" + set + "/" + name, Account: w.Account}
	}
	if st, body := h.Decide(context.Background(), who("erin"), id, "approve", "miner confirmed"); st != http.StatusAccepted || s.successes != 0 {
		t.Fatalf("first approval: %d %s (%d sends)", st, body, s.successes)
	}
	if st, body := h.Decide(context.Background(), who("Erin"), id, "approve", "again"); st != http.StatusForbidden {
		t.Errorf("erin again: %d %s", st, body)
	}
	if st, body := h.Decide(context.Background(), who("frank"), id, "approve", "contain it"); st != http.StatusOK || s.successes != 1 {
		t.Fatalf("second approval: %d %s (%d sends)", st, body, s.successes)
	}
	recs, err := taskrt.NewChain(w.Cfg, w.Env).Read(context.Background(), caseID)
	if err != nil || audit.Verify(recs) != nil {
		t.Fatalf("chain: %v", err)
	}
	var events []string
	for _, r := range recs {
		events = append(events, r.Event)
	}
	if got := strings.Join(events, ","); !strings.HasSuffix(got, "approval-requested,result,approval-vote,approval-decided") {
		t.Errorf("audit events %s", got)
	}
}
