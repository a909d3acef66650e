package report

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// Audit events of approval gates (request-approval and approval-api).
const (
	EventApprovalRequested   = "approval-requested"
	EventApprovalDecided     = "approval-decided"
	EventApprovalTimeout     = "approval-timeout"
	EventApprovalUndelivered = "approval-undelivered"
	EventApprovalVote        = "approval-vote"
	// EventApprovalDeliveryUnknown: Step Functions' answer to the decision
	// was lost and the execution history could not tell whether it arrived.
	EventApprovalDeliveryUnknown = "approval-delivery-unknown"
	// EventApprovalDelivered: a decision whose delivery was in doubt was
	// found in the execution history.
	EventApprovalDelivered = "approval-delivered"
)

// approvalDetail is the union of the approval events' details.
type approvalDetail struct {
	ApprovalID   string   `json:"approvalId"`
	Approvers    []string `json:"approvers"`
	RequestedBy  string   `json:"requestedBy"`
	OnTimeout    string   `json:"onTimeout"`
	ExpiresAt    string   `json:"expiresAt"`
	Prompt       string   `json:"prompt"`
	Approver     string   `json:"approver"`
	Decision     string   `json:"decision"`
	Reason       string   `json:"reason"`
	DecidedAt    string   `json:"decidedAt"`
	LateDecision *struct {
		DecidedBy string `json:"decidedBy"`
		Decision  string `json:"decision"`
	} `json:"lateDecision"`
	RequiredApprovals int  `json:"requiredApprovals"`
	RequesterVerified bool `json:"requesterVerified"`
	Approvals         []struct {
		By string `json:"by"`
	} `json:"approvals"`
}

// approvals follows each gate through its audit events, then fills what
// the audit lacks (a run without the approval API) from the final state.
func approvals(in Input) []Approval {
	var order []string
	byKey := map[string]*Approval{}
	get := func(key, step string) *Approval {
		a, ok := byKey[key]
		if !ok {
			a = &Approval{Step: step, Approvers: []string{}, Status: "PENDING"}
			byKey[key] = a
			order = append(order, key)
		}
		return a
	}
	for _, r := range in.Records {
		switch r.Event {
		case EventApprovalRequested, EventApprovalDecided, EventApprovalTimeout, EventApprovalUndelivered, EventApprovalVote,
			EventApprovalDeliveryUnknown, EventApprovalDelivered:
		default:
			continue
		}
		var d approvalDetail
		_ = json.Unmarshal([]byte(r.Detail), &d)
		key := d.ApprovalID
		if key == "" {
			key = "step:" + r.Step
		}
		a := get(key, r.Step)
		a.ApprovalID = d.ApprovalID
		switch r.Event {
		case EventApprovalRequested:
			if a.RequestedAt == "" {
				a.RequestedAt = r.At
			}
			a.Prompt, a.RequestedBy, a.OnTimeout, a.ExpiresAt = d.Prompt, d.RequestedBy, d.OnTimeout, d.ExpiresAt
			a.RequiredApprovals, a.RequesterVerified = d.RequiredApprovals, d.RequesterVerified
			if d.Approvers != nil {
				a.Approvers = d.Approvers
			}
		case EventApprovalVote:
			a.ApprovedBy = append(a.ApprovedBy, d.Approver)
		case EventApprovalDecided:
			a.Status, a.Decision, a.Approver, a.Reason, a.DecidedAt = r.Status, d.Decision, d.Approver, d.Reason, d.DecidedAt
			if len(d.Approvals) > 0 {
				a.ApprovedBy = a.ApprovedBy[:0]
				for _, v := range d.Approvals {
					a.ApprovedBy = append(a.ApprovedBy, v.By)
				}
			}
		case EventApprovalTimeout:
			a.Status, a.Decision, a.Approver, a.Reason, a.DecidedAt = "TIMED_OUT", d.OnTimeout, "timeout", d.Reason, d.DecidedAt
			a.OnTimeout = d.OnTimeout
			if d.LateDecision != nil {
				a.Note = fmt.Sprintf("a %s decision by %s arrived too late", d.LateDecision.Decision, d.LateDecision.DecidedBy)
			}
		case EventApprovalUndelivered:
			a.Status, a.Note = r.Status, r.Summary
		case EventApprovalDeliveryUnknown:
			a.Note = "DELIVERY UNKNOWN: " + r.Summary
		case EventApprovalDelivered:
			a.Note = r.Summary
		}
	}
	fillFromSteps(in, byKey, &order, get)
	out := make([]Approval, 0, len(order))
	for _, k := range order {
		out = append(out, *byKey[k])
	}
	return out
}

// fillFromSteps completes gates from $.steps: a gate's result carries
// outputs.approved, a rejected gate holds {Error: ApprovalRejectedError}.
func fillFromSteps(in Input, byKey map[string]*Approval, order *[]string, get func(key, step string) *Approval) {
	for _, id := range slices.Sorted(maps.Keys(in.Steps)) {
		v, ok := decodeStep(in.Steps[id])
		if !ok {
			continue
		}
		approved, isGate := v.Outputs["approved"].(bool)
		rejected := v.Error == "ApprovalRejectedError"
		if !isGate && !rejected {
			continue
		}
		var a *Approval
		for _, k := range *order {
			if byKey[k].Step == id {
				a = byKey[k]
			}
		}
		if a == nil {
			a = get("step:"+id, id)
		}
		if a.Status != "PENDING" {
			continue
		}
		if rejected {
			a.Status, a.Decision, a.Reason = "REJECTED", "reject", v.Cause
			continue
		}
		a.Status, a.Decision = "APPROVED", "approve"
		if !approved {
			a.Status, a.Decision = "REJECTED", "reject"
		}
		if t, _ := v.Outputs["timedOut"].(bool); t {
			a.Status = "TIMED_OUT"
		}
		a.Approver, _ = v.Outputs["approver"].(string)
		a.Reason, _ = v.Outputs["reason"].(string)
		a.DecidedAt, _ = v.Outputs["decidedAt"].(string)
		if id, _ := v.Outputs["approvalId"].(string); id != "" {
			a.ApprovalID = id
		}
	}
}
