package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/irflow/irflow/tasks/approval-api/approval"
)

const (
	dave      = "arn:aws:iam::123456789012:user/dave"
	ssoIC     = "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_IncidentCommander_9f8e7d6c5b4a3a2b"
	ssoErin   = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_IncidentCommander_9f8e7d6c5b4a3a2b/erin"
	ssoFrank  = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_IncidentCommander_9f8e7d6c5b4a3a2b/frank"
	aliceSSO  = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_IncidentCommander_9f8e7d6c5b4a3a2b/alice"
	unchecked = "alice@example.com"
)

// unverified is a gate of a response whose requester nobody verified (a
// console input's typed-in requestedBy): two distinct approvers.
func unverified(a *approval.Approval) {
	a.RequestedBy, a.RequesterVerified = unchecked, false
	a.RequiredApprovals = approval.RequiredApprovals(1, false)
	a.Approvers = append(a.Approvers, "arn:aws:iam::123456789012:user/dave", ssoIC)
}

func TestRequiredApprovals(t *testing.T) {
	tests := []struct {
		min      int
		verified bool
		want     int
	}{{0, true, 1}, {1, true, 1}, {0, false, 2}, {1, false, 2}, {3, false, 3}, {3, true, 3}}
	for _, tt := range tests {
		if got := approval.RequiredApprovals(tt.min, tt.verified); got != tt.want {
			t.Errorf("RequiredApprovals(%d, %v) = %d; want %d", tt.min, tt.verified, got, tt.want)
		}
	}
}

// TestUnverifiedRequesterNeedsTwoApprovers: the first approval is recorded
// and audited but the gate waits; the same person again (any role, same
// session name) is refused; a second person opens the gate, whose result
// names both.
func TestUnverifiedRequesterNeedsTwoApprovers(t *testing.T) {
	f := newFixture(t, unverified)
	got := f.decide(t, alice, "approve", aliceReason)
	if got.status != http.StatusAccepted || got.ok.Status != approval.StatusPending || got.ok.Approvals != 1 || got.ok.RequiredApprovals != 2 || got.ok.Delivered {
		t.Fatalf("first approval: %d %s", got.status, got.raw)
	}
	if f.sent.successes+f.sent.failures != 0 {
		t.Fatal("one approval of two answered the gate")
	}
	if len(f.audit.records) != 1 || f.audit.records[0].Event != EventVote || !strings.Contains(f.audit.records[0].Summary, "approval 1 of 2") {
		t.Fatalf("audit %+v", f.audit.records)
	}
	for _, again := range []string{alice, aliceSSO} {
		if got := f.decide(t, again, "approve", "me again"); got.status != http.StatusForbidden || got.err.Code != approval.CodeSameApprover {
			t.Errorf("alice again as %s: %d %s", again, got.status, got.raw)
		}
	}
	got = f.decide(t, dave, "approve", "second pair of eyes: contain")
	if got.status != http.StatusOK || got.ok.Status != approval.StatusApproved || got.ok.Approvals != 2 || !got.ok.Delivered {
		t.Fatalf("second approval: %d %s", got.status, got.raw)
	}
	var res struct {
		Outputs struct {
			Approvers         []string `json:"approvers"`
			RequiredApprovals int      `json:"requiredApprovals"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal([]byte(f.sent.output), &res); err != nil || strings.Join(res.Outputs.Approvers, ",") != alice+","+dave ||
		res.Outputs.RequiredApprovals != 2 || f.sent.successes != 1 {
		t.Errorf("gate result %s", f.sent.output)
	}
	a := f.table.approval(t, f.id)
	if a.Status != approval.StatusApproved || len(a.Votes) != 2 || a.Votes[0].AuditSeq != 1 || a.DecidedBy != dave {
		t.Errorf("stored %+v", a)
	}
	last := f.audit.records[len(f.audit.records)-1]
	if last.Event != "approval-decided" || !strings.Contains(last.Detail, alice) || !strings.Contains(last.Detail, `"requiredApprovals":2`) {
		t.Errorf("decision record %+v", last)
	}
	f.noTokenInLogs(t)
}

// TestOneRejectionRejects: with two approvals needed, one approval then a
// rejection rejects the gate.
func TestOneRejectionRejects(t *testing.T) {
	f := newFixture(t, unverified)
	if got := f.decide(t, alice, "approve", aliceReason); got.status != http.StatusAccepted {
		t.Fatalf("approval: %d %s", got.status, got.raw)
	}
	got := f.decide(t, ssoErin, "reject", "not without the forensics team")
	if got.status != http.StatusOK || got.ok.Status != approval.StatusRejected || f.sent.failures != 1 || f.sent.successes != 0 {
		t.Fatalf("rejection: %d %s", got.status, got.raw)
	}
	if !strings.Contains(f.sent.cause, f.id) {
		t.Errorf("the rejection's cause %q does not name the approval", f.sent.cause)
	}
}

// TestIdentityCenterUsersAreDistinctApprovers: two users of one IAM
// Identity Center permission set are two people; two sessions of one
// plain role are not.
func TestIdentityCenterUsersAreDistinctApprovers(t *testing.T) {
	f := newFixture(t, unverified)
	if got := f.decide(t, ssoErin, "approve", "ok"); got.status != http.StatusAccepted {
		t.Fatalf("erin: %d %s", got.status, got.raw)
	}
	if got := f.decide(t, ssoFrank, "approve", "ok too"); got.status != http.StatusOK || got.ok.Status != approval.StatusApproved {
		t.Fatalf("frank: %d %s", got.status, got.raw)
	}
	f = newFixture(t, unverified)
	if got := f.decide(t, alice, "approve", "ok"); got.status != http.StatusAccepted {
		t.Fatalf("alice: %d %s", got.status, got.raw)
	}
	if got := f.decide(t, bob, "approve", "ok"); got.status != http.StatusForbidden || got.err.Code != approval.CodeSameApprover {
		t.Errorf("bob, another session of alice's role: %d %s", got.status, got.raw)
	}
}

// TestConcurrentVotes: twelve approvers, two needed, all at once: exactly
// one decision reaches Step Functions, with two distinct votes.
func TestConcurrentVotes(t *testing.T) {
	f := newFixture(t, unverified)
	const n = 12
	count := atOnce(n, func(i int) int {
		who := fmt.Sprintf("arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_IncidentCommander_9f8e7d6c5b4a3a2b/user%d", i)
		st, _ := f.h.Decide(context.Background(), Identity{ARN: who, Account: "123456789012"}, f.id, "approve", "race")
		return st
	})
	a := f.table.approval(t, f.id)
	if count[http.StatusOK] != 1 || count[http.StatusAccepted] != 1 || count[http.StatusConflict]+count[http.StatusOK]+count[http.StatusAccepted] != n ||
		f.sent.successes != 1 || len(a.Votes) != 2 || a.Votes[0].By == a.Votes[1].By {
		t.Errorf("statuses %v, %d deliveries, votes %+v", count, f.sent.successes, a.Votes)
	}
}
