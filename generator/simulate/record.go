package simulate

import (
	"fmt"
	"io"
	"strings"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/generator/internal/asl"
	"github.com/irflow/irflow/generator/internal/sim"
)

// recorder turns the interpreter's events into the run's steps, its trace
// lines and its outcome.
type recorder struct {
	model   *simModel
	run     *Execution
	trace   io.Writer
	observe func(sim.Event)
	ran     map[string]bool // step ids whose Task states ran
	// required is the invoker's required approvals by gate state.
	required map[string]int
}

func (rc *recorder) event(ev sim.Event) {
	if rc.observe != nil {
		rc.observe(ev)
	}
	if _, ok := ev.State.(*asl.Task); ok && (ev.Kind == sim.StateExited || ev.Kind == sim.StateFailed) {
		info := rc.model.tasks[ev.Name]
		rc.ran[info.step] = true
		st := Step{Step: info.step, Action: info.action, State: ev.Name, Result: taskResult(ev, info), Attempts: len(ev.Attempts)}
		if info.gate {
			st.RequiredApprovals = rc.required[ev.Name]
		}
		rc.run.Steps = append(rc.run.Steps, st)
	}
	if info, ok := rc.model.skips[ev.Name]; ok && ev.Kind == sim.StateExited {
		rc.run.Steps = append(rc.run.Steps, Step{Step: info.step, Action: info.action, State: ev.Name, Result: ResultSkipped})
	}
	if ev.Name == generator.StateResolveTarget && ev.Kind == sim.StateExited && !ev.Caught && len(ev.Scope) == 0 {
		rc.run.LaunchType = launchTypeOf(ev.Output)
		rc.run.Requester = requesterOf(ev.Output)
	}
	if rc.trace != nil {
		if line := traceLine(ev, rc.model); line != "" {
			fmt.Fprintln(rc.trace, line)
		}
	}
}

// finish sets the status and outcome, and notes options that did nothing.
func (rc *recorder) finish(res *sim.Result, opts *Options) {
	r := rc.run
	r.Transitions, r.Duration = res.Transitions, res.Duration
	succeeded := res.Status == sim.StatusSucceeded
	r.Status = sim.StatusFailed
	if succeeded {
		r.Status = sim.StatusSucceeded
	} else {
		r.Error, r.Cause = res.Error, res.Cause
	}
	out, _ := res.Output.(map[string]any)
	r.Outcome = generator.Outcome(succeeded, out, res.Error)
	unused := func(flag, step string) {
		if !rc.ran[step] {
			r.Notes = append(r.Notes, fmt.Sprintf("%s %s had no effect: step %s did not run", flag, step, step))
		}
	}
	for _, g := range opts.Reject {
		unused("--reject", g)
	}
	for _, g := range opts.Timeout {
		unused("--timeout", g)
	}
	for _, f := range opts.Fail {
		unused("--fail", f.Step)
	}
}

// requesterOf reads $.incident.requester of the state resolve-target built.
func requesterOf(state any) *Requester {
	m, _ := state.(map[string]any)
	inc, _ := m["incident"].(map[string]any)
	r, ok := inc["requester"].(map[string]any)
	if !ok {
		id, _ := inc["requestedBy"].(string)
		return &Requester{ID: id}
	}
	id, _ := r["id"].(string)
	verified, _ := r["verified"].(bool)
	return &Requester{ID: id, Verified: verified}
}

func launchTypeOf(state any) string {
	m, _ := state.(map[string]any)
	t, _ := m["target"].(map[string]any)
	lt, _ := t["launchType"].(string)
	return lt
}

// taskResult classifies how a Task state ended (see Step).
func taskResult(ev sim.Event, info taskInfo) string {
	if ev.Kind == sim.StateFailed {
		return ResultFailed
	}
	if ev.Caught {
		switch {
		case info.gate && ev.Error.Name == generator.ErrApprovalRejected:
			return ResultRejected
		case info.gate && ev.Error.Name == asl.ErrTimeout:
			return ResultTimedOut
		case failureRoute(ev.Next):
			return ResultFailed
		}
		return ResultCaught
	}
	if info.gate {
		return ResultApproved
	}
	if s, _ := taskPayload(ev)["status"].(string); s != "" {
		return s
	}
	return "OK"
}

// failureRoute reports whether a Catch's target is where the generator
// sends a failed step (names.go, emit.go): "<LT>: <id> failed", or the
// failures of Resolve target.
func failureRoute(next string) bool {
	return next == generator.StateFailInvalidInput || next == generator.StateNotifyResolveFailure || strings.HasSuffix(next, " failed")
}

// taskPayload is the task result of a Task's last attempt: the Lambda
// Payload, or the callback output of a gate.
func taskPayload(ev sim.Event) map[string]any {
	if len(ev.Attempts) == 0 {
		return nil
	}
	out, _ := ev.Attempts[len(ev.Attempts)-1].Output.(map[string]any)
	if p, ok := out["Payload"].(map[string]any); ok {
		return p
	}
	return out
}
