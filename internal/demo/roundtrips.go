package demo

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/irflow/irflow/generator/simulate"
	"github.com/irflow/irflow/internal/benchdoc"
	"github.com/irflow/irflow/internal/strict"
)

// Round trips to containment: how many sequential AWS round trips an
// execution makes from its start until the isolation is in effect. The
// strict layer logs every AWS request it serves with its start and end and
// the step that made it (the handlers' clients carry the step in
// strict.StepHeader); the bench takes the requests of the run from its
// first one to the end of the last request that establishes the isolation,
// and counts, per step, the longest chain of requests each sent after the
// previous one's answer (concurrent calls count once), then combines the
// steps as the state machine runs them: one after the other they add up, the
// branches of a Parallel state (which Step Functions runs at once, and the
// bench one after another) cost their longest branch. Requests no step made
// (the approver's decision, the bench's own reads) and the human's wait at a
// gate are not counted; Lambda invocations are not AWS API round trips
// here (BENCHMARKS.md section 4 counts them). The count and how it was
// made go in the summary as a benchdoc.ContainmentPath.

// isolating are the requests that put an isolation in effect: the network
// ACL entries that deny the task's addresses (awsvpc) and the group changes
// of the instance's ENIs (bridge, host).
var isolating = map[string]bool{
	"CreateNetworkAclEntry": true, "ReplaceNetworkAclEntry": true,
	"ModifyNetworkInterfaceAttribute": true, "ModifyInstanceAttribute": true,
}

// interval is one request's time on the wire, as the layer saw it.
type interval struct{ start, end time.Time }

// sequentialRoundTrips is the longest chain of requests each of which
// started after the previous one ended: the round trips a caller waited
// for one after the other. Overlapping requests were in flight together and
// count once; a request that starts as another ends (a caller sending the
// next request on the answer) counts again. Greedy by end time: the most
// pairwise disjoint intervals.
func sequentialRoundTrips(iv []interval) int {
	iv = slices.Clone(iv)
	slices.SortFunc(iv, func(a, b interval) int { return a.end.Compare(b.end) })
	n := 0
	var last time.Time
	for i, x := range iv {
		if i == 0 || !x.start.Before(last) {
			n++
			last = x.end
		}
	}
	return n
}

// stepCtxKey carries the step a handler runs for.
type stepCtxKey struct{}

// tagSteps wraps a handler so that every AWS request it makes carries the
// payload's step (its action for Resolve target, whose step is "") in
// strict.StepHeader.
func tagSteps(h simulate.TaskHandler) simulate.TaskHandler {
	return func(ctx context.Context, payload json.RawMessage) (json.RawMessage, error) {
		var p struct {
			Action string `json:"action"`
			Step   string `json:"step"`
		}
		_ = json.Unmarshal(payload, &p)
		return h(context.WithValue(ctx, stepCtxKey{}, cmp.Or(p.Step, p.Action)), payload)
	}
}

// withStepHeader adds the SDK middleware that sets strict.StepHeader from
// the request's context.
func withStepHeader(cfg aws.Config) aws.Config {
	cfg = cfg.Copy()
	cfg.APIOptions = append(cfg.APIOptions, func(st *middleware.Stack) error {
		return st.Build.Add(middleware.BuildMiddlewareFunc("irflowStepHeader",
			func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
				if step, _ := ctx.Value(stepCtxKey{}).(string); step != "" {
					if req, ok := in.Request.(*smithyhttp.Request); ok {
						req.Header.Set(strict.StepHeader, step)
					}
				}
				return next.HandleBuild(ctx, in)
			}), middleware.After)
	})
	return cfg
}

// aslNode is the part of an ASL state the path needs.
type aslNode struct {
	States map[string]struct {
		Type       string `json:"Type"`
		Parameters struct {
			Payload struct {
				Action string `json:"action"`
				Step   string `json:"step"`
			} `json:"Payload"`
		} `json:"Parameters"`
		Branches      []aslNode `json:"Branches"`
		ItemProcessor *aslNode  `json:"ItemProcessor"`
		Iterator      *aslNode  `json:"Iterator"`
	} `json:"States"`
}

// stateInfo is a Task state's step (the key its requests carry) and the
// Parallel state around it.
type stateInfo struct{ key, parallel string }

func (n *aslNode) tasks(parallel string, out map[string]stateInfo) {
	for name, s := range n.States {
		switch s.Type {
		case "Task":
			p := s.Parameters.Payload
			out[name] = stateInfo{key: cmp.Or(p.Step, p.Action), parallel: parallel}
		case "Parallel":
			for i := range s.Branches {
				s.Branches[i].tasks(name, out)
			}
		case "Map":
			for _, m := range []*aslNode{s.ItemProcessor, s.Iterator} {
				if m != nil {
					m.tasks(parallel, out)
				}
			}
		}
	}
}

// cost is the machine's round trips: its states one after the other, a
// Parallel its longest branch, a Map its iterations one after the other
// (an upper bound: Step Functions may run them at once). owner names, per
// step key, the one state its round trips are charged to.
func (n *aslNode) cost(owner map[string]string, rounds map[string]int) int {
	total := 0
	for name, s := range n.States {
		switch s.Type {
		case "Task":
			p := s.Parameters.Payload
			if key := cmp.Or(p.Step, p.Action); owner[key] == name {
				total += rounds[key]
			}
		case "Parallel":
			longest := 0
			for i := range s.Branches {
				longest = max(longest, s.Branches[i].cost(owner, rounds))
			}
			total += longest
		case "Map":
			for _, m := range []*aslNode{s.ItemProcessor, s.Iterator} {
				if m != nil {
					total += m.cost(owner, rounds)
				}
			}
		}
	}
	return total
}

// containmentPath measures a run's path to containment from the requests
// the layer logged during it. asl is the compiled definition, auditTable
// the audit chain's table, latency the layer's request floor it ran with.
func containmentPath(asl []byte, run *simulate.Execution, reqs []strict.LoggedRequest, auditTable string, latency time.Duration) (*benchdoc.ContainmentPath, error) {
	var root aslNode
	if err := json.Unmarshal(asl, &root); err != nil {
		return nil, fmt.Errorf("the compiled definition: %w", err)
	}
	states := map[string]stateInfo{}
	root.tasks("", states)
	gates, triages, memories := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, s := range run.Steps {
		switch s.Action {
		case "request-approval":
			gates[cmp.Or(states[s.State].key, s.Step)] = true
		case "exec-triage":
			triages[cmp.Or(states[s.State].key, s.Step)] = true
		case "capture-memory":
			memories[cmp.Or(states[s.State].key, s.Step)] = true
		}
	}
	// The isolation: the first isolate-network step that ran and ended
	// neither caught nor failed.
	path := &benchdoc.ContainmentPath{Steps: []benchdoc.PathStep{}, LatencyMs: latency.Milliseconds()}
	var isoKey string
	for _, s := range run.Steps {
		if s.Action != "isolate-network" {
			continue
		}
		if s.Result == simulate.ResultCaught || s.Result == simulate.ResultFailed {
			path.Reason = fmt.Sprintf("isolate-network step %s ended %s: no isolation in effect", s.Step, s.Result)
			continue
		}
		isoKey = cmp.Or(states[s.State].key, s.Step)
		break
	}
	if isoKey == "" {
		if path.Reason == "" {
			path.Reason = "no isolate-network step ran"
		}
		return path, nil
	}
	var contained time.Time
	for _, r := range reqs {
		if r.Step == isoKey && isolating[r.Operation] && r.Status >= 200 && r.Status < 300 && r.End.After(contained) {
			contained = r.End
		}
	}
	if contained.IsZero() {
		path.Reason = fmt.Sprintf("isolate-network step %s changed no network ACL entry and no ENI's groups", isoKey)
		return path, nil
	}
	path.Step, path.Reason = isoKey, ""
	// Charge each step to the first state of it that ran; a step the
	// definition does not name counts one after the other.
	owner := map[string]string{}
	for _, s := range run.Steps {
		if info, ok := states[s.State]; ok {
			if _, seen := owner[info.key]; !seen {
				owner[info.key] = s.State
			}
		}
	}
	// The last approval before containment: the human's answer.
	var decided, triaged, captured time.Time
	for _, r := range reqs {
		if r.Step != "" && r.Start.Before(contained) && gates[r.Step] && r.End.After(decided) {
			decided = r.End
		}
		if r.Step != "" && r.Start.Before(contained) && triages[r.Step] && r.End.After(triaged) {
			triaged = r.End
		}
		if r.Step != "" && r.Start.Before(contained) && memories[r.Step] && r.End.After(captured) {
			captured = r.End
		}
	}
	isAudit := func(r strict.LoggedRequest) bool {
		return (r.Service == "dynamodb" && r.Resource == auditTable) || (r.Service == "kms" && r.Operation == "GenerateMac")
	}
	onPath := func(r strict.LoggedRequest) bool { return r.Step != "" && r.Start.Before(contained) }
	// cost is the round trips of the requests on the path that keep
	// selects, by step, and per step.
	cost := func(keep func(strict.LoggedRequest) bool) (int, map[string]int) {
		byKey := map[string][]interval{}
		for _, r := range reqs {
			if onPath(r) && keep(r) {
				byKey[r.Step] = append(byKey[r.Step], interval{r.Start, r.End})
			}
		}
		rounds := map[string]int{}
		for k, iv := range byKey {
			rounds[k] = sequentialRoundTrips(iv)
		}
		total := root.cost(owner, rounds)
		for k, n := range rounds {
			if _, ok := owner[k]; !ok {
				total += n
			}
		}
		return total, rounds
	}
	var rounds, auditRounds map[string]int
	path.RoundTrips, rounds = cost(func(strict.LoggedRequest) bool { return true })
	path.AuditRoundTrips, auditRounds = cost(isAudit)
	if !decided.IsZero() {
		n, _ := cost(func(r strict.LoggedRequest) bool { return r.Start.After(decided) })
		path.AfterDecision = &n
	}
	if !triaged.IsZero() {
		n, _ := cost(func(r strict.LoggedRequest) bool { return r.Start.After(triaged) })
		path.AfterTriage = &n
	}
	// Memory captured after the decision, before the isolation (the
	// order docs/design.md requires on EC2: SSM must still reach the host).
	if !captured.IsZero() && captured.After(decided) {
		n, _ := cost(func(r strict.LoggedRequest) bool { return r.Start.After(captured) })
		path.AfterMemory = &n
	}
	index := map[string]int{}
	for _, r := range reqs {
		if !onPath(r) {
			continue
		}
		i, ok := index[r.Step]
		if !ok {
			i = len(path.Steps)
			index[r.Step] = i
			path.Steps = append(path.Steps, benchdoc.PathStep{Step: r.Step, RoundTrips: rounds[r.Step], AuditRoundTrips: auditRounds[r.Step],
				Parallel: states[owner[r.Step]].parallel, Operations: []string{}})
		}
		ps := &path.Steps[i]
		ps.Requests++
		ps.Operations = append(ps.Operations, r.Service+":"+r.Operation)
		path.Requests++
	}
	return path, nil
}

// noteGaps names the path's steps that failed on a moto gap.
func noteGaps(p *benchdoc.ContainmentPath, caught []CaughtStep) {
	if p == nil {
		return
	}
	for _, c := range caught {
		if c.Gap == "" {
			continue
		}
		for _, s := range p.Steps {
			if s.Step == c.Step {
				p.Gaps = append(p.Gaps, c.Step+" ("+c.Gap+")")
			}
		}
	}
}
