package generator

import (
	"fmt"
	"strings"

	"github.com/irflow/irflow/generator/internal/asl"
)

// Where the conditions read the state. resolve-target always writes
// target.taskArn ("" for a host finding's container instance, which
// target: still tests for presence first), target.networkMode ("" on a
// host), target.service ("" for a standalone task or a host) and
// target.enableExecuteCommand, which execEnabled still tests for presence
// first (a state written by hand, or an older resolve-target, may leave it
// out; absent counts as false);
// target.tags is left out for an untagged task and incident.finding is
// null for a run a person started, so those may be absent: every test of
// them checks presence first.
const (
	pathFindingType     = "$.incident.finding.type"
	pathFindingSeverity = "$.incident.finding.severity"
	pathNetworkMode     = "$.target.networkMode"
	pathService         = "$.target.service"
	pathExecEnabled     = "$.target.enableExecuteCommand"
	pathTaskArn         = "$.target.taskArn"
)

// tagPath is the reference path of one task tag. Tag keys are limited by the
// schema to characters that need no escaping inside single quotes.
func tagPath(key string) string { return "$.target.tags['" + key + "']" }

// test is one Choice rule of a check: hit goes to the check's target (the
// skip, or Excluded); a miss rule (hit false) means the atom holds and the
// remaining checks decide.
type test struct {
	rule asl.ChoiceRule
	hit  bool
}

// check is an atom as Choice rules, evaluated in order, first match wins:
// absent fields are tested before they are compared, so no rule ever reads
// a path that is not there (a States.Runtime error in Step Functions), and
// nothing relies on And or Or short-circuiting.
type check struct {
	tests  []test
	target string
}

// absentRule matches when path is not there. It is written Not IsPresent
// true: aws-local-stepfunctions (the independent engine) never matches
// IsPresent false, which Step Functions and internal/sim both do.
func absentRule(path string) asl.ChoiceRule {
	return asl.ChoiceRule{Not: &asl.ChoiceRule{Variable: path, IsPresent: asl.Bool(true)}}
}

// failing returns the checks that find the atom false (for when:).
func (a atom) failing() []test {
	absent := func(path string) test { return test{rule: absentRule(path), hit: true} }
	switch a.key {
	case whenFindingTypes:
		var alts []asl.ChoiceRule
		for _, p := range a.strs {
			alts = append(alts, matchRule(pathFindingType, p))
		}
		return []test{absent(pathFindingType), {rule: asl.ChoiceRule{Not: oneOf(alts)}, hit: true}}
	case whenSeverityAtLeast:
		n := a.num
		return []test{absent(pathFindingSeverity), {rule: asl.ChoiceRule{Variable: pathFindingSeverity, NumericLessThan: &n}, hit: true}}
	case whenNetworkModes:
		var alts []asl.ChoiceRule
		for _, m := range a.strs {
			alts = append(alts, asl.ChoiceRule{Variable: pathNetworkMode, StringEquals: asl.Str(m)})
		}
		return []test{{rule: asl.ChoiceRule{Not: oneOf(alts)}, hit: true}}
	case whenInService:
		standalone := asl.ChoiceRule{Variable: pathService, StringEquals: asl.Str("")}
		if a.flag {
			return []test{{rule: standalone, hit: true}}
		}
		return []test{{rule: asl.ChoiceRule{Not: &standalone}, hit: true}}
	case whenExecEnabled:
		// Absent counts as false. A comparison of a path that is not there
		// fails the execution (States.Runtime), so presence is tested first
		// (Choice Rules, IsPresent:
		// https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html).
		enabled := asl.ChoiceRule{Variable: pathExecEnabled, BooleanEquals: asl.Bool(true)}
		if a.flag {
			return []test{absent(pathExecEnabled), {rule: asl.ChoiceRule{Not: &enabled}, hit: true}}
		}
		return []test{{rule: absentRule(pathExecEnabled)}, {rule: enabled, hit: true}}
	case whenTarget:
		// The target is a task when resolve-target named one: a host
		// finding's target (a container instance) has taskArn "". A state
		// without it counts as not a task, so no task-only step runs there.
		noTask := []test{absent(pathTaskArn), {rule: asl.ChoiceRule{Variable: pathTaskArn, StringEquals: asl.Str("")}, hit: true}}
		if a.value == targetTask {
			return noTask
		}
		return []test{{rule: absentRule(pathTaskArn)}, {rule: asl.ChoiceRule{Not: &asl.ChoiceRule{Variable: pathTaskArn, StringEquals: asl.Str("")}}, hit: true}}
	case whenTaskTags:
		if a.value == anyValue {
			return []test{absent(tagPath(a.tag))}
		}
		return []test{absent(tagPath(a.tag)), {rule: asl.ChoiceRule{Not: &asl.ChoiceRule{Variable: tagPath(a.tag), StringEquals: asl.Str(a.value)}}, hit: true}}
	case whenNotTaskTags:
		return tagMatch(a.tag, a.value)
	}
	panic("unknown when: key " + a.key)
}

// tagMatch finds a task carrying tag key with value (any value for "*").
func tagMatch(key, value string) []test {
	p := tagPath(key)
	if value == anyValue {
		return []test{{rule: asl.ChoiceRule{Variable: p, IsPresent: asl.Bool(true)}, hit: true}}
	}
	return []test{
		{rule: absentRule(p)},
		{rule: asl.ChoiceRule{Variable: p, StringEquals: asl.Str(value)}, hit: true},
	}
}

// matchRule matches a finding type pattern: exact, or a prefix ending in *.
func matchRule(path, pattern string) asl.ChoiceRule {
	prefix, wild := strings.CutSuffix(pattern, "*")
	if !wild {
		return asl.ChoiceRule{Variable: path, StringEquals: asl.Str(pattern)}
	}
	esc := strings.NewReplacer(`\`, `\\`, `*`, `\*`).Replace(prefix)
	return asl.ChoiceRule{Variable: path, StringMatches: asl.Str(esc + "*")}
}

// oneOf is rs[0] alone, or their Or.
func oneOf(rs []asl.ChoiceRule) *asl.ChoiceRule {
	if len(rs) == 1 {
		return &rs[0]
	}
	return &asl.ChoiceRule{Or: rs}
}

// chain emits the Choice states of checks, named base, "base (2)", …: a
// check with a miss rule ends its Choice (a miss must not skip the checks
// after it), so checks without one go first. All checks passing goes to pass.
func (e *emitter) chain(sc *scope, base string, checks []check, pass string) {
	var groups [][]check
	var plain, ending []check
	for _, c := range checks {
		if hasMiss(c) {
			ending = append(ending, c)
		} else {
			plain = append(plain, c)
		}
	}
	if len(plain) > 0 || len(ending) == 0 {
		groups = append(groups, plain)
	}
	for i, c := range ending {
		if i == 0 && len(groups) == 1 {
			groups[0] = append(groups[0], c)
			continue
		}
		groups = append(groups, []check{c})
	}
	name := func(i int) string {
		if i == 0 {
			return base
		}
		return fmt.Sprintf("%s (%d)", base, i+1)
	}
	for i, g := range groups {
		next := pass
		if i+1 < len(groups) {
			next = name(i + 1)
		}
		ch := &asl.Choice{Type: "Choice", Default: next}
		for _, c := range g {
			for _, t := range c.tests {
				r := t.rule
				r.Next = next
				if t.hit {
					r.Next = c.target
				}
				ch.Choices = append(ch.Choices, r)
			}
		}
		sc.add(name(i), ch)
	}
}

func hasMiss(c check) bool {
	for _, t := range c.tests {
		if !t.hit {
			return true
		}
	}
	return false
}

// guard emits a conditional step's Choice states and one skip state per
// atom: a Pass that records the step as SKIPPED, naming the condition that
// did not hold, under $.steps.<id> (the task result shape: status, summary,
// evidence, outputs), then goes on to what follows the step.
func (e *emitter) guard(sc *scope, n *node, next string) {
	id := n.step.ID
	var checks []check
	var skips []asl.NamedState
	tags := map[string]int{}
	for _, a := range n.cond {
		label := a.key
		if a.tag != "" {
			tags[a.key]++
			label = fmt.Sprintf("%s #%d", a.key, tags[a.key])
		}
		c := check{tests: a.failing(), target: e.name(id, "skipped: "+label)}
		checks = append(checks, c)
		skips = append(skips, asl.NamedState{Name: c.target, State: &asl.Pass{Type: "Pass",
			Result: map[string]any{
				"status":   "SKIPPED",
				"summary":  "skipped: when " + a.String() + " did not hold",
				"evidence": []any{},
				"outputs":  map[string]any{"when": a.key},
			},
			ResultPath: asl.P("$.steps." + id)}})
	}
	e.chain(sc, e.entry(e.lt, n), checks, e.name(id, ""))
	after := e.cont(sc, id, next)
	for _, ns := range skips {
		ns.State.(*asl.Pass).Next = after
		sc.add(ns.Name, ns.State)
	}
}
