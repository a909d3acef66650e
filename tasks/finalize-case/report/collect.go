package report

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/contract"
)

// stepValue is what $.steps.<id> holds: a task result, or the {Error,
// Cause} a Catch stored there (a rejected gate, a caught failure).
type stepValue struct {
	Status   string              `json:"status"`
	Summary  string              `json:"summary"`
	Evidence []contract.Evidence `json:"evidence"`
	Outputs  map[string]any      `json:"outputs"`
	Error    string              `json:"Error"`
	Cause    string              `json:"Cause"`
}

func decodeStep(raw json.RawMessage) (stepValue, bool) {
	var v stepValue
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, false
	}
	return v, true
}

// stepOrder is the seq of each step's first record and the action that
// ran it, so steps list in the order they ran.
func stepOrder(records []audit.Record) (first map[string]int64, action map[string]string) {
	first, action = map[string]int64{}, map[string]string{}
	for _, r := range records {
		if r.Step == "" {
			continue
		}
		if _, ok := first[r.Step]; !ok {
			first[r.Step] = r.Seq
		}
		if _, ok := action[r.Step]; !ok && r.Event == "start" {
			action[r.Step] = r.Action
		}
	}
	return first, action
}

// sortedSteps lists step ids in the order they ran, then the rest by id.
func sortedSteps(ids []string, first map[string]int64) []string {
	sort.Slice(ids, func(i, j int) bool {
		si, oki := first[ids[i]]
		sj, okj := first[ids[j]]
		switch {
		case oki && okj && si != sj:
			return si < sj
		case oki != okj:
			return oki
		}
		return ids[i] < ids[j]
	})
	return ids
}

func steps(in Input) []Step {
	first, action := stepOrder(in.Records)
	ids := make([]string, 0, len(in.Steps))
	for id := range in.Steps {
		ids = append(ids, id)
	}
	out := []Step{}
	for _, id := range sortedSteps(ids, first) {
		v, ok := decodeStep(in.Steps[id])
		st := Step{ID: id, Action: action[id], Status: v.Status, Summary: v.Summary}
		switch {
		case !ok:
			st.Status, st.Summary = "UNKNOWN", "unreadable step result"
		case v.Error != "":
			st.Status, st.Summary = "CAUGHT", v.Error+": "+v.Cause
		}
		out = append(out, st)
	}
	return out
}

func stepErrors(in Input) []StepError {
	out := []StepError{}
	for _, id := range slices.Sorted(maps.Keys(in.Errors)) {
		out = append(out, StepError{Step: id, Error: in.Errors[id].Error, Cause: in.Errors[id].Cause})
	}
	return out
}

// FinalizeAction is the action that writes the report.
const FinalizeAction = "finalize-case"

// resultDetail is the detail of a "result" record.
type resultDetail struct {
	Evidence []contract.Evidence `json:"evidence"`
}

// artifacts collects every evidence object the case's results name, from
// the audit chain first (it knows the action), then from the final state.
func artifacts(in Input) []Artifact {
	out := []Artifact{}
	seen := map[string]bool{}
	add := func(ev contract.Evidence, step, action string) {
		if ev.URI == "" || seen[ev.URI] {
			return
		}
		seen[ev.URI] = true
		out = append(out, Artifact{URI: ev.URI, SHA256: ev.SHA256, Bytes: ev.Bytes, Step: step, Action: action})
	}
	for _, r := range in.Records {
		// A retried finalize-case's earlier report files are replaced by
		// this run's, which the manifest lists itself.
		if r.Event != "result" || r.Action == FinalizeAction {
			continue
		}
		var d resultDetail
		if json.Unmarshal([]byte(r.Detail), &d) == nil {
			for _, ev := range d.Evidence {
				add(ev, r.Step, r.Action)
			}
		}
	}
	first, action := stepOrder(in.Records)
	ids := make([]string, 0, len(in.Steps))
	for id := range in.Steps {
		ids = append(ids, id)
	}
	for _, id := range sortedSteps(ids, first) {
		if v, ok := decodeStep(in.Steps[id]); ok {
			for _, ev := range v.Evidence {
				add(ev, id, action[id])
			}
		}
	}
	return out
}

// TotalBytes is the size of every artifact together.
func (r *Report) TotalBytes() int64 {
	var n int64
	for _, a := range r.Artifacts {
		n += a.Bytes
	}
	return n
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
