package generator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/irflow/irflow/generator/diag"
	"github.com/irflow/irflow/generator/internal/playbook"
	"github.com/irflow/irflow/tasks/catalog"
)

// Bounds the resolve pass enforces (code limit).
const (
	MaxLambdaTimeout    = 15 * time.Minute // a Lambda invocation
	MaxAsyncStepTimeout = 24 * time.Hour   // an SSM poll loop
	MinApprovalTimeout  = time.Minute
	MaxApprovalTimeout  = 7 * 24 * time.Hour
	MaxRetryDelay       = time.Hour
	MaxParallelDepth    = 3

	// Correlation windows (triggers.correlate.window).
	MinCorrelationWindow     = time.Minute
	MaxCorrelationWindow     = 24 * time.Hour
	DefaultCorrelationWindow = time.Hour

	// DefaultMaxConcurrency is a forEach's MaxConcurrency unless it sets one.
	DefaultMaxConcurrency = 10

	// DefaultApprovalTimeout and DefaultOnTimeout apply when neither the step
	// nor the playbook sets them. An unanswered gate rejects: fail closed.
	DefaultApprovalTimeout = time.Hour
	DefaultOnTimeout       = "reject"
)

// stepInfo is what the resolve pass works out for a step.
type stepInfo struct {
	action *catalog.Action
	// with is the action's parameters with catalog defaults filled in.
	with        map[string]any
	launchTypes []string
	onError     string
	// timeout bounds a sync invocation, an async poll loop or an approval gate.
	timeout time.Duration
	retry   catalog.Retry
	// onTimeout is the approval gate's decision when nobody answers.
	onTimeout string
	// when is the step's own condition (nil: it always runs).
	when cond
	// items is a forEach's ItemsPath; maxConcurrency its MaxConcurrency.
	items          string
	maxConcurrency int
}

func (i *stepInfo) runsOn(lt string) bool {
	for _, x := range i.launchTypes {
		if x == lt {
			return true
		}
	}
	return false
}

// resolve binds steps to catalog actions, validates with: against each
// action's schema, fills defaults, and works out launch types, onError,
// timeouts and retry for every step.
func (c *compilation) resolve() {
	c.info = map[*playbook.Step]*stepInfo{}
	if t := c.pb.Approval.Timeout; t.Set {
		c.checkApprovalTimeout(t)
	}
	if cr := c.pb.Triggers.Correlate; cr != nil && cr.Window.Set && (cr.Window.D < MinCorrelationWindow || cr.Window.D > MaxCorrelationWindow) {
		c.errorAt(diag.CodeLimit, cr.Window.Path, "use 1m to 24h", fmt.Sprintf("correlation window %s is out of range", cr.Window.D))
	}
	c.resolveSteps(c.pb.Steps, catalog.LaunchTypes, "", 0)
	c.resolveForEach()
}

func (c *compilation) resolveSteps(steps []*playbook.Step, parentLT []string, parentOnError string, depth int) {
	for _, s := range steps {
		c.resolveStep(s, parentLT, parentOnError, depth)
	}
}

func (c *compilation) resolveStep(s *playbook.Step, parentLT []string, parentOnError string, depth int) {
	info := &stepInfo{onError: s.OnError}
	if info.onError == "" {
		info.onError = parentOnError
	}
	if info.onError == "" {
		info.onError = "fail"
	}
	c.info[s] = info
	info.when = condOf(s.When)
	parentLT = c.whenLaunchTypes(s, info.when, parentLT)
	switch s.Kind {
	case playbook.KindAction:
		c.resolveAction(s, info, parentLT)
	case playbook.KindApproval:
		info.action = catalog.Lookup("request-approval")
		info.launchTypes = c.explicitLaunchTypes(s, parentLT, nil)
		info.retry = info.action.Retry
		c.resolveApproval(s, info)
		// What runs after a rejection stands on its own: its onError
		// defaults to fail, its parallels nest from zero.
		c.resolveSteps(s.OnReject, info.launchTypes, "", 0)
	case playbook.KindParallel:
		info.launchTypes = c.explicitLaunchTypes(s, parentLT, nil)
		if depth+1 > MaxParallelDepth {
			c.errorAtKey(diag.CodeLimit, s.Path+"/parallel", "flatten the inner parallel into branches", fmt.Sprintf("parallel nested %d deep; at most %d levels", depth+1, MaxParallelDepth))
		}
		if s.Timeout.Set || s.Retry != nil {
			c.errorAt(diag.CodeSchema, s.Path, "set timeout and retry on the steps inside", fmt.Sprintf("timeout and retry do not apply to parallel %q", s.ID))
		}
		for _, b := range s.Branches {
			c.resolveSteps(b.Steps, info.launchTypes, info.onError, depth+1)
		}
	case playbook.KindForEach:
		info.launchTypes = c.explicitLaunchTypes(s, parentLT, nil)
		if s.Timeout.Set || s.Retry != nil {
			c.errorAt(diag.CodeSchema, s.Path, "set timeout and retry on the steps inside", fmt.Sprintf("timeout and retry do not apply to forEach %q", s.ID))
		}
		info.maxConcurrency = s.ForEach.MaxConcurrency
		if info.maxConcurrency == 0 {
			info.maxConcurrency = DefaultMaxConcurrency
		}
		// Each iteration's target is a task of the list, whatever its
		// launch type: the steps inside are planned for every launch type.
		c.resolveSteps(s.ForEach.Steps, catalog.LaunchTypes, info.onError, depth)
	}
}

// resolveForEach checks what a forEach iterates: a list output of a step
// that has run, successfully, before it on every path (a top-level step
// before the forEach, or one inside a parallel there, neither under when:
// nor onError: continue), and sets its ItemsPath.
func (c *compilation) resolveForEach() {
	for i, s := range c.pb.Steps {
		if s.Kind != playbook.KindForEach || c.info[s] == nil {
			continue
		}
		fe := s.ForEach
		// The steps whose results are on the state at the forEach: those
		// before it and inside their parallels (not an onReject's, not
		// another forEach's), each with the condition of its top step.
		var ref, top *playbook.Step
		var visit func(t *playbook.Step, steps []*playbook.Step)
		visit = func(t *playbook.Step, steps []*playbook.Step) {
			for _, x := range steps {
				if ref == nil && x.ID == fe.Step && x.Kind == playbook.KindAction {
					ref, top = x, t
				}
				for _, b := range x.Branches {
					visit(t, b.Steps)
				}
			}
		}
		for _, t := range c.pb.Steps[:i] {
			visit(t, []*playbook.Step{t})
		}
		earlier := &playbook.Playbook{Steps: c.pb.Steps[:i]}
		ptr := fe.Path + "/step"
		if ref == nil {
			var ids []string
			earlier.Walk(func(x *playbook.Step) {
				if x.Kind == playbook.KindAction && c.info[x] != nil && c.info[x].action != nil && len(c.info[x].action.TaskLists) > 0 {
					ids = append(ids, x.ID)
				}
			})
			hint := "name an action step before the forEach whose action returns task lists (find-siblings)"
			if dym := diag.DidYouMean(fe.Step, ids); dym != "" {
				hint = dym
			}
			what := "no step"
			c.pb.Walk(func(x *playbook.Step) {
				if x.ID == fe.Step {
					what = "no action step"
				}
			})
			c.errorAt(diag.CodeForEach, ptr, hint, fmt.Sprintf("forEach %q iterates step %q, but there is %s %q before it", s.ID, fe.Step, what, fe.Step))
			continue
		}
		info := c.info[ref]
		if info == nil || info.action == nil {
			continue // unknown action: reported
		}
		a := info.action
		if len(a.TaskLists) == 0 {
			c.errorAt(diag.CodeForEach, ptr, "iterate a step whose action returns task lists (find-siblings)",
				fmt.Sprintf("forEach %q iterates step %q, but its action %s returns no task list", s.ID, ref.ID, a.Name))
			continue
		}
		out := fe.Output
		if out == "" {
			out = a.TaskLists[0]
		} else if !contains(a.TaskLists, out) {
			c.errorAt(diag.CodeForEach, fe.Path+"/output", "one of "+strings.Join(a.TaskLists, ", "),
				fmt.Sprintf("output %q of step %q (%s) is not a task list", out, ref.ID, a.Name))
			continue
		}
		// A step under when: has produced its list wherever the forEach
		// runs if the forEach's own condition implies the step's (and that
		// of the parallel holding it).
		listed := c.info[s].when.implies(condOf(ref.When).and(condOf(top.When)))
		if !listed || info.onError == "continue" {
			why := "it has a when:"
			if ref.When == nil && top.When != nil {
				why = fmt.Sprintf("the parallel %q holding it has a when:", top.ID)
			} else if listed {
				why = "it has onError: continue"
			}
			if !listed && s.When != nil {
				why += " that the forEach's own when: does not imply"
			}
			c.errorAt(diag.CodeForEach, ptr, fmt.Sprintf("remove the when:/onError: continue of %q, give the forEach the same when:, or give the forEach a step that always succeeds before it", ref.ID),
				fmt.Sprintf("forEach %q iterates step %q, which may not have produced its list: %s", s.ID, ref.ID, why))
			continue
		}
		for _, lt := range c.info[s].launchTypes {
			if !info.runsOn(lt) {
				c.errorAt(diag.CodeForEach, ptr, fmt.Sprintf("set launchTypes on %q to those of %q", s.ID, ref.ID),
					fmt.Sprintf("forEach %q runs on %s, where step %q does not run", s.ID, lt, ref.ID))
				break
			}
		}
		c.info[s].items = "$.steps." + ref.ID + ".outputs." + out
	}
}

func (c *compilation) resolveAction(s *playbook.Step, info *stepInfo, parentLT []string) {
	a := catalog.Lookup(s.Action)
	if a == nil {
		c.errorAt(diag.CodeUnknownAction, s.Path+"/action", diag.DidYouMean(s.Action, authorActions()), fmt.Sprintf("unknown action %q", s.Action))
		return
	}
	if a.Inserted {
		hint := "remove this step: the compiler inserts it"
		if a.Name == "request-approval" {
			hint = "write an approval: step instead"
		}
		c.errorAt(diag.CodeSchema, s.Path+"/action", hint, fmt.Sprintf("action %q cannot be used in a playbook", a.Name))
		return
	}
	info.action = a
	info.launchTypes = c.explicitLaunchTypes(s, parentLT, a)
	info.with = c.resolveWith(s, a)
	info.retry = c.resolveRetry(s, a.Retry)
	info.timeout = a.Timeout.D()
	if a.Async {
		info.timeout = a.StepTimeout.D()
	}
	if s.Timeout.Set {
		lo, hi := time.Second, MaxLambdaTimeout
		if a.Async {
			lo, hi = time.Minute, MaxAsyncStepTimeout
		}
		if s.Timeout.D < lo || s.Timeout.D > hi {
			c.errorAt(diag.CodeLimit, s.Timeout.Path, fmt.Sprintf("%s takes %s to %s", a.Name, lo, hi), fmt.Sprintf("timeout %s is out of range", s.Timeout.D))
		}
		info.timeout = s.Timeout.D
	}
	if s.RequiresApproval != nil && !*s.RequiresApproval && strings.TrimSpace(s.Justification) == "" {
		c.errorAt(diag.CodeApprovalRequired, s.Path+"/requiresApproval", "add justification: with the reason", "requiresApproval: false needs a justification")
	}
}

// whenLaunchTypes narrows the launch types a step may run on by its
// condition: Fargate tasks are always awsvpc, so a networkModes without
// awsvpc keeps the step off the FARGATE branch, as does target: host (a
// host target is an EC2 instance); naming FARGATE in its launchTypes as
// well is a contradiction.
func (c *compilation) whenLaunchTypes(s *playbook.Step, w cond, parentLT []string) []string {
	if _, ok := w.on(catalog.Fargate); ok || !contains(parentLT, catalog.Fargate) {
		return parentLT
	}
	if i := slices.Index(s.LaunchTypes, catalog.Fargate); i >= 0 {
		hint, why := "add awsvpc to when.networkModes, or drop FARGATE", "Fargate tasks are awsvpc and its when.networkModes leaves awsvpc out"
		if slices.ContainsFunc(w, func(a atom) bool { return a.key == whenTarget }) {
			hint, why = "drop FARGATE", "a host target is an EC2 container instance and its when: is target: host"
		}
		c.errorAt(diag.CodeUnsupportedLaunchType, fmt.Sprintf("%s/launchTypes/%d", s.Path, i), hint,
			fmt.Sprintf("step %q can never run on FARGATE: %s", s.ID, why))
	}
	return slices.DeleteFunc(slices.Clone(parentLT), func(lt string) bool { return lt == catalog.Fargate })
}

// explicitLaunchTypes returns the step's effective launch types: its own
// launchTypes (each checked against the action) or the action's, within the
// enclosing parallel's.
func (c *compilation) explicitLaunchTypes(s *playbook.Step, parentLT []string, a *catalog.Action) []string {
	var out []string
	if s.LaunchTypes != nil {
		for i, lt := range s.LaunchTypes {
			if !contains(catalog.LaunchTypes, lt) {
				continue // the schema reported it
			}
			if a != nil && !a.Supports(lt) {
				c.errorAt(diag.CodeUnsupportedLaunchType, fmt.Sprintf("%s/launchTypes/%d", s.Path, i),
					fmt.Sprintf("%s runs on %s only", a.Name, strings.Join(a.LaunchTypes, " and ")),
					fmt.Sprintf("action %q does not support launch type %s", a.Name, lt))
				continue
			}
			if contains(parentLT, lt) {
				out = append(out, lt)
			}
		}
		return out
	}
	for _, lt := range parentLT {
		if a == nil || a.Supports(lt) {
			out = append(out, lt)
		}
	}
	return out
}

func (c *compilation) resolveWith(s *playbook.Step, a *catalog.Action) map[string]any {
	with := s.With
	if with == nil {
		with = map[string]any{}
	}
	ptr := s.Path + "/with"
	for _, k := range pathKeys(with, "") {
		c.errorAtKey(diag.CodeSchema, ptr+k, "Step Functions would read it as a JSONPath", fmt.Sprintf("parameter key %q ends in .$", k[strings.LastIndexByte(k, '/')+1:]))
	}
	if len(a.Reserved) > 0 {
		with = maps.Clone(with)
		for _, k := range a.Reserved {
			if _, set := with[k]; set {
				c.errorAtKey(diag.CodeSchema, ptr+"/"+escape(k), reserved[a.Name+"."+k].hint,
					fmt.Sprintf("step %q cannot set with.%s: the compiler sets it from the playbook", s.ID, k))
				delete(with, k) // reported here, not again as an unknown key
			}
		}
	}
	if sch := withSchema(a.Name); sch != nil {
		c.schemaErrors(sch.Validate(any(with)), ptr, any(with))
	}
	for _, k := range a.Reserved {
		with[k] = reserved[a.Name+"."+k].value(c.pb)
	}
	return withDefaults(with, a)
}

// reserved are the parameters the compiler sets (the catalog's Reserved
// keys, by "action.key"): where each comes from, as a hint for a step that
// writes it, and its value, from the playbook and never from the step.
// find-siblings' excludeTaskTags has one source, the playbook's
// exclude.taskTags (empty without exclude:), as resolve-target's
// hostFindings has triggers.guardduty.hostFindings: the tasks carrying
// one of its tags are in no list, so no forEach acts on a task the
// playbook leaves alone.
var reserved = map[string]struct {
	hint  string
	value func(*playbook.Playbook) any
}{
	"find-siblings.excludeTaskTags": {
		hint: "remove it: exclude: {taskTags} at the top of the playbook applies to find-siblings' lists too",
		value: func(pb *playbook.Playbook) any {
			tags := map[string]any{}
			if pb.Exclude != nil {
				for k, v := range pb.Exclude.TaskTags {
					tags[k] = v
				}
			}
			return tags
		},
	},
}

// pathKeys returns pointers of object keys ending in ".$" anywhere in v.
func pathKeys(v any, ptr string) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			p := ptr + "/" + escape(k)
			if strings.HasSuffix(k, ".$") {
				out = append(out, p)
			}
			out = append(out, pathKeys(x[k], p)...)
		}
	case []any:
		for i, it := range x {
			out = append(out, pathKeys(it, fmt.Sprintf("%s/%d", ptr, i))...)
		}
	}
	return out
}

// withDefaults returns a copy of with plus each top-level default of the
// action's schema, so the ASL shows the parameters that will really apply.
func withDefaults(with map[string]any, a *catalog.Action) map[string]any {
	out := maps.Clone(with)
	if out == nil {
		out = map[string]any{}
	}
	for k, raw := range a.ParamDefaults() {
		if _, set := out[k]; set {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) == nil {
			out[k] = v
		}
	}
	return out
}

func (c *compilation) resolveRetry(s *playbook.Step, r catalog.Retry) catalog.Retry {
	if s.Retry == nil {
		return r
	}
	if s.Retry.MaxAttempts != nil {
		r.MaxAttempts = *s.Retry.MaxAttempts
	}
	if s.Retry.BackoffRate != nil {
		r.BackoffRate = *s.Retry.BackoffRate
	}
	for _, d := range []struct {
		v   playbook.Duration
		dst *int
	}{{s.Retry.Interval, &r.IntervalSeconds}, {s.Retry.MaxDelay, &r.MaxDelaySeconds}} {
		if !d.v.Set {
			continue
		}
		if d.v.D < time.Second || d.v.D > MaxRetryDelay {
			c.errorAt(diag.CodeLimit, d.v.Path, "use 1s to 1h", fmt.Sprintf("retry delay %s is out of range", d.v.D))
			continue
		}
		*d.dst = ceilSeconds(d.v.D)
	}
	if r.MaxDelaySeconds < r.IntervalSeconds {
		r.MaxDelaySeconds = r.IntervalSeconds
	}
	return r
}

func (c *compilation) resolveApproval(s *playbook.Step, info *stepInfo) {
	ap := s.Approval
	def := c.pb.Approval
	timeout := DefaultApprovalTimeout
	if def.Timeout.Set {
		timeout = def.Timeout.D
	}
	if ap.Timeout.Set {
		c.checkApprovalTimeout(ap.Timeout)
		timeout = ap.Timeout.D
	}
	onTimeout := DefaultOnTimeout
	if def.OnTimeout != "" {
		onTimeout = def.OnTimeout
	}
	if ap.OnTimeout != "" {
		onTimeout = ap.OnTimeout
	}
	approvers := def.Approvers
	if ap.Approvers != nil {
		approvers = ap.Approvers
	}
	if approvers == nil {
		approvers = []string{}
	}
	self := def.AllowSelfApproval
	if ap.AllowSelfApproval != nil {
		self = *ap.AllowSelfApproval
	}
	quorum := 1
	if def.MinApprovers > 0 {
		quorum = def.MinApprovers
	}
	if ap.MinApprovers != nil {
		quorum = *ap.MinApprovers
	}
	approverList := make([]any, len(approvers))
	for i, a := range approvers {
		approverList[i] = a
	}
	info.timeout = timeout
	info.onTimeout = onTimeout
	info.with = map[string]any{
		"prompt":            ap.Prompt,
		"approvers":         approverList,
		"timeoutSeconds":    ceilSeconds(timeout),
		"onTimeout":         onTimeout,
		"allowSelfApproval": self,
		"minApprovers":      quorum,
	}
}

func (c *compilation) checkApprovalTimeout(t playbook.Duration) {
	if t.D < MinApprovalTimeout || t.D > MaxApprovalTimeout {
		c.errorAt(diag.CodeLimit, t.Path, "use 1m to 168h (7 days)", fmt.Sprintf("approval timeout %s is out of range", t.D))
	}
}

func ceilSeconds(d time.Duration) int {
	return int(math.Ceil(d.Seconds()))
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// authorActions are the catalog actions a playbook may name.
func authorActions() []string {
	var out []string
	for _, a := range catalog.All() {
		if !a.Inserted {
			out = append(out, a.Name)
		}
	}
	return out
}
