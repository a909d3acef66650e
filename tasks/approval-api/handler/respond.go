package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"

	"github.com/irflow/irflow/tasks/approval-api/approval"
	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/contract"
)

// TaskResponder answers a gate's waitForTaskToken task. SFNResponder is the
// real one; a local simulator plugs in one that answers its simulated gate in
// process (simulate.Callbacks has this very shape). A token that is no
// longer accepted is reported with ErrTaskTimedOut or ErrTaskGone, or with an
// error whose ErrorCode() is Step Functions' TaskTimedOut, InvalidToken or
// TaskDoesNotExist; any other error is taken as transient, and the decision
// can be delivered again.
type TaskResponder interface {
	SendTaskSuccess(ctx context.Context, taskToken, output string) error
	SendTaskFailure(ctx context.Context, taskToken, errorName, cause string) error
}

// Errors a TaskResponder reports when Step Functions refuses the token.
var (
	// ErrTaskTimedOut: the gate timed out before the decision arrived, and
	// its onTimeout already applied.
	ErrTaskTimedOut = errors.New("the gate timed out before the decision reached it")
	// ErrTaskGone: the execution no longer waits for this token (it stopped,
	// or the gate was re-requested with a new token).
	ErrTaskGone = errors.New("the execution no longer waits for this gate")
)

// sfnAPI is the part of Step Functions that answers task tokens.
type sfnAPI interface {
	SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, opts ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
	SendTaskFailure(ctx context.Context, in *sfn.SendTaskFailureInput, opts ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error)
}

// SFNResponder answers gates through the Step Functions API and reads an
// execution's history when an answer's fate is in doubt.
type SFNResponder struct {
	Client sfnAPI
	// History reads executions' histories (GetExecutionHistory); nil
	// leaves doubtful deliveries unknown.
	History historyAPI
}

var _ TaskResponder = (*SFNResponder)(nil)

// once sends a SendTask* request exactly once: no SDK retries. A retry
// after a lost reply resends a decision Step Functions may already have
// applied, and its refusal (TaskTimedOut, InvalidToken) would then be taken
// for a decision that never arrived. deliver decides from the execution
// history instead.
func once(o *sfn.Options) { o.Retryer = aws.NopRetryer{} }

// SendTaskSuccess sends the gate's result, once.
func (r *SFNResponder) SendTaskSuccess(ctx context.Context, taskToken, output string) error {
	_, err := r.Client.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(taskToken), Output: aws.String(output)}, once)
	return sfnError(err)
}

// SendTaskFailure fails the gate with a named error, once.
func (r *SFNResponder) SendTaskFailure(ctx context.Context, taskToken, errorName, cause string) error {
	_, err := r.Client.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(taskToken),
		Error: aws.String(errorName), Cause: aws.String(clip(cause, 32768))}, once)
	return sfnError(err)
}

// sfnError maps Step Functions' refusals of a token to ErrTaskTimedOut and ErrTaskGone.
func sfnError(err error) error {
	if err == nil {
		return nil
	}
	var (
		timedOut *sfntypes.TaskTimedOut
		invalid  *sfntypes.InvalidToken
		missing  *sfntypes.TaskDoesNotExist
	)
	switch {
	case errors.As(err, &timedOut):
		return fmt.Errorf("%w (%s)", ErrTaskTimedOut, timedOut.ErrorMessage())
	case errors.As(err, &invalid):
		return fmt.Errorf("%w (%s)", ErrTaskGone, invalid.ErrorMessage())
	case errors.As(err, &missing):
		return fmt.Errorf("%w (%s)", ErrTaskGone, missing.ErrorMessage())
	}
	return classify(err)
}

// classify maps an error carrying a Step Functions error code (a smithy
// API error, a simulator's task error) to ErrTaskTimedOut or ErrTaskGone.
func classify(err error) error {
	if err == nil || errors.Is(err, ErrTaskTimedOut) || errors.Is(err, ErrTaskGone) {
		return err
	}
	var coded interface{ ErrorCode() string }
	if !errors.As(err, &coded) {
		return err
	}
	switch coded.ErrorCode() {
	case "TaskTimedOut":
		return fmt.Errorf("%w (%v)", ErrTaskTimedOut, err)
	case "InvalidToken", "TaskDoesNotExist":
		return fmt.Errorf("%w (%v)", ErrTaskGone, err)
	}
	return err
}

// GateResult is what SendTaskSuccess carries for an approval: a task result
// (docs/internals.md) the gate's ResultSelector reads as is.
func GateResult(a *approval.Approval) string {
	approvers := make([]string, 0, len(a.Votes))
	for _, v := range a.Votes {
		approvers = append(approvers, v.By)
	}
	if len(approvers) == 0 {
		approvers = append(approvers, a.DecidedBy)
	}
	res := contract.OK(fmt.Sprintf("approved by %s: %s", strings.Join(approvers, ", "), a.Reason)).
		With("approved", true).
		With("approver", a.DecidedBy).
		With("approvers", approvers).
		With("requiredApprovals", a.Required()).
		With("reason", a.Reason).
		With("decidedAt", a.DecidedAt).
		With("decision", approval.DecisionApprove).
		With("approvalId", a.ID)
	b, _ := json.Marshal(res)
	return string(b)
}

// rejection is the named error a rejected gate fails with.
func rejection(a *approval.Approval) *contract.ApprovalRejectedError {
	return &contract.ApprovalRejectedError{Approver: a.DecidedBy, Reason: a.Reason, ApprovalID: a.ID}
}

// send delivers the recorded decision to the gate.
func (h *Handler) send(ctx context.Context, a *approval.Approval) error {
	if a.TaskToken == "" {
		return fmt.Errorf("%w: the approval holds no task token", ErrTaskGone)
	}
	if a.Decision == approval.DecisionApprove {
		return classify(h.Responder.SendTaskSuccess(ctx, a.TaskToken, GateResult(a)))
	}
	rej := rejection(a)
	return classify(h.Responder.SendTaskFailure(ctx, a.TaskToken, contract.ErrorName(rej), rej.Error()))
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// maxSends bounds the sends of one delivery: a send whose answer was lost
// is sent again only while the history shows the gate still waiting.
const maxSends = 3

// deliver sends a recorded, audited decision to the gate, each send once
// (no SDK retries). A token Step Functions refuses on the first send ever
// means the decision never arrived: the approval is closed and the audit
// says so. After a send whose answer was lost (a connection reset, a 5xx,
// no answer), or a refusal following such a send, the execution history
// decides: the gate ended with this decision (delivered), still waits
// (send again), or ended otherwise (closed); when the history cannot tell,
// the decision is recorded as "delivery unknown" — never as undelivered,
// since it may have taken effect — and the approver, the audit trail and
// the report say so.
func (h *Handler) deliver(ctx context.Context, a *approval.Approval) *refusal {
	for sends := 0; sends < maxSends; sends++ {
		doubtful := a.DeliveryAttempts > 0 // an earlier send's fate is unknown
		if err := h.noteAttempt(ctx, a); err != nil {
			return refuse(http.StatusServiceUnavailable, approval.CodeInternal,
				"the decision on %s is recorded (audit record %d) but its delivery could not be noted (%s): repeat the same command to deliver it",
				a.ID, a.AuditSeq, redact(err.Error(), a.TaskToken))
		}
		err := h.send(ctx, a)
		if err == nil {
			h.delivered(ctx, a, "")
			return nil
		}
		why := redact(err.Error(), a.TaskToken)
		refused := errors.Is(err, ErrTaskTimedOut) || errors.Is(err, ErrTaskGone)
		switch {
		case refused && !doubtful:
			return h.undelivered(ctx, a, errors.Is(err, ErrTaskTimedOut), why)
		case !refused && !ambiguous(err):
			// Refused before it was applied (throttled, denied): nothing
			// happened; the same command delivers it later.
			h.log().Error("delivery failed", "approvalId", a.ID, "error", why)
			return refuse(http.StatusBadGateway, approval.CodeNotDelivered,
				"the decision on %s is recorded (audit record %d) but Step Functions did not take it (%s): repeat the same command to deliver it", a.ID, a.AuditSeq, why)
		}
		out := h.gateOutcome(ctx, a)
		h.log().Warn("delivery in doubt", "approvalId", a.ID, "error", why, "history", out.State, "detail", out.Detail)
		switch out.State {
		case OutcomeDelivered:
			h.delivered(ctx, a, fmt.Sprintf("Step Functions' answer was lost (%s); the execution history shows the decision arrived: %s", why, out.Detail))
			return nil
		case OutcomeEnded:
			return h.undelivered(ctx, a, out.TimedOut, why+"; the execution history: "+out.Detail)
		case OutcomeWaiting:
			if !refused {
				continue // the lost send did not land: send again
			}
			// The gate waits, but for another token: not for this decision.
			return h.undelivered(ctx, a, false, why+"; the execution history: "+out.Detail+" (the gate waits for a newer token)")
		}
		h.deliveryUnknown(ctx, a, why, out.Detail)
		return nil
	}
	h.deliveryUnknown(ctx, a, fmt.Sprintf("%d sends went unanswered", maxSends), "the gate still waited after each")
	return nil
}

// ambiguous reports whether a failed send may have been applied: no
// answer from Step Functions (a reset connection, a timeout) or a 5xx.
// An API refusal with a 4xx was not applied.
func ambiguous(err error) bool {
	var api smithy.APIError
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() >= 500 {
		return true
	}
	return !errors.As(err, &api)
}

// gateOutcome asks the responder's history, when it has one.
func (h *Handler) gateOutcome(ctx context.Context, a *approval.Approval) GateOutcome {
	gh, ok := h.Responder.(GateHistory)
	if !ok {
		return GateOutcome{State: OutcomeUnknown, Detail: "no execution history to read"}
	}
	out, err := gh.GateOutcome(ctx, a)
	if err != nil {
		return GateOutcome{State: OutcomeUnknown, Detail: "reading the execution history failed: " + redact(err.Error(), a.TaskToken)}
	}
	return out
}

// noteAttempt records a send before it happens, so a refusal after a lost
// answer is never taken for a decision that never arrived.
func (h *Handler) noteAttempt(ctx context.Context, a *approval.Approval) error {
	a.DeliveryAttempts++
	return h.update(ctx, a.ID, "SET deliveryAttempts = :n", "", nil,
		map[string]ddbtypes.AttributeValue{":n": num(a.DeliveryAttempts)})
}

// delivered marks the decision delivered. confirmed, when set, says how a
// doubtful delivery was found to have arrived; the audit records it.
func (h *Handler) delivered(ctx context.Context, a *approval.Approval, confirmed string) {
	a.DeliveredAt = h.now().Format(time.RFC3339Nano)
	wasUnknown := a.DeliveryUnknown
	a.DeliveryUnknown = ""
	if uerr := h.update(ctx, a.ID, "SET deliveredAt = :at REMOVE taskToken, deliveryUnknown", "", nil,
		map[string]ddbtypes.AttributeValue{":at": str(a.DeliveredAt)}); uerr != nil {
		h.log().Warn("noting the delivery failed", "approvalId", a.ID, "error", redact(uerr.Error(), a.TaskToken))
	}
	if confirmed == "" && wasUnknown == "" {
		return
	}
	if confirmed == "" {
		confirmed = "Step Functions accepted the decision whose delivery was unknown"
	}
	h.auditDelivery(ctx, a, EventDelivered, a.Status, fmt.Sprintf("the %s decision by %s reached the execution: %s", a.Decision, a.DecidedBy, confirmed),
		map[string]any{"approvalId": a.ID, "decision": a.Decision, "approver": a.DecidedBy, "how": confirmed})
}

// deliveryUnknown records that nobody can tell yet whether the decision
// arrived: the token stays, so repeating the command sends again or reads
// the history again.
func (h *Handler) deliveryUnknown(ctx context.Context, a *approval.Approval, why, detail string) {
	first := a.DeliveryUnknown == ""
	a.DeliveryUnknown = fmt.Sprintf("Step Functions' answer was lost (%s) and the execution history does not tell (%s): the decision may have taken effect", why, detail)
	if err := h.update(ctx, a.ID, "SET deliveryUnknown = :why", "", nil, map[string]ddbtypes.AttributeValue{":why": str(a.DeliveryUnknown)}); err != nil {
		h.log().Warn("noting the unknown delivery failed", "approvalId", a.ID, "error", redact(err.Error(), a.TaskToken))
	}
	if first {
		h.auditDelivery(ctx, a, EventDeliveryUnknown, a.Status,
			fmt.Sprintf("DELIVERY UNKNOWN: the %s decision by %s may or may not have reached the execution: %s", a.Decision, a.DecidedBy, a.DeliveryUnknown),
			map[string]any{"approvalId": a.ID, "decision": a.Decision, "approver": a.DecidedBy, "why": why, "history": detail})
	}
}

// undelivered closes a decision that certainly never took effect.
func (h *Handler) undelivered(ctx context.Context, a *approval.Approval, timedOut bool, why string) *refusal {
	if timedOut {
		h.close(ctx, a, approval.StatusTimedOut, why)
		return refuse(http.StatusGone, approval.CodeExpired,
			"the decision on %s is recorded (audit record %d) but the gate had already timed out: onTimeout (%s) applied", a.ID, a.AuditSeq, a.OnTimeout)
	}
	h.close(ctx, a, approval.StatusClosed, why)
	return refuse(http.StatusConflict, approval.CodeGateClosed,
		"the decision on %s is recorded (audit record %d) but the execution no longer waits for it: %s", a.ID, a.AuditSeq, why)
}

// Audit events of deliveries in doubt.
const (
	EventDeliveryUnknown = "approval-delivery-unknown"
	EventDelivered       = "approval-delivered"
)

func (h *Handler) auditDelivery(ctx context.Context, a *approval.Approval, event, status, summary string, detail map[string]any) {
	if h.Audit == nil {
		return
	}
	d, _ := json.Marshal(detail)
	if _, err := h.Audit.Append(ctx, audit.Record{CaseID: a.CaseID, ExecutionID: a.ExecutionID, Step: a.Step, Action: Action,
		Event: event, Status: status, Summary: summary, Detail: string(d)}); err != nil {
		h.log().Warn("auditing the delivery failed", "approvalId", a.ID, "event", event, "error", err.Error())
	}
}

// close marks a decision that can never reach its gate, and audits why.
func (h *Handler) close(ctx context.Context, a *approval.Approval, status, why string) {
	token := a.TaskToken
	a.Status, a.Undelivered, a.TaskToken = status, why, ""
	if err := h.update(ctx, a.ID, "SET #status = :status, undelivered = :why REMOVE taskToken", "",
		map[string]string{"#status": "status"},
		map[string]ddbtypes.AttributeValue{":status": str(status), ":why": str(why)}); err != nil {
		h.log().Warn("closing the approval failed", "approvalId", a.ID, "error", redact(err.Error(), token))
	}
	if h.Audit == nil {
		return
	}
	detail, _ := json.Marshal(map[string]any{"approvalId": a.ID, "decision": a.Decision, "approver": a.DecidedBy, "why": why})
	if _, err := h.Audit.Append(ctx, audit.Record{CaseID: a.CaseID, ExecutionID: a.ExecutionID, Step: a.Step, Action: Action,
		Event: "approval-undelivered", Status: status, Summary: fmt.Sprintf("the %s decision by %s did not reach the execution: %s", a.Decision, a.DecidedBy, why),
		Detail: string(detail)}); err != nil {
		h.log().Warn("auditing the undelivered decision failed", "approvalId", a.ID, "error", err.Error())
	}
}
