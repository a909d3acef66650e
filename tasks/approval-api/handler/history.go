package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/irflow/irflow/tasks/approval-api/approval"
	"github.com/irflow/irflow/tasks/contract"
)

// What the execution history says became of a decision whose delivery is
// in doubt (Step Functions' answer was lost, or it refused a token a
// previous send may already have used).
const (
	// OutcomeDelivered: the gate's task ended with this decision (its
	// SendTaskSuccess output names the approval and the approver, or its
	// SendTaskFailure cause does): it took effect.
	OutcomeDelivered = "delivered"
	// OutcomeWaiting: the gate still waits; the decision did not land.
	OutcomeWaiting = "waiting"
	// OutcomeEnded: the gate (or the execution) ended some other way: the
	// decision never took effect.
	OutcomeEnded = "ended"
	// OutcomeUnknown: the history does not tell.
	OutcomeUnknown = "unknown"
)

// GateOutcome is what the history says, and why.
type GateOutcome struct {
	State string
	// TimedOut says the gate ended by timing out (OutcomeEnded).
	TimedOut bool
	Detail   string
}

// GateHistory reads an execution's history for a decision. SFNResponder
// implements it with GetExecutionHistory; a responder without it (a local
// simulator) leaves doubtful deliveries unknown.
type GateHistory interface {
	GateOutcome(ctx context.Context, a *approval.Approval) (GateOutcome, error)
}

// historyAPI is the part of Step Functions that reads an execution's history.
type historyAPI interface {
	GetExecutionHistory(ctx context.Context, in *sfn.GetExecutionHistoryInput, opts ...func(*sfn.Options)) (*sfn.GetExecutionHistoryOutput, error)
}

// maxHistoryPages bounds the history read (1000 events a page): a gate's
// events are recent, and the read must end within the function's time.
const maxHistoryPages = 20

var _ GateHistory = (*SFNResponder)(nil)

// GateOutcome reads the execution's history, newest first
// (https://docs.aws.amazon.com/step-functions/latest/apireference/API_GetExecutionHistory.html),
// for the gate's task state "<launch type>: <step>": a TaskSucceeded whose
// output is this decision's task result, or a TaskFailed whose cause names
// this approval, means delivered; the gate's state exited (or the
// execution ended) without it means it never took effect; the gate entered
// and not exited means it still waits.
func (r *SFNResponder) GateOutcome(ctx context.Context, a *approval.Approval) (GateOutcome, error) {
	if r.History == nil {
		return GateOutcome{State: OutcomeUnknown, Detail: "no execution history to read"}, nil
	}
	in := &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(a.ExecutionID), ReverseOrder: true, MaxResults: 1000,
		IncludeExecutionData: aws.Bool(true)}
	var events []sfntypes.HistoryEvent
	for page := 0; page < maxHistoryPages; page++ {
		out, err := r.History.GetExecutionHistory(ctx, in)
		if err != nil {
			return GateOutcome{}, contract.AWSError("states:GetExecutionHistory "+a.ExecutionID, err)
		}
		events = append(events, out.Events...)
		if g := readGate(events, a); g.State != OutcomeUnknown || out.NextToken == nil {
			return g, nil
		}
		in.NextToken = out.NextToken
	}
	return GateOutcome{State: OutcomeUnknown, Detail: fmt.Sprintf("the gate's events are not in the last %d pages of the history", maxHistoryPages)}, nil
}

// readGate decides from events (newest first). An event whose data the
// history truncated leaves it unknown rather than guessed.
func readGate(events []sfntypes.HistoryEvent, a *approval.Approval) GateOutcome {
	exited := false
	for _, ev := range events {
		switch ev.Type {
		case sfntypes.HistoryEventTypeTaskSucceeded:
			if d := ev.TaskSucceededEventDetails; d != nil && isDecisionOutput(aws.ToString(d.Output), a) {
				return GateOutcome{State: OutcomeDelivered, Detail: fmt.Sprintf("event %d: the gate's task succeeded with this approval", ev.Id)}
			}
		case sfntypes.HistoryEventTypeTaskFailed:
			if d := ev.TaskFailedEventDetails; d != nil && aws.ToString(d.Error) == contract.ErrApprovalRejected &&
				strings.Contains(aws.ToString(d.Cause), "approval "+a.ID+" rejected by "+a.DecidedBy) {
				return GateOutcome{State: OutcomeDelivered, Detail: fmt.Sprintf("event %d: the gate's task failed with this rejection", ev.Id)}
			}
		case sfntypes.HistoryEventTypeTaskTimedOut:
			if exited {
				return GateOutcome{State: OutcomeEnded, TimedOut: true, Detail: fmt.Sprintf("event %d: the gate timed out", ev.Id)}
			}
		case sfntypes.HistoryEventTypeTaskStateExited:
			if d := ev.StateExitedEventDetails; d != nil && isGateState(aws.ToString(d.Name), a) {
				exited = true
			}
		case sfntypes.HistoryEventTypeTaskStateEntered:
			if d := ev.StateEnteredEventDetails; d != nil && isGateState(aws.ToString(d.Name), a) {
				if !exited {
					return GateOutcome{State: OutcomeWaiting, Detail: fmt.Sprintf("event %d: the gate's state %q has not exited", ev.Id, aws.ToString(d.Name))}
				}
				return GateOutcome{State: OutcomeEnded, Detail: fmt.Sprintf("the gate's state %q exited without this decision", aws.ToString(d.Name))}
			}
		case sfntypes.HistoryEventTypeExecutionSucceeded, sfntypes.HistoryEventTypeExecutionFailed,
			sfntypes.HistoryEventTypeExecutionAborted, sfntypes.HistoryEventTypeExecutionTimedOut:
			// The execution ended; its gate's events come further back.
		}
	}
	return GateOutcome{State: OutcomeUnknown, Detail: "the history read holds no event of the gate"}
}

// isGateState reports whether a state name is the gate's waitForTaskToken
// state: "<launch type>: <step>" (generator/names.go), not its "timed out".
func isGateState(name string, a *approval.Approval) bool {
	if a.LaunchType != "" {
		return name == a.LaunchType+": "+a.Step
	}
	_, step, ok := strings.Cut(name, ": ")
	return ok && step == a.Step
}

// isDecisionOutput reports whether a TaskSucceeded output is this
// decision's task result (GateResult): the approval id, the approver and
// the decision all match.
func isDecisionOutput(output string, a *approval.Approval) bool {
	var res struct {
		Outputs struct {
			ApprovalID string `json:"approvalId"`
			Approver   string `json:"approver"`
			Decision   string `json:"decision"`
			TimedOut   bool   `json:"timedOut"`
		} `json:"outputs"`
	}
	if json.Unmarshal([]byte(output), &res) != nil {
		return false
	}
	o := res.Outputs
	return o.ApprovalID == a.ID && o.Approver == a.DecidedBy && o.Decision == a.Decision && !o.TimedOut
}
