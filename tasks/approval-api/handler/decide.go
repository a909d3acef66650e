package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/irflow/irflow/tasks/approval-api/approval"
	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/termsafe"
)

// MaxReason bounds a decision's reason, as the console input bounds its own.
const MaxReason = 1000

// maxDecideAttempts bounds re-reads when the approval changes under a
// decision (a retried request swapping the token).
const maxDecideAttempts = 3

// Decide records caller's decision ("approve" or "reject") on an approval
// and answers its gate. It returns the HTTP status and JSON body the
// approval API sends: an approval.DecisionResponse, or an
// approval.ErrorResponse naming the refusal. The HTTP route and the local
// demo both decide through it.
func (h *Handler) Decide(ctx context.Context, caller Identity, approvalID, decision, reason string) (int, []byte) {
	res, ref := h.decide(ctx, caller, approvalID, decision, reason)
	log := h.log().With("approvalId", approvalID, "caller", caller.ARN, "decision", decision)
	if ref != nil {
		log.Warn("decision refused", "status", ref.status, "code", ref.code, "message", ref.message)
		return ref.status, ref.body()
	}
	log.Info("decision recorded", "caseId", res.CaseID, "step", res.Step, "status", res.Status, "auditSeq", res.AuditSeq,
		"approvals", res.Approvals, "requiredApprovals", res.RequiredApprovals, "deliveryUnknown", res.DeliveryUnknown)
	b, _ := json.Marshal(res)
	// 202: recorded, but not (known to be) the gate's answer yet: an
	// approval short of the required number, or a delivery whose outcome
	// Step Functions' lost answer left unknown.
	if res.Status == approval.StatusPending || res.DeliveryUnknown != "" {
		return http.StatusAccepted, b
	}
	return http.StatusOK, b
}

func (h *Handler) decide(ctx context.Context, caller Identity, id, decision, reason string) (*approval.DecisionResponse, *refusal) {
	decision, reason = strings.ToLower(strings.TrimSpace(decision)), strings.TrimSpace(reason)
	if ref := checkRequest(id, decision, reason); ref != nil {
		return nil, ref
	}
	who, err := caller.principal()
	if err != nil {
		return nil, refuse(http.StatusForbidden, approval.CodeUnauthorized, "%v", err)
	}
	for attempt := 0; attempt < maxDecideAttempts; attempt++ {
		a, err := approval.Load(ctx, h.DB, h.Table, id)
		if err != nil {
			return nil, refuse(http.StatusServiceUnavailable, approval.CodeInternal, "reading approval %s: %v", id, err)
		}
		if a == nil {
			return nil, refuse(http.StatusNotFound, approval.CodeUnknown, "no approval %s", id)
		}
		if ref := checkCaller(a, who); ref != nil {
			return nil, ref
		}
		if a.Decided() {
			if a.DecidedBy == who.ARN && a.Decision == decision && a.DeliveredAt == "" && a.Undelivered == "" &&
				(a.Status == approval.StatusApproved || a.Status == approval.StatusRejected) {
				// The same decision again after a failed audit, a failed
				// delivery or one whose outcome was unknown: resume.
				return h.finish(ctx, a)
			}
			return nil, decidedRefusal(a)
		}
		now := h.now()
		if a.Expired(now) {
			return nil, refuse(http.StatusGone, approval.CodeExpired, "approval %s expired at %s; onTimeout (%s) decides it",
				id, a.ExpiresAt.UTC().Format(time.RFC3339), a.OnTimeout)
		}
		if decision == approval.DecisionApprove {
			if i := voteOf(a, who.ARN); i >= 0 {
				if v := a.Votes[i]; v.By == who.ARN && v.AuditSeq == 0 {
					return h.finishVote(ctx, a, i) // the same approval again after a failed audit: resume
				}
				return nil, refuse(http.StatusForbidden, approval.CodeSameApprover,
					"%s already approved %s (as %s at %s); %d distinct approvers must approve: another approver must decide",
					who.ARN, a.ID, a.Votes[i].By, a.Votes[i].At, a.Required())
			}
			if a.VoteCount+1 < a.Required() {
				err = h.vote(ctx, a, who, caller.Account, reason, now)
				if approval.ConditionFailed(err) {
					continue // another vote or decision meanwhile: read again
				}
				if err != nil {
					return nil, refuse(http.StatusServiceUnavailable, approval.CodeInternal, "recording the approval on %s: %v", id, redact(err.Error(), a.TaskToken))
				}
				return h.finishVote(ctx, a, len(a.Votes)-1)
			}
		}
		err = h.record(ctx, a, who, caller.Account, decision, reason, now)
		if approval.ConditionFailed(err) {
			continue // decided, expired or re-requested meanwhile: read again
		}
		if err != nil {
			return nil, refuse(http.StatusServiceUnavailable, approval.CodeInternal, "recording the decision on %s: %v", id, redact(err.Error(), a.TaskToken))
		}
		return h.finish(ctx, a)
	}
	return nil, refuse(http.StatusConflict, approval.CodeConflict, "approval %s kept changing while deciding; try again", id)
}

// checkRequest validates what the caller sent.
func checkRequest(id, decision, reason string) *refusal {
	switch {
	case !approval.ValidID(id):
		return refuse(http.StatusBadRequest, approval.CodeBadRequest, "%q is not an approval id (apr- and 20 hex digits)", clip(id, 100))
	case decision != approval.DecisionApprove && decision != approval.DecisionReject:
		return refuse(http.StatusBadRequest, approval.CodeBadRequest, `decision must be "approve" or "reject", not %q`, clip(decision, 100))
	case reason == "":
		return refuse(http.StatusBadRequest, approval.CodeBadRequest, "a reason is required: say why, it goes into the audit trail")
	case len(reason) > MaxReason:
		return refuse(http.StatusBadRequest, approval.CodeBadRequest, "the reason is %d bytes; at most %d", len(reason), MaxReason)
	case strings.IndexFunc(reason, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' || termsafe.Bidi(r) }) >= 0:
		return refuse(http.StatusBadRequest, approval.CodeBadRequest, "the reason contains control characters (C0, C1 or bidirectional)")
	}
	return nil
}

// checkCaller enforces the approver list and four eyes.
func checkCaller(a *approval.Approval, who approval.Principal) *refusal {
	if !anyApprover(a.Approvers, who.ARN) {
		return refuse(http.StatusForbidden, approval.CodeNotApprover, "%s is not an approver of %s (approvers: %s)",
			who.ARN, a.ID, strings.Join(a.Approvers, ", "))
	}
	if !a.AllowSelfApproval && SamePerson(a.RequestedBy, who.ARN) {
		return refuse(http.StatusForbidden, approval.CodeSelfApproval,
			"%s requested this response (as %s) and cannot decide its approval %s: four eyes; another approver must decide",
			who.ARN, a.RequestedBy, a.ID)
	}
	return nil
}

// decidedRefusal explains why a decided approval takes no more decisions.
func decidedRefusal(a *approval.Approval) *refusal {
	switch a.Status {
	case approval.StatusTimedOut:
		return refuse(http.StatusGone, approval.CodeExpired, "approval %s timed out at %s; onTimeout (%s) decided it",
			a.ID, a.ExpiresAt.UTC().Format(time.RFC3339), a.OnTimeout)
	case approval.StatusClosed:
		return refuse(http.StatusConflict, approval.CodeGateClosed, "approval %s is closed: %s", a.ID, a.Undelivered)
	}
	return refuse(http.StatusConflict, approval.CodeAlreadyDecided, "approval %s was already %s by %s at %s (reason: %s)",
		a.ID, strings.ToLower(a.Status), a.DecidedBy, a.DecidedAt, a.Reason)
}

// record makes the decision with a conditional update: only a PENDING,
// unexpired approval still holding the token read with it, and with as
// many votes as read, takes it, so of concurrent decisions and votes
// exactly one wins. An approval that completes the required number adds
// its vote to the others.
func (h *Handler) record(ctx context.Context, a *approval.Approval, who approval.Principal, account, decision, reason string, now time.Time) error {
	status := approval.StatusApproved
	if decision == approval.DecisionReject {
		status = approval.StatusRejected
	}
	if account == "" {
		account = who.Account
	}
	decidedAt := now.Format(time.RFC3339Nano)
	votes := a.Votes
	if decision == approval.DecisionApprove {
		votes = append(append([]approval.Vote{}, a.Votes...), approval.Vote{By: who.ARN, Account: account, Reason: reason, At: decidedAt})
	}
	set := "SET #status = :status, decision = :decision, decidedBy = :by, decidedByAccount = :account, reason = :reason, decidedAt = :at"
	values := map[string]ddbtypes.AttributeValue{
		":status": str(status), ":decision": str(decision), ":by": str(who.ARN), ":account": str(account),
		":reason": str(reason), ":at": str(decidedAt), ":pending": str(approval.StatusPending),
		":now": &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)}, ":token": str(a.TaskToken),
		":read": num(a.VoteCount),
	}
	if decision == approval.DecisionApprove {
		vs, err := attributevalue.Marshal(votes)
		if err != nil {
			return err
		}
		set += ", votes = :votes, voteCount = :count"
		values[":votes"], values[":count"] = vs, num(len(votes))
	}
	err := h.update(ctx, a.ID, set, "#status = :pending AND expiresAt > :now AND taskToken = :token AND voteCount = :read",
		map[string]string{"#status": "status"}, values)
	if err != nil {
		return err
	}
	a.Status, a.Decision, a.DecidedBy, a.DecidedByAccount, a.Reason, a.DecidedAt = status, decision, who.ARN, account, reason, decidedAt
	a.Votes, a.VoteCount = votes, len(votes)
	return nil
}

// voteOf is the index of the person's vote on the gate, or -1 (distinct
// approvers: sessions of one role, or of one session name, are one person).
func voteOf(a *approval.Approval, caller string) int {
	for i, v := range a.Votes {
		if v.By == caller || SamePerson(v.By, caller) {
			return i
		}
	}
	return -1
}

// vote records an approval short of the required number, conditionally on
// the gate still pending, unexpired, with its token and the votes read.
func (h *Handler) vote(ctx context.Context, a *approval.Approval, who approval.Principal, account, reason string, now time.Time) error {
	if account == "" {
		account = who.Account
	}
	votes := append(append([]approval.Vote{}, a.Votes...), approval.Vote{By: who.ARN, Account: account, Reason: reason, At: now.Format(time.RFC3339Nano)})
	vs, err := attributevalue.Marshal(votes)
	if err != nil {
		return err
	}
	err = h.update(ctx, a.ID, "SET votes = :votes, voteCount = :count",
		"#status = :pending AND expiresAt > :now AND taskToken = :token AND voteCount = :read",
		map[string]string{"#status": "status"},
		map[string]ddbtypes.AttributeValue{":votes": vs, ":count": num(len(votes)), ":read": num(a.VoteCount),
			":pending": str(approval.StatusPending), ":token": str(a.TaskToken),
			":now": &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)}})
	if err != nil {
		return err
	}
	a.Votes, a.VoteCount = votes, len(votes)
	return nil
}

// finishVote audits vote i and answers: recorded, the gate still waits.
func (h *Handler) finishVote(ctx context.Context, a *approval.Approval, i int) (*approval.DecisionResponse, *refusal) {
	v := &a.Votes[i]
	if v.AuditSeq == 0 {
		if h.Audit == nil {
			return nil, refuse(http.StatusServiceUnavailable, approval.CodeAuditFailed, "no audit chain configured (IRFLOW_AUDIT_TABLE)")
		}
		detail, _ := json.Marshal(map[string]any{"approvalId": a.ID, "approver": v.By, "approverAccount": v.Account,
			"reason": v.Reason, "at": v.At, "approvals": i + 1, "requiredApprovals": a.Required(),
			"requestedBy": a.RequestedBy, "requesterVerified": a.RequesterVerified})
		rec, err := h.Audit.Append(ctx, audit.Record{CaseID: a.CaseID, ExecutionID: a.ExecutionID, Step: a.Step, Action: Action,
			Event: EventVote, Status: approval.StatusPending,
			Summary: fmt.Sprintf("approval %d of %d by %s: %s", i+1, a.Required(), v.By, v.Reason), Detail: string(detail)})
		if err != nil {
			return nil, refuse(http.StatusServiceUnavailable, approval.CodeAuditFailed,
				"the approval of %s is recorded but could not be appended to the audit chain (%v): repeat the same command to finish it", a.ID, err)
		}
		v.AuditSeq = rec.Seq
		if vs, err := attributevalue.Marshal(a.Votes); err == nil {
			// Best effort, conditional on the votes read: a lost note only
			// audits this vote again when its approver repeats the command.
			if err := h.update(ctx, a.ID, "SET votes = :votes", "voteCount = :read", nil,
				map[string]ddbtypes.AttributeValue{":votes": vs, ":read": num(a.VoteCount)}); err != nil {
				h.log().Warn("noting the vote's audit seq failed", "approvalId", a.ID, "error", redact(err.Error(), a.TaskToken))
			}
		}
	}
	return &approval.DecisionResponse{ApprovalID: a.ID, CaseID: a.CaseID, Step: a.Step, Status: approval.StatusPending,
		Decision: approval.DecisionApprove, Approver: v.By, Reason: v.Reason, DecidedAt: v.At, AuditSeq: v.AuditSeq,
		DryRun: a.DryRun, Approvals: i + 1, RequiredApprovals: a.Required()}, nil
}

// EventVote is the audit event of an approval short of the required number.
const EventVote = "approval-vote"

// finish audits a recorded decision and delivers it, each at most once.
func (h *Handler) finish(ctx context.Context, a *approval.Approval) (*approval.DecisionResponse, *refusal) {
	if a.AuditSeq == 0 {
		seq, err := h.auditDecision(ctx, a)
		if err != nil {
			return nil, refuse(http.StatusServiceUnavailable, approval.CodeAuditFailed,
				"the decision on %s is recorded but could not be appended to the audit chain (%v): repeat the same command to finish it", a.ID, err)
		}
		a.AuditSeq = seq
	}
	if a.DeliveredAt == "" {
		if ref := h.deliver(ctx, a); ref != nil {
			return nil, ref
		}
	}
	return &approval.DecisionResponse{ApprovalID: a.ID, CaseID: a.CaseID, Step: a.Step, Status: a.Status, Decision: a.Decision,
		Approver: a.DecidedBy, Reason: a.Reason, DecidedAt: a.DecidedAt, AuditSeq: a.AuditSeq, Delivered: a.DeliveredAt != "",
		DeliveryUnknown: a.DeliveryUnknown, DryRun: a.DryRun, Approvals: len(a.Votes), RequiredApprovals: a.Required()}, nil
}

// auditDecision appends approval-decided and notes its seq on the approval.
func (h *Handler) auditDecision(ctx context.Context, a *approval.Approval) (int64, error) {
	if h.Audit == nil {
		return 0, errors.New("no audit chain configured (IRFLOW_AUDIT_TABLE)")
	}
	detail, _ := json.Marshal(map[string]any{
		"approvalId": a.ID, "approver": a.DecidedBy, "approverAccount": a.DecidedByAccount, "decision": a.Decision,
		"reason": a.Reason, "decidedAt": a.DecidedAt, "requestedBy": a.RequestedBy, "requesterVerified": a.RequesterVerified,
		"prompt": a.Prompt, "approvals": a.Votes, "requiredApprovals": a.Required(),
		"selfApproval": a.AllowSelfApproval && SamePerson(a.RequestedBy, a.DecidedBy),
	})
	rec, err := h.Audit.Append(ctx, audit.Record{CaseID: a.CaseID, ExecutionID: a.ExecutionID, Step: a.Step, Action: Action,
		Event: "approval-decided", Status: a.Status, Summary: fmt.Sprintf("%s by %s: %s", strings.ToLower(a.Status), a.DecidedBy, a.Reason),
		Detail: string(detail)})
	if err != nil {
		return 0, err
	}
	// Best effort: without it a resumed decision would audit twice, no worse.
	if err := h.update(ctx, a.ID, "SET auditSeq = :seq", "", nil,
		map[string]ddbtypes.AttributeValue{":seq": &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(rec.Seq, 10)}}); err != nil {
		h.log().Warn("noting the audit seq failed", "approvalId", a.ID, "error", redact(err.Error(), a.TaskToken))
	}
	return rec.Seq, nil
}
