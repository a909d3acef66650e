package scenario

import (
	"fmt"
	"slices"
	"strings"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/generator/diag"
	"github.com/irflow/irflow/generator/simulate"
	"github.com/irflow/irflow/tasks/catalog"
)

// check compares a run with what the case expects; each difference is one
// line, with the expected and actual steps.
func check(e Expect, run *simulate.Execution, r *generator.Result) []string {
	var out []string
	if e.Status != "" && e.Status != run.Status {
		out = append(out, fmt.Sprintf("status: want %s; got %s%s", e.Status, run.Status, errorText(run)))
	}
	if e.Outcome != "" && e.Outcome != run.Outcome {
		out = append(out, fmt.Sprintf("outcome: want %s; got %s%s", e.Outcome, run.Outcome, errorText(run)))
	}
	known := stepIDs(r)
	results := stepResults(run)
	var succeeded, reached []string
	for _, s := range run.Steps {
		if s.Step == "" || slices.Contains(reached, s.Step) {
			continue
		}
		reached = append(reached, s.Step)
	}
	for _, id := range reached {
		if ran(results[id]) {
			succeeded = append(succeeded, id)
		}
	}
	unknown := func(field string, ids []string) bool {
		bad := false
		for _, id := range ids {
			if !slices.Contains(known, id) {
				out = append(out, fmt.Sprintf("%s: %q is not a step of playbook %s%s", field, id, r.Name, hint(id, known)))
				bad = true
			}
		}
		return bad
	}
	if !unknown("ran", e.Ran) {
		if missing := without(e.Ran, succeeded); len(missing) > 0 {
			out = append(out, fmt.Sprintf("ran: want %s to run; they did not\n  want ran: %s\n  got ran:  %s",
				strings.Join(missing, ", "), list(e.Ran), list(succeeded)))
		}
	}
	if !unknown("notRan", e.NotRan) {
		var extra []string
		for _, id := range e.NotRan {
			if slices.Contains(succeeded, id) {
				extra = append(extra, id)
			}
		}
		if len(extra) > 0 {
			out = append(out, fmt.Sprintf("notRan: %s ran\n  want not run: %s\n  got ran:      %s",
				strings.Join(extra, ", "), list(e.NotRan), list(succeeded)))
		}
	}
	if !unknown("order", e.Order) {
		var got []string
		for _, id := range reached {
			if slices.Contains(e.Order, id) {
				got = append(got, id)
			}
		}
		if !slices.Equal(got, e.Order) {
			out = append(out, fmt.Sprintf("order: the steps did not run in this order\n  want order: %s\n  got order:  %s", list(e.Order), list(got)))
		}
	}
	if len(out) > 0 {
		out = append(out, "steps: "+stepsText(run))
	}
	return out
}

// stepResults is the result of each step of a run: its last state's (an
// async step's final check), SKIPPED for a step its when: skipped, and a
// gate's REJECTED or TIMED_OUT even though a timeout is then recorded by
// one more call (mode timeout) that succeeds.
func stepResults(run *simulate.Execution) map[string]string {
	out := map[string]string{}
	for _, s := range run.Steps {
		if s.Step == "" || out[s.Step] == simulate.ResultRejected || out[s.Step] == simulate.ResultTimedOut {
			continue
		}
		out[s.Step] = s.Result
	}
	return out
}

// ran reports whether a result means the step ran and succeeded.
func ran(result string) bool {
	return result == "OK" || result == "DRY_RUN" || result == simulate.ResultApproved
}

// stepIDs are every step id the playbook plans, on any launch type, its
// parallels (which a when: may skip as a whole) and its forEach steps.
func stepIDs(r *generator.Result) []string {
	var out []string
	for _, lt := range catalog.LaunchTypes {
		for _, s := range r.Steps[lt] {
			for _, id := range []string{s.ID, s.Parallel, s.ForEach} {
				if id != "" && !slices.Contains(out, id) {
					out = append(out, id)
				}
			}
		}
	}
	return out
}

// gates are the playbook's approval step ids.
func gates(r *generator.Result) []string {
	var out []string
	for _, lt := range catalog.LaunchTypes {
		for _, s := range r.Steps[lt] {
			if s.Action == "request-approval" && !slices.Contains(out, s.ID) {
				out = append(out, s.ID)
			}
		}
	}
	return out
}

func hint(word string, known []string) string {
	if h := diag.DidYouMean(word, known); h != "" {
		return " (" + h + ")"
	}
	return ""
}

func without(want, got []string) []string {
	var out []string
	for _, id := range want {
		if !slices.Contains(got, id) {
			out = append(out, id)
		}
	}
	return out
}

func list(ids []string) string { return "[" + strings.Join(ids, " ") + "]" }

func errorText(run *simulate.Execution) string {
	if run.Error == "" {
		return ""
	}
	return " (" + run.Error + ")"
}

// stepsText is the run's steps and results, one step per entry: what a
// person reads to see why a case failed.
func stepsText(run *simulate.Execution) string {
	var parts []string
	seen := map[string]bool{}
	results := stepResults(run)
	for _, s := range run.Steps {
		if s.Step == "" || seen[s.Step] {
			continue
		}
		seen[s.Step] = true
		parts = append(parts, s.Step+" "+results[s.Step])
	}
	return strings.Join(parts, ", ")
}
