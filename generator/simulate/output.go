package simulate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/generator/internal/asl"
	"github.com/irflow/irflow/generator/internal/sim"
	"github.com/irflow/irflow/tasks/termsafe"
)

// WriteJSON writes the run as docs/design.md ("The command line", simulate) specifies:
// {"playbook","status","outcome","launchType","requester":{"id","verified"},"transitions",
// "steps":[{"step","action","state","result","requiredApprovals"}]}; requester is
// null when resolve-target refused the input, requiredApprovals is on approval steps.
func (r *Execution) WriteJSON(w io.Writer) error {
	steps := r.Steps
	if steps == nil {
		steps = []Step{}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(struct {
		Playbook    string     `json:"playbook"`
		Status      string     `json:"status"`
		Outcome     string     `json:"outcome"`
		LaunchType  string     `json:"launchType"`
		Requester   *Requester `json:"requester"`
		Transitions int        `json:"transitions"`
		Steps       []Step     `json:"steps"`
	}{r.Playbook, r.Status, r.Outcome, r.LaunchType, r.Requester, r.Transitions, steps}); err != nil {
		return err
	}
	_, err := w.Write(termsafe.JSON(b.Bytes()))
	return err
}

// WriteSummary writes the lines that end irflow simulate's text output.
func (r *Execution) WriteSummary(w io.Writer) error {
	lt := r.LaunchType
	if lt == "" {
		lt = "-"
	}
	fmt.Fprintf(w, "\n%s  outcome %s  launch type %s\n", r.Status, r.Outcome, lt)
	if q := r.Requester; q != nil {
		if q.Verified {
			fmt.Fprintf(w, "requested by %s (verified)\n", termsafe.Line(q.ID))
		} else {
			fmt.Fprintf(w, "requested by %s (claimed, not verified: every gate needs two distinct approvers)\n", termsafe.Line(q.ID))
		}
	}
	if r.Error != "" {
		fmt.Fprintf(w, "error %s: %s\n", r.Error, clipText(causeMessage(r.Cause), 200))
	}
	_, err := fmt.Fprintf(w, "%d state transitions, estimated cost $%.6f (Standard workflow, $0.025 per 1,000 transitions), simulated time %s\n",
		r.Transitions, r.EstimatedCost(), shortDuration(r.Duration))
	return err
}

// traceLine is the line irflow simulate prints for an event, or "" for
// events it does not print (a state's entry, except Parallel and Map).
func traceLine(ev sim.Event, m *simModel) string {
	indent := strings.Repeat("  ", len(ev.Scope))
	at := "+" + shortDuration(ev.At)
	row := func(step, what, result, detail string) string {
		line := fmt.Sprintf("%-7s %-42s %-20s %-23s %-9s %s", at, indent+ev.Name, step, what, result, detail)
		return strings.TrimRight(line, " ")
	}
	kind := ev.State.StateType()
	if ev.Kind == sim.StateStopped {
		return row("", kind, "STOPPED", "stopped: a sibling branch failed or the execution timed out")
	}
	switch s := ev.State.(type) {
	case *asl.Task:
		if ev.Kind == sim.StateEntered {
			return ""
		}
		info := m.tasks[ev.Name]
		return row(info.step, info.action, taskResult(ev, info), attemptsText(len(ev.Attempts))+taskDetail(ev))
	case *asl.Parallel, *asl.Map:
		if ev.Kind == sim.StateEntered {
			n := 0
			if p, ok := s.(*asl.Parallel); ok {
				n = len(p.Branches)
				return row("", kind, "", fmt.Sprintf("%d branches", n))
			}
			return row("", kind, "", "items")
		}
		return row("", kind, flowResult(ev), flowDetail(ev))
	}
	if ev.Kind == sim.StateEntered {
		return ""
	}
	switch s := ev.State.(type) {
	case *asl.Choice:
		return row("", kind, "", "→ "+ev.Next)
	case *asl.Wait:
		if s.Seconds > 0 {
			return row("", kind, "", fmt.Sprintf("waited %s", shortDuration(time.Duration(s.Seconds)*time.Second)))
		}
		return row("", kind, "", "waited until "+at)
	case *asl.Pass:
		if info, ok := m.skips[ev.Name]; ok {
			summary, _ := s.Result.(map[string]any)["summary"].(string)
			return row(info.step, info.action, ResultSkipped, summary)
		}
		if o, ok := s.Result.(string); ok && ev.Next == generator.StateFinalize {
			return row("", kind, "", "outcome "+o)
		}
		return row("", kind, "", "")
	case *asl.Fail:
		return row("", kind, "", fmt.Sprintf("%s: %s", ev.Error.Name, clipText(causeMessage(ev.Error.Cause), 120)))
	}
	return row("", kind, "", "")
}

func flowResult(ev sim.Event) string {
	switch {
	case ev.Kind == sim.StateFailed:
		return ResultFailed
	case ev.Caught:
		return ResultCaught
	}
	return "OK"
}

func flowDetail(ev sim.Event) string {
	if ev.Error != nil {
		return fmt.Sprintf("%s: %s", ev.Error.Name, clipText(causeMessage(ev.Error.Cause), 120))
	}
	return ""
}

func attemptsText(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return fmt.Sprintf("%d attempts", n)
}

func taskDetail(ev sim.Event) string {
	if ev.Error != nil {
		return fmt.Sprintf("  %s: %s", ev.Error.Name, clipText(causeMessage(ev.Error.Cause), 120))
	}
	if s, _ := taskPayload(ev)["summary"].(string); s != "" {
		return "  " + clipText(s, 120)
	}
	return ""
}

func clipText(s string, n int) string {
	s = termsafe.Line(strings.Join(strings.Fields(s), " "))
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// shortDuration writes 0s, 45s, 30m, 1h2m3s.
func shortDuration(d time.Duration) string {
	d = d.Round(time.Second)
	h := d / time.Hour
	d -= h * time.Hour
	m := d / time.Minute
	sec := (d - m*time.Minute) / time.Second
	var b strings.Builder
	if h > 0 {
		fmt.Fprintf(&b, "%dh", h)
	}
	if m > 0 {
		fmt.Fprintf(&b, "%dm", m)
	}
	if sec > 0 || b.Len() == 0 {
		fmt.Fprintf(&b, "%ds", sec)
	}
	return b.String()
}
