package flowmodel

import (
	"fmt"
	"slices"
	"strings"
)

// Outcome is what became of one established flow over a Replay.
type Outcome struct {
	Flow   string
	Before Verdict // when the flow was opened, on the initial network
	After  Verdict // after the last change; Allowed=false with the reason when cut
	// CutAt is the index of the first change after which the flow was
	// blocked, -1 if it never was. A flow cut by a network ACL and later
	// re-allowed resumes (TCP retransmits; a NACL drop does not end the
	// connection), so After can be allowed with CutAt >= 0.
	CutAt int
	// Residual says, for a flow still allowed after the changes, why:
	// tracked connection, automatically tracked path, same subnet, VPC
	// service, public IP through the internet gateway, or rules that still
	// allow it. Empty when After is blocked.
	Residual string
}

// Replay opens each established flow on initial, applies the changes in
// order to a copy, and re-judges every flow after each change with what it
// carries: per ENI whether the ENI tracks it, and the gateways it goes
// through. initial is not modified; final is the network after the last
// change.
//
// Tracking across changes follows "Amazon EC2 security group connection
// tracking": a tracked flow keeps passing an ENI whose rules no longer allow
// it; an untracked flow is judged packet by packet by the rules in force, in
// both directions, so a rule or group change cuts it at once. When an ENI's
// group set is replaced (SetENIGroups, SetInstanceGroups), each flow the ENI
// tracks that is not on an automatically tracked path, and that the new
// groups would not track, becomes untracked. This is the mechanism the
// AWSSupport-ContainEC2Instance runbook relies on when it moves the ENIs to
// a temporary all-access group before the containment group; it is modeled
// for group-set replacement only, not for rule edits inside a group, which
// is the conservative choice (a flow the model keeps tracked survives).
// An untracked flow whose packets the rules in force still allow, under
// rules that would track it, is taken to be tracked from then on (AWS's
// behaviour for a mid-connection packet is not documented; assuming it
// survives errs against claiming containment). A flow whose gateways change
// (a new route) ends: the remote end sees another address. A flow on a
// stopped or deleted ENI ends for good.
func Replay(initial *Network, established []Flow, changes []Change) (final *Network, outcomes []Outcome, err error) {
	n := initial.Clone()
	type live struct {
		flow  Flow
		st    *flowState
		last  result
		ended bool
		out   Outcome
	}
	flows := make([]*live, 0, len(established))
	for _, f := range established {
		r, err := n.evaluate(f, nil)
		if err != nil {
			return nil, nil, err
		}
		l := &live{flow: f, last: r, out: Outcome{Flow: f.Name, Before: r.Verdict, CutAt: -1}}
		if r.Allowed {
			l.st = &flowState{tracked: r.tracked, gateways: strings.Join(r.plan.gateways, ">")}
		} else {
			l.ended = true
			l.last.Reason = "never established: " + r.Reason
		}
		flows = append(flows, l)
	}
	for i, c := range changes {
		if err := c.Apply(n); err != nil {
			return nil, nil, fmt.Errorf("flowmodel: change %d (%s): %w", i, c, err)
		}
		regrouped := regroupedENI(n, c)
		for _, l := range flows {
			if l.ended {
				continue
			}
			if regrouped != "" && l.st.tracked[regrouped] && l.last.plan.autoTracked == "" {
				if e := n.ENIs[regrouped]; e != nil {
					initiator := l.last.plan.src != nil && l.last.plan.src.ID == regrouped
					if n.untracked(e, initiator, l.last.plan.req) {
						l.st.tracked[regrouped] = false
					}
				}
			}
			r, err := n.evaluate(l.flow, l.st)
			if err != nil {
				return nil, nil, fmt.Errorf("flowmodel: after change %d (%s): %w", i, c, err)
			}
			l.last = r
			if !r.Allowed {
				if l.out.CutAt < 0 {
					l.out.CutAt = i
				}
				if ended(r) {
					l.ended = true
				}
				continue
			}
			for id, t := range r.tracked {
				l.st.tracked[id] = t
			}
		}
	}
	for _, l := range flows {
		l.out.After = l.last.Verdict
		if l.last.Allowed {
			l.out.Residual = residual(l.last)
		}
		outcomes = append(outcomes, l.out)
	}
	return n, outcomes, nil
}

// regroupedENI is the ENI whose group set a change replaced, if any.
func regroupedENI(n *Network, c Change) string {
	switch c := c.(type) {
	case *SetENIGroups:
		return regroupedENI(n, *c)
	case *SetInstanceGroups:
		return regroupedENI(n, *c)
	case SetENIGroups:
		return c.ENI
	case SetInstanceGroups:
		if e := n.primaryENI(c.Instance); e != nil {
			return e.ID
		}
	}
	return ""
}

// ended reports a block that no later change can undo: the endpoint is gone
// or the path moved to other gateways.
func ended(r result) bool {
	if len(r.Path) == 0 {
		return false
	}
	last := r.Path[len(r.Path)-1]
	return last.Check == "endpoint" || last.Check == "path"
}

// TrackedIdleNote is the idle timeout a tracked TCP connection survives: the
// model does not model time. "TCP established timeout ... Default: 350
// seconds for Nitrov6 instance types ... And 432000 seconds for other
// instance types" (Amazon EC2 security group connection tracking, "Idle
// connection tracking timeout").
const TrackedIdleNote = "until it idles out (TCP established timeout: 432000 s by default, 350 s on Nitro v6 instance types)"

// residual explains why a flow is still allowed.
func residual(r result) string {
	p := r.plan
	if p.service != "" {
		return r.Reason
	}
	var parts []string
	for _, id := range slices.Sorted(slices.Values(r.held)) {
		s := fmt.Sprintf("tracked connection on %s survives the security group change %s", id, TrackedIdleNote)
		if p.autoTracked != "" {
			s += fmt.Sprintf("; the path is automatically tracked (%s), so no security group can make it untracked", p.autoTracked)
		}
		parts = append(parts, s)
	}
	if p.sameSubnet != "" {
		parts = append(parts, fmt.Sprintf("same subnet %s: traffic between its ENIs crosses no network ACL", p.sameSubnet))
	}
	if p.publicIGW != "" {
		var sub string
		for _, c := range p.crossings {
			sub = c.subnet.ID
		}
		parts = append(parts, fmt.Sprintf("%s: only subnet %s's network ACL is crossed, and its rules match the remote address (inbound the source, outbound the destination), so no rule can name this ENI's address; only a deny on the remote address or a subnet-wide deny cuts it", p.publicIGW, sub))
	}
	if len(parts) == 0 {
		parts = append(parts, "the rules in force still allow it")
	}
	return strings.Join(parts, "; ")
}
