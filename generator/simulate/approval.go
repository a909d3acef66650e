package simulate

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/irflow/irflow/generator"
)

// Gate is an approval step waiting for a decision: a
// lambda:invoke.waitForTaskToken state whose request-approval call has
// returned.
type Gate struct {
	State string // e.g. "EC2: approve-containment"
	Step  string // the approval step id
	// Token is the task token a decision must name ($$.Task.Token).
	Token string
	// TimeoutSeconds is how long the gate waits before States.Timeout.
	TimeoutSeconds int
	// Payload is what request-approval received (prompt, approvers, …).
	Payload json.RawMessage
	// MinApprovers is how many different people must approve the gate
	// (with.minApprovers of the payload; 1 when absent).
	MinApprovers int
	// At is the virtual time the gate opened.
	At time.Time
}

// Decision answers a gate the way the Step Functions callback API does:
// SendTaskSuccess with Output (the task result the gate's ResultSelector
// reads), or SendTaskFailure with Error and Cause, or no answer at all, so
// that the gate times out and its onTimeout decides.
type Decision struct {
	Output   json.RawMessage
	Error    string
	Cause    string
	NoAnswer bool
	// After is how long (virtual time) the decision took.
	After time.Duration
}

// Approver decides gates. The default approves every gate except those
// Options.Reject and Options.Timeout name; CallbackApprover plugs in
// code that answers through the callback API, such as tasks/approval-api.
type Approver interface {
	Decide(ctx context.Context, gate Gate) (Decision, error)
}

// ApproverFunc adapts a function to Approver.
type ApproverFunc func(ctx context.Context, gate Gate) (Decision, error)

// Decide implements Approver.
func (f ApproverFunc) Decide(ctx context.Context, g Gate) (Decision, error) { return f(ctx, g) }

// SimApprover is the approver name the default policy records.
const SimApprover = "irflow-simulate"

// PolicyApprover approves every gate but the rejected ones (ApprovalRejectedError)
// and the unanswered ones (the gate times out). A gate that needs n approvers
// is approved by n different simulated people.
func PolicyApprover(reject, timeout []string) Approver {
	rej, tmo := set(reject), set(timeout)
	return ApproverFunc(func(_ context.Context, g Gate) (Decision, error) {
		switch {
		case tmo[g.Step]:
			return Decision{NoAnswer: true}, nil
		case rej[g.Step]:
			return Decision{Error: generator.ErrApprovalRejected,
				Cause: fmt.Sprintf("rejected by %s: --reject %s", SimApprover, g.Step)}, nil
		}
		approvers := []string{SimApprover}
		if g.MinApprovers > 1 {
			approvers = approvers[:0]
			for i := 1; i <= g.MinApprovers; i++ {
				approvers = append(approvers, fmt.Sprintf("%s-%d", SimApprover, i))
			}
		}
		return Approved(approvers, "approved by the simulator's default policy", g.At)
	})
}

// Approved is the SendTaskSuccess output of a gate approved by the given
// different people: a task result whose outputs say who approved (approver
// is the last, deciding one), why and when.
func Approved(approvers []string, reason string, at time.Time) (Decision, error) {
	last := approvers[len(approvers)-1]
	summary := "approved by " + last
	if len(approvers) > 1 {
		summary = fmt.Sprintf("approved by %d people: %s", len(approvers), strings.Join(approvers, ", "))
	}
	out, err := json.Marshal(map[string]any{
		"status":   "OK",
		"summary":  summary,
		"evidence": []any{},
		"outputs": map[string]any{
			"approved": true, "approver": last, "approvers": approvers, "reason": reason,
			"decidedAt": at.UTC().Format(time.RFC3339),
		},
	})
	return Decision{Output: out}, err
}

// gateQuorum reads with.minApprovers from a request-approval payload.
func gateQuorum(payload []byte) int {
	var p struct {
		With struct {
			MinApprovers int `json:"minApprovers"`
		} `json:"with"`
	}
	if json.Unmarshal(payload, &p) != nil || p.With.MinApprovers < 1 {
		return 1
	}
	return p.With.MinApprovers
}

// Callbacks is the part of the Step Functions API that answers a task
// token. In a simulation it is served in process, so code written against
// the real API (tasks/approval-api's SendTaskSuccess/SendTaskFailure
// client) can decide gates unchanged.
type Callbacks interface {
	SendTaskSuccess(ctx context.Context, taskToken, output string) error
	SendTaskFailure(ctx context.Context, taskToken, errorName, cause string) error
}

// CallbackApprover turns code that answers gates through the callback API
// into an Approver: answer is called once per gate with a Callbacks bound
// to that gate's token; returning without answering leaves the gate to
// time out.
type CallbackApprover func(ctx context.Context, gate Gate, cb Callbacks) error

// Decide implements Approver.
func (f CallbackApprover) Decide(ctx context.Context, g Gate) (Decision, error) {
	cb := &gateCallbacks{token: g.Token}
	if err := f(ctx, g, cb); err != nil {
		return Decision{}, err
	}
	cb.mu.Lock()
	defer cb.mu.Unlock()
	if !cb.answered {
		return Decision{NoAnswer: true}, nil
	}
	return cb.decision, nil
}

// gateCallbacks records the one answer to one token, refusing others as
// Step Functions does (InvalidToken, TaskTimedOut).
type gateCallbacks struct {
	mu       sync.Mutex
	token    string
	answered bool
	decision Decision
}

func (c *gateCallbacks) answer(token string, d Decision) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case token != c.token:
		return &TaskError{Name: "InvalidToken", Message: "the task token does not name a waiting task"}
	case c.answered:
		return &TaskError{Name: "TaskTimedOut", Message: "the task was already answered"}
	}
	c.answered, c.decision = true, d
	return nil
}

// SendTaskSuccess implements Callbacks.
func (c *gateCallbacks) SendTaskSuccess(_ context.Context, token, output string) error {
	if !json.Valid([]byte(output)) {
		return &TaskError{Name: "InvalidOutput", Message: "the output is not JSON"}
	}
	return c.answer(token, Decision{Output: json.RawMessage(output)})
}

// SendTaskFailure implements Callbacks.
func (c *gateCallbacks) SendTaskFailure(_ context.Context, token, errorName, cause string) error {
	return c.answer(token, Decision{Error: errorName, Cause: cause})
}

func set(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}
