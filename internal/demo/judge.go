package demo

import (
	"fmt"

	"github.com/irflow/irflow/internal/flowmodel"
	"github.com/irflow/irflow/internal/worlds"
)

// FlowResult is one named flow of a case as the flow model judges it over
// the world's state before the response and its final state after.
type FlowResult struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Established bool   `json:"established"`
	// Before and After are "allowed" or "blocked".
	Before string `json:"before"`
	After  string `json:"after"`
	// Residual says why a flow is still allowed after the response.
	Residual string `json:"residual,omitempty"`
	// Reason says what decided After.
	Reason string `json:"reason"`
}

// Verdict words.
const (
	Allowed = "allowed"
	Blocked = "blocked"
)

func word(allowed bool) string {
	if allowed {
		return Allowed
	}
	return Blocked
}

// judgeFlows replays the world's established flows through the EC2 changes
// the response made (as moto accepted them, recorded by the strict layer)
// from the network as it was before the response, and judges its new flows
// on the final network. A flow whose task ended STOPPED is blocked whatever
// the network says: the process at its end is gone. Nothing here reads
// what a handler reported.
func judgeFlows(w *worlds.World, baseline *flowmodel.Network, changes []flowmodel.Change, stopped map[string]bool) ([]FlowResult, *flowmodel.Network, error) {
	var est []flowmodel.Flow
	for _, f := range w.Flows {
		if f.Established {
			est = append(est, f.Flow)
		}
	}
	final, outcomes, err := flowmodel.Replay(baseline, est, changes)
	if err != nil {
		return nil, nil, fmt.Errorf("replaying the response's network changes: %w", err)
	}
	byName := map[string]flowmodel.Outcome{}
	for _, o := range outcomes {
		byName[o.Flow] = o
	}
	var out []FlowResult
	for _, f := range w.Flows {
		r := FlowResult{Name: f.Name, Description: f.Description, Established: f.Established}
		var after flowmodel.Verdict
		if f.Established {
			o := byName[f.Name]
			r.Before = word(o.Before.Allowed)
			after, r.Residual = o.After, o.Residual
		} else {
			before, err := baseline.Evaluate(f.Flow)
			if err != nil {
				return nil, nil, err
			}
			r.Before = word(before.Allowed)
			if after, err = final.Evaluate(f.Flow); err != nil {
				return nil, nil, err
			}
			if after.Allowed {
				r.Residual = after.Reason
			}
		}
		r.After, r.Reason = word(after.Allowed), after.Reason
		if f.Owner != "" && stopped[f.Owner] {
			r.After, r.Residual, r.Reason = Blocked, "", "the task at its end is STOPPED"
		}
		out = append(out, r)
	}
	return out, final, nil
}
