package generator

import (
	"maps"
	"math"
	"slices"

	"github.com/irflow/irflow/generator/internal/asl"
	"github.com/irflow/irflow/tasks/catalog"
)

// head emits Resolve target and where its failures go: a duplicate ends
// SUCCEEDED (outcome DUPLICATE), invalid input FAILS with InvalidInputError
// (no evidence or containment runs), anything else notifies and FAILS.
func (e *emitter) head(sc *scope) {
	rt := catalog.Lookup("resolve-target")
	// hostFindings has one source, the playbook's
	// triggers.guardduty.hostFindings: resolve-target is inserted, so no
	// step can set its with:.
	with := map[string]any{"manual": e.c.pb.Triggers.Manual, "hostFindings": e.c.pb.Triggers.HostFindings}
	if cr := e.c.pb.Triggers.Correlate; cr != nil && cr.By != "" {
		window := DefaultCorrelationWindow
		if cr.Window.Set {
			window = cr.Window.D
		}
		with["correlate"] = map[string]any{"by": cr.By, "windowMinutes": int(math.Ceil(window.Minutes()))}
	}
	t := lambdaTask(rt, map[string]any{
		"action":      rt.Name,
		"step":        "",
		"with":        withDefaults(with, rt),
		"input.$":     "$",
		"execution.$": "$$.Execution",
	}, rt.Timeout.Seconds(), rt.Retry)
	t.Comment = "Validates the input, takes the per-task dedupe lock and describes the task."
	// The state from here on is {incident, target, steps, errors}.
	t.ResultSelector = map[string]any{
		"incident.$": "$.Payload.outputs.incident",
		"target.$":   "$.Payload.outputs.target",
		// The audit chain's head after resolve-target's result record: the
		// first step of each launch type's plan starts the chain after it.
		"chain.$": "$.Payload.chain",
		"steps":   map[string]any{},
		"errors":  map[string]any{},
	}
	t.Next = StateLaunchType
	if ex := e.c.pb.Exclude; ex != nil && len(ex.TaskTags) > 0 {
		t.Next = StateExcludedCheck
	}
	// No ResultPath on these Catches: the error replaces the input, which may
	// not even be an object.
	t.Catch = []asl.Catcher{
		{ErrorEquals: []string{ErrDuplicateIncident}, Next: StateDuplicate},
		{ErrorEquals: []string{ErrInvalidInput}, Next: StateFailInvalidInput},
		{ErrorEquals: []string{asl.ErrAll}, Next: StateNotifyResolveFailure},
	}
	correlated := with["correlate"] != nil
	if correlated {
		t.Catch = slices.Insert(t.Catch, 1, asl.Catcher{ErrorEquals: []string{ErrCorrelated}, Next: StateCorrelated})
	}
	sc.add(StateResolveTarget, t)

	sc.add(StateDuplicate, &asl.Pass{Type: "Pass",
		Comment:    "Another execution is already responding to this task.",
		Parameters: map[string]any{"outcome": OutcomeDuplicate, "error.$": "$"},
		Next:       StateDone})
	if correlated {
		sc.add(StateCorrelated, &asl.Pass{Type: "Pass",
			Comment:    "The task's service already has an open case (triggers.correlate): this finding joins it.",
			Parameters: map[string]any{"outcome": OutcomeCorrelated, "error.$": "$"},
			Next:       StateDone})
	}
	sc.add(StateFailInvalidInput, &asl.Fail{Type: "Fail", Error: ErrInvalidInput, CausePath: "$.Cause"})

	n := catalog.Lookup("notify")
	nt := lambdaTask(n, map[string]any{
		"action":      n.Name,
		"step":        "",
		"with":        map[string]any{"event": "resolve-failed"},
		"input.$":     "$$.Execution.Input",
		"error.$":     "$",
		"execution.$": "$$.Execution",
	}, n.Timeout.Seconds(), n.Retry)
	nt.ResultPath = asl.P("$.notification")
	nt.Next = StateFailResolve
	nt.Catch = []asl.Catcher{{ErrorEquals: []string{asl.ErrAll}, ResultPath: asl.P("$.notification"), Next: StateFailResolve}}
	sc.add(StateNotifyResolveFailure, nt)
	sc.add(StateFailResolve, &asl.Fail{Type: "Fail", Error: ErrResolveTargetFailed, CausePath: "$.Cause"})
	e.exclusion(sc)
}

// exclusion emits the Choice states of the playbook's exclude: a task that
// carries any one of its tags goes to Notify excluded, before the launch
// type decides anything; otherwise the run goes on to Launch type?.
func (e *emitter) exclusion(sc *scope) {
	checks := e.exclusionChecks(StateNotifyExcluded)
	if len(checks) == 0 {
		return
	}
	e.chain(sc, StateExcludedCheck, checks, StateLaunchType)
	e.used[StateExcluded] = true
}

// exclusionChecks are the checks of the playbook's exclude: on $.target's
// tags, each going to target when it hits (none without exclude:).
func (e *emitter) exclusionChecks(target string) []check {
	ex := e.c.pb.Exclude
	if ex == nil || len(ex.TaskTags) == 0 {
		return nil
	}
	var checks []check
	for _, k := range slices.Sorted(maps.Keys(ex.TaskTags)) {
		checks = append(checks, check{tests: tagMatch(k, ex.TaskTags[k]), target: target})
	}
	return checks
}

// tail emits what both chains end in: the outcome, the failure path,
// Finalize case and the Choice that ends the execution accordingly.
func (e *emitter) tail(sc *scope) {
	n := catalog.Lookup("notify")
	notify := func(event string, extra map[string]any, next string) *asl.Task {
		t := lambdaTask(n, payload(n.Name, "", map[string]any{"event": event}, extra), n.Timeout.Seconds(), n.Retry)
		t.ResultPath = asl.P("$.notification")
		t.Next = next
		// A notification that cannot be sent must not stop the case from being finalized.
		t.Catch = []asl.Catcher{{ErrorEquals: []string{asl.ErrAll}, ResultPath: asl.P("$.errors._notify"), Next: next}}
		return t
	}
	outcome := func(o, next string) *asl.Pass {
		return &asl.Pass{Type: "Pass", Result: o, ResultPath: asl.P("$.outcome"), Next: next}
	}

	sc.add(StateNotifyUnsupported, notify("unsupported-launch-type", nil, StateUnsupported))
	sc.add(StateUnsupported, outcome(OutcomeUnsupported, StateFinalize))
	sc.add(StateCompleted, outcome(OutcomeCompleted, StateFinalize))
	if e.used[StateExcluded] {
		sc.add(StateNotifyExcluded, notify("excluded", nil, StateExcluded))
		sc.add(StateExcluded, outcome(OutcomeExcluded, StateFinalize))
	}
	if e.used[StateRejected] {
		sc.add(StateRejected, outcome(OutcomeRejected, StateFinalize))
	}
	if e.used[StateNotifyFailure] {
		sc.add(StateNotifyFailure, notify("step-failed", map[string]any{"failure.$": "$.failure", "errors.$": "$.errors"}, StateFailed))
		sc.add(StateFailed, outcome(OutcomeFailed, StateFinalize))
	}

	f := catalog.Lookup("finalize-case")
	ft := lambdaTask(f, payload(f.Name, "", map[string]any{}, map[string]any{
		"outcome.$": "$.outcome",
		"steps.$":   "$.steps",
		"errors.$":  "$.errors",
	}), f.Timeout.Seconds(), f.Retry)
	ft.Comment = "Writes the case report and evidence manifest, the final audit record, and releases the dedupe lock."
	ft.ResultPath = asl.P("$.report")
	ft.Next = StateOutcome
	sc.add(StateFinalize, ft)

	sc.add(StateOutcome, &asl.Choice{Type: "Choice",
		Choices: []asl.ChoiceRule{
			{Variable: "$.outcome", StringEquals: asl.Str(OutcomeFailed), Next: StateFailStep},
			{Variable: "$.outcome", StringEquals: asl.Str(OutcomeUnsupported), Next: StateFailUnsupported},
		},
		Default: StateDone})
	sc.add(StateFailStep, &asl.Fail{Type: "Fail", Error: ErrStepFailed, CausePath: "$.failure.summary"})
	sc.add(StateFailUnsupported, &asl.Fail{Type: "Fail", Error: ErrUnsupportedLaunchType,
		Cause: "irflow responds to ECS tasks on EC2 and FARGATE; this task's launch type has no branch"})
	sc.add(StateDone, &asl.Succeed{Type: "Succeed"})
}
