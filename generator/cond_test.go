package generator

import (
	"testing"

	"github.com/irflow/irflow/generator/internal/asl"
)

func fts(ps ...string) atom   { return atom{key: whenFindingTypes, strs: ps} }
func sev(n float64) atom      { return atom{key: whenSeverityAtLeast, num: n} }
func modes(ms ...string) atom { return atom{key: whenNetworkModes, strs: ms} }
func svc(b bool) atom         { return atom{key: whenInService, flag: b} }
func execOn(b bool) atom      { return atom{key: whenExecEnabled, flag: b} }
func tag(k, v string) atom    { return atom{key: whenTaskTags, tag: k, value: v} }
func notTag(k, v string) atom { return atom{key: whenNotTaskTags, tag: k, value: v} }
func when(as ...atom) cond    { return cond(as).canonical() }

// TestCondImplies: what a step's condition guarantees of an approval's
// (approval-required trusts a conditional gate only where it is implied).
func TestCondImplies(t *testing.T) {
	tests := []struct {
		name string
		c, d cond
		want bool
	}{
		{"anything implies the empty condition", when(svc(true)), nil, true},
		{"nothing implies a condition", nil, when(svc(true)), false},
		{"same", when(svc(true)), when(svc(true)), true},
		{"opposite", when(svc(false)), when(svc(true)), false},
		{"stronger severity", when(sev(8)), when(sev(5)), true},
		{"weaker severity", when(sev(4)), when(sev(5)), false},
		{"type within a prefix", when(fts("Trojan:Runtime/DropPoint")), when(fts("Trojan:Runtime/*")), true},
		{"prefix within a prefix", when(fts("Trojan:Runtime/Drop*")), when(fts("Trojan:Runtime/*")), true},
		{"prefix not within a type", when(fts("Trojan:Runtime/*")), when(fts("Trojan:Runtime/DropPoint")), false},
		{"types partly outside", when(fts("Trojan:Runtime/DropPoint", "Impact:Runtime/CryptoMinerExecuted")), when(fts("Trojan:Runtime/*")), false},
		{"fewer network modes", when(modes("awsvpc")), when(modes("awsvpc", "bridge")), true},
		{"more network modes", when(modes("awsvpc", "host")), when(modes("awsvpc")), false},
		{"tag value within any", when(tag("env", "prod")), when(tag("env", "*")), true},
		{"any within a value", when(tag("env", "*")), when(tag("env", "prod")), false},
		{"other tag", when(tag("team", "a")), when(tag("env", "prod")), false},
		{"tag rules out another value", when(tag("env", "prod")), when(notTag("env", "dev")), true},
		{"tag does not rule out itself", when(tag("env", "prod")), when(notTag("env", "prod")), false},
		{"no tag at all rules out a value", when(notTag("keep", "*")), when(notTag("keep", "yes")), true},
		{"conjunction implies a part", when(svc(true), tag("env", "prod")), when(svc(true)), true},
		{"a part does not imply the conjunction", when(svc(true)), when(svc(true), tag("env", "prod")), false},
		{"exec same", when(execOn(true)), when(execOn(true)), true},
		{"exec off", when(execOn(false)), when(execOn(false)), true},
		{"exec opposite", when(execOn(false)), when(execOn(true)), false},
		{"exec is not service", when(execOn(true)), when(svc(true)), false},
		{"service is not exec", when(svc(true)), when(execOn(true)), false},
		{"exec and service imply exec", when(svc(false), execOn(true)), when(execOn(true)), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.implies(tt.d); got != tt.want {
				t.Errorf("(%s) implies (%s) = %v; want %v", tt.c, tt.d, got, tt.want)
			}
		})
	}
}

// TestCondDisjoint: conditions that can never hold together (an SSM step
// under one cannot follow an isolation under the other).
func TestCondDisjoint(t *testing.T) {
	tests := []struct {
		name string
		c, d cond
		want bool
	}{
		{"unconditional", nil, when(svc(true)), false},
		{"in and out of a service", when(svc(true)), when(svc(false)), true},
		{"network modes apart", when(modes("bridge", "host")), when(modes("awsvpc")), true},
		{"network modes shared", when(modes("bridge", "awsvpc")), when(modes("awsvpc")), false},
		{"finding types apart", when(fts("Trojan:Runtime/*")), when(fts("Impact:Runtime/CryptoMinerExecuted")), true},
		{"finding type in a prefix", when(fts("Trojan:Runtime/*")), when(fts("Trojan:Runtime/DropPoint")), false},
		{"severities always meet", when(sev(9)), when(sev(2)), false},
		{"two values of a tag", when(tag("env", "prod")), when(tag("env", "dev")), true},
		{"a tag and its absence", when(tag("env", "*")), when(notTag("env", "*")), true},
		{"a value and its exclusion", when(tag("env", "prod")), when(notTag("env", "prod")), true},
		{"a value and another's exclusion", when(tag("env", "prod")), when(notTag("env", "dev")), false},
		{"different tags", when(tag("env", "prod")), when(tag("team", "a")), false},
		{"exec on and off", when(execOn(true)), when(execOn(false)), true},
		{"exec on twice", when(execOn(true)), when(execOn(true)), false},
		{"exec on, standalone", when(execOn(true)), when(svc(false)), false},
		{"exec off, in a service", when(execOn(false)), when(svc(true)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, back := tt.c.disjoint(tt.d), tt.d.disjoint(tt.c); got != tt.want || back != tt.want {
				t.Errorf("(%s) disjoint (%s) = %v, reversed %v; want %v", tt.c, tt.d, got, back, tt.want)
			}
		})
	}
}

// TestCondOnFargate: Fargate tasks are awsvpc, so networkModes is decided
// when the branch is built.
func TestCondOnFargate(t *testing.T) {
	c, ok := when(modes("awsvpc", "bridge"), svc(true)).on("FARGATE")
	if !ok || c.String() != "inService: true" {
		t.Errorf("awsvpc on FARGATE: %q, %v; want the rest of the condition", c, ok)
	}
	if _, ok := when(modes("bridge")).on("FARGATE"); ok {
		t.Error("bridge holds on FARGATE")
	}
	if c, ok := when(modes("bridge")).on("EC2"); !ok || len(c) != 1 {
		t.Errorf("bridge on EC2: %q, %v; want it kept", c, ok)
	}
}

// TestChainGroups: a check with a miss rule (a tag that must be absent or
// different) ends its Choice, so no later check is skipped by its miss.
func TestChainGroups(t *testing.T) {
	e := &emitter{used: map[string]bool{}}
	var states asl.States
	checks := []check{
		{tests: notTag("keep", "yes").failing(), target: "skip keep"},
		{tests: svc(true).failing(), target: "skip service"},
		{tests: notTag("hold", "on").failing(), target: "skip hold"},
	}
	e.chain(&scope{states: &states}, "c", checks, "run")
	if len(states) != 2 || states[0].Name != "c" || states[1].Name != "c (2)" {
		t.Fatalf("states %v; want c and c (2)", states)
	}
	first := states[0].State.(*asl.Choice)
	if first.Choices[0].Next != "skip service" || first.Default != "c (2)" {
		t.Errorf("first Choice: checks without a miss first, default the next Choice: %+v", first)
	}
	for _, r := range first.Choices {
		if r.Next == "run" {
			t.Errorf("a rule of the first Choice skips the second: %+v", r)
		}
	}
	if last := states[1].State.(*asl.Choice); last.Default != "run" {
		t.Errorf("last Choice defaults to %q; want run", last.Default)
	}
}

// TestCondExecEnabled: execEnabled keeps its place in the canonical order
// (after inService), reads as the playbook writes it, and is not decided by
// the launch type (ECS Exec runs on EC2 and Fargate alike).
func TestCondExecEnabled(t *testing.T) {
	c := when(tag("env", "prod"), execOn(true), svc(false), sev(5))
	if got, want := c.String(), "severityAtLeast: 5 and inService: false and execEnabled: true and taskTags {env: prod}"; got != want {
		t.Errorf("String %q; want %q", got, want)
	}
	for _, lt := range []string{"EC2", "FARGATE"} {
		if on, ok := when(execOn(false)).on(lt); !ok || on.String() != "execEnabled: false" {
			t.Errorf("execEnabled on %s: %q, %v; want it kept", lt, on, ok)
		}
	}
}

// TestExecEnabledChoice: the Choice rules of execEnabled read
// $.target.enableExecuteCommand, test presence before comparing, and count
// an absent value as false: true skips when absent or not true; false
// skips only when present and true (the absence test is a miss, so the
// check ends its Choice).
func TestExecEnabledChoice(t *testing.T) {
	present := func(r asl.ChoiceRule) bool {
		return r.Not != nil && r.Not.Variable == pathExecEnabled && r.Not.IsPresent != nil && *r.Not.IsPresent
	}
	isTrue := func(r *asl.ChoiceRule) bool {
		return r != nil && r.Variable == pathExecEnabled && r.BooleanEquals != nil && *r.BooleanEquals
	}
	on := execOn(true).failing()
	if len(on) != 2 || !present(on[0].rule) || !on[0].hit || !isTrue(on[1].rule.Not) || !on[1].hit {
		t.Errorf("execEnabled: true: %+v; want absent → skip, then not true → skip", on)
	}
	off := execOn(false).failing()
	if len(off) != 2 || !present(off[0].rule) || off[0].hit || !isTrue(&off[1].rule) || !off[1].hit {
		t.Errorf("execEnabled: false: %+v; want absent → run, then true → skip", off)
	}
}

func target(v string) atom { return atom{key: whenTarget, value: v} }

// TestCondTarget: target comes first in the canonical order (a host run
// skipping a task step names it), task and host exclude each other, only
// target: task implies onlyTasks (what a needsTask action must run under),
// and on FARGATE the target is always a task.
func TestCondTarget(t *testing.T) {
	c := when(svc(true), target(targetTask))
	if got, want := c.String(), "target: task and inService: true"; got != want {
		t.Errorf("String %q; want %q", got, want)
	}
	if !c.implies(onlyTasks) || when(target(targetHost)).implies(onlyTasks) || when(svc(true)).implies(onlyTasks) {
		t.Error("only a condition naming target: task implies onlyTasks")
	}
	if !when(target(targetHost)).disjoint(onlyTasks) || when(target(targetTask)).disjoint(onlyTasks) {
		t.Error("target: host and target: task must be disjoint, target: task not with itself")
	}
	if on, ok := c.on("FARGATE"); !ok || on.String() != "inService: true" {
		t.Errorf("target: task on FARGATE: %q, %v; want dropped (always true)", on, ok)
	}
	if _, ok := when(target(targetHost)).on("FARGATE"); ok {
		t.Error("target: host on FARGATE: want never")
	}
	if on, ok := when(target(targetHost)).on("EC2"); !ok || on.String() != "target: host" {
		t.Errorf("target: host on EC2: %q, %v; want kept", on, ok)
	}
}
