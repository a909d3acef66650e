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
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

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

// SFNResponder answers gates through the Step Functions API.
type SFNResponder struct {
	Client sfnAPI
}

var _ TaskResponder = (*SFNResponder)(nil)

// SendTaskSuccess sends the gate's result.
func (r *SFNResponder) SendTaskSuccess(ctx context.Context, taskToken, output string) error {
	_, err := r.Client.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(taskToken), Output: aws.String(output)})
	return sfnError(err)
}

// SendTaskFailure fails the gate with a named error.
func (r *SFNResponder) SendTaskFailure(ctx context.Context, taskToken, errorName, cause string) error {
	_, err := r.Client.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(taskToken),
		Error: aws.String(errorName), Cause: aws.String(clip(cause, 32768))})
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

// deliver sends a recorded, audited decision to the gate. A token Step
// Functions refuses closes the approval (and the audit says the decision
// never reached the execution); any other failure leaves it for a retry.
func (h *Handler) deliver(ctx context.Context, a *approval.Approval) *refusal {
	err := h.send(ctx, a)
	if err == nil {
		a.DeliveredAt = h.now().Format(time.RFC3339Nano)
		if uerr := h.update(ctx, a.ID, "SET deliveredAt = :at REMOVE taskToken", "", nil,
			map[string]ddbtypes.AttributeValue{":at": str(a.DeliveredAt)}); uerr != nil {
			h.log().Warn("noting the delivery failed", "approvalId", a.ID, "error", redact(uerr.Error(), a.TaskToken))
		}
		return nil
	}
	why := redact(err.Error(), a.TaskToken)
	switch {
	case errors.Is(err, ErrTaskTimedOut):
		h.close(ctx, a, approval.StatusTimedOut, why)
		return refuse(http.StatusGone, approval.CodeExpired,
			"the decision on %s is recorded (audit record %d) but the gate had already timed out: onTimeout (%s) applied", a.ID, a.AuditSeq, a.OnTimeout)
	case errors.Is(err, ErrTaskGone):
		h.close(ctx, a, approval.StatusClosed, why)
		return refuse(http.StatusConflict, approval.CodeGateClosed,
			"the decision on %s is recorded (audit record %d) but the execution no longer waits for it: %s", a.ID, a.AuditSeq, why)
	}
	h.log().Error("delivery failed", "approvalId", a.ID, "error", why)
	return refuse(http.StatusBadGateway, approval.CodeNotDelivered,
		"the decision on %s is recorded (audit record %d) but Step Functions did not take it (%s): repeat the same command to deliver it", a.ID, a.AuditSeq, why)
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
