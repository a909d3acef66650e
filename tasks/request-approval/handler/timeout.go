package handler

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/irflow/irflow/tasks/approval-api/approval"
	"github.com/irflow/irflow/tasks/contract"
)

// timeout records that nobody answered the gate in time. The state machine
// already routes by onTimeout; this marks the approval TIMED_OUT (so a late
// decision is refused), audits which way onTimeout decided, and returns a
// result shaped like a decision so later states and the report read alike.
func (h *Handler) timeout(ctx context.Context, p *contract.Payload, params Params) (*contract.Result, error) {
	id := approval.ID(p.Execution.ID, p.Step)
	now := h.now()
	after := time.Duration(params.TimeoutSeconds) * time.Second
	reason := fmt.Sprintf("no decision within %s; onTimeout: %s", after, params.OnTimeout)
	approved := params.OnTimeout == approval.DecisionApprove

	previous, err := h.markTimedOut(ctx, id, params.OnTimeout, reason, now)
	if err != nil {
		return nil, err
	}
	detail := map[string]any{
		"approvalId": id, "onTimeout": params.OnTimeout, "decision": params.OnTimeout, "approved": approved,
		"timeoutSeconds": params.TimeoutSeconds, "decidedAt": now.Format(time.RFC3339Nano), "reason": reason,
	}
	summary := fmt.Sprintf("approval %s timed out after %s: onTimeout %s", id, after, params.OnTimeout)
	switch {
	case previous == nil:
		detail["note"] = "no approval record was found: the request never stored one"
	case previous.Status == approval.StatusTimedOut:
		detail["note"] = "the approval was already recorded as timed out (a retried call)"
	case previous.Status != approval.StatusPending:
		// A decision was recorded but did not reach the gate before it timed out.
		detail["lateDecision"] = map[string]any{"status": previous.Status, "decidedBy": previous.DecidedBy,
			"decision": previous.Decision, "decidedAt": previous.DecidedAt}
		summary += fmt.Sprintf(" (a %s decision by %s did not reach the gate in time)", previous.Decision, previous.DecidedBy)
	}
	if err := h.audit(ctx, p, "approval-timeout", approval.StatusTimedOut, summary, detail); err != nil {
		return nil, err
	}
	return contract.OK(summary).
		With("approved", approved).
		With("approver", approval.TimeoutApprover).
		With("reason", reason).
		With("decidedAt", now.Format(time.RFC3339Nano)).
		With("decision", params.OnTimeout).
		With("approvalId", id).
		With("timedOut", true), nil
}

// markTimedOut sets a pending approval TIMED_OUT and drops its token. It
// returns the record as it was when the update did not apply (nil when
// there is none).
func (h *Handler) markTimedOut(ctx context.Context, id, onTimeout, reason string, now time.Time) (*approval.Approval, error) {
	_, err := h.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(h.Table),
		Key:       approval.Key(id),
		UpdateExpression: aws.String("SET #status = :timedOut, decision = :decision, decidedBy = :by, decidedAt = :at, " +
			"reason = :reason REMOVE taskToken"),
		ConditionExpression:      aws.String("#status = :pending"),
		ExpressionAttributeNames: map[string]string{"#status": "status"},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":timedOut": str(approval.StatusTimedOut), ":pending": str(approval.StatusPending),
			":decision": str(onTimeout), ":by": str(approval.TimeoutApprover),
			":at": str(now.Format(time.RFC3339Nano)), ":reason": str(reason),
		},
	})
	if err == nil {
		return &approval.Approval{ID: id, Status: approval.StatusPending}, nil
	}
	if !approval.ConditionFailed(err) {
		return nil, contract.AWSError("dynamodb:UpdateItem approvals", err)
	}
	return approval.Load(ctx, h.DB, h.Table, id)
}
