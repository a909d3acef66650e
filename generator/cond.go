package generator

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/irflow/irflow/generator/internal/playbook"
	"github.com/irflow/irflow/tasks/catalog"
)

// cond is a conjunction of atoms: a step's when:, joined with the
// conditions of what encloses it (a parallel's when:, the gate whose
// onReject it is). The empty cond always holds. Atoms are kept in a
// canonical order so the same condition always emits the same states.
type cond []atom

// atom is one condition of the closed vocabulary of when:. Tag maps are
// split into one atom per tag, so each can fail (and be reported) alone.
type atom struct {
	key   string   // a key of when:
	strs  []string // findingTypes patterns or networkModes, sorted
	num   float64  // severityAtLeast
	flag  bool     // inService, execEnabled
	tag   string   // taskTags / notTaskTags key
	value string   // its value; "*" is any value; target's task or host
}

// The keys of when:, in the order atoms are checked.
const (
	whenTarget          = "target"
	whenFindingTypes    = "findingTypes"
	whenSeverityAtLeast = "severityAtLeast"
	whenNetworkModes    = "networkModes"
	whenInService       = "inService"
	whenExecEnabled     = "execEnabled"
	whenTaskTags        = "taskTags"
	whenNotTaskTags     = "notTaskTags"
)

var whenOrder = []string{whenTarget, whenFindingTypes, whenSeverityAtLeast, whenNetworkModes, whenInService, whenExecEnabled, whenTaskTags, whenNotTaskTags}

// anyValue is the tag value that matches every value.
const anyValue = "*"

// The values of when: target. A host target is a container instance a
// GuardDuty finding named (resourceType Instance): it has no task.
const (
	targetTask = "task"
	targetHost = "host"
)

// onlyTasks is the condition that the target is one task: what a step
// whose action needs a task must run under in a playbook that takes host
// findings.
var onlyTasks = cond{{key: whenTarget, value: targetTask}}

// condOf turns a decoded when: into atoms.
func condOf(w *playbook.When) cond {
	if w == nil {
		return nil
	}
	var c cond
	if w.Target != "" {
		c = append(c, atom{key: whenTarget, value: w.Target})
	}
	if len(w.FindingTypes) > 0 {
		var ps []string
		for _, ft := range w.FindingTypes {
			ps = append(ps, ft.Value)
		}
		c = append(c, atom{key: whenFindingTypes, strs: sortedSet(ps)})
	}
	if w.SeverityAtLeast != nil {
		c = append(c, atom{key: whenSeverityAtLeast, num: *w.SeverityAtLeast})
	}
	if len(w.NetworkModes) > 0 {
		c = append(c, atom{key: whenNetworkModes, strs: sortedSet(w.NetworkModes)})
	}
	if w.InService != nil {
		c = append(c, atom{key: whenInService, flag: *w.InService})
	}
	if w.ExecEnabled != nil {
		c = append(c, atom{key: whenExecEnabled, flag: *w.ExecEnabled})
	}
	for k, v := range w.TaskTags {
		c = append(c, atom{key: whenTaskTags, tag: k, value: v})
	}
	for k, v := range w.NotTaskTags {
		c = append(c, atom{key: whenNotTaskTags, tag: k, value: v})
	}
	return c.canonical()
}

func sortedSet(xs []string) []string {
	out := slices.Clone(xs)
	slices.Sort(out)
	return slices.Compact(out)
}

// canonical sorts the atoms by key order, then tag.
func (c cond) canonical() cond {
	slices.SortStableFunc(c, func(a, b atom) int {
		if d := slices.Index(whenOrder, a.key) - slices.Index(whenOrder, b.key); d != 0 {
			return d
		}
		return strings.Compare(a.tag, b.tag)
	})
	return c
}

// and joins two conditions.
func (c cond) and(d cond) cond {
	if len(d) == 0 {
		return c
	}
	return append(slices.Clone(c), d...).canonical()
}

// on is the condition as it stands on a launch type's branch, and whether
// it can hold there at all: Fargate tasks are always awsvpc, so a
// networkModes atom is true there when it names awsvpc and false otherwise;
// a host target is an EC2 container instance, so on Fargate the target is
// always a task (target: task is true, target: host false).
func (c cond) on(lt string) (cond, bool) {
	if lt != catalog.Fargate {
		return c, true
	}
	var out cond
	for _, a := range c {
		if a.key == whenTarget {
			if a.value != targetTask {
				return nil, false
			}
			continue
		}
		if a.key == whenNetworkModes {
			if !slices.Contains(a.strs, "awsvpc") {
				return nil, false
			}
			continue
		}
		out = append(out, a)
	}
	return out, true
}

// implies reports whether c guarantees every atom of d (c ⇒ d), as far as
// the atoms alone show it: the empty d is implied by anything.
func (c cond) implies(d cond) bool {
	for _, y := range d {
		if !slices.ContainsFunc(c, func(x atom) bool { return x.implies(y) }) {
			return false
		}
	}
	return true
}

func (x atom) implies(y atom) bool {
	switch {
	case x.key == whenTaskTags && y.key == whenNotTaskTags:
		// tag k = v rules out tag k = w for another w.
		return x.tag == y.tag && x.value != anyValue && y.value != anyValue && x.value != y.value
	case x.key != y.key:
		return false
	}
	switch x.key {
	case whenFindingTypes:
		for _, p := range x.strs {
			if !slices.ContainsFunc(y.strs, func(q string) bool { return patternCovers(q, p) }) {
				return false
			}
		}
		return true
	case whenSeverityAtLeast:
		return x.num >= y.num
	case whenNetworkModes:
		for _, m := range x.strs {
			if !slices.Contains(y.strs, m) {
				return false
			}
		}
		return true
	case whenInService, whenExecEnabled:
		return x.flag == y.flag
	case whenTarget:
		return x.value == y.value
	case whenTaskTags:
		return x.tag == y.tag && (y.value == anyValue || x.value == y.value)
	case whenNotTaskTags:
		return x.tag == y.tag && (x.value == anyValue || x.value == y.value)
	}
	return false
}

// disjoint reports whether c and d can never hold together, as far as the
// atoms alone show it. A step under c cannot then follow an effect under d.
func (c cond) disjoint(d cond) bool {
	for _, x := range c {
		for _, y := range d {
			if x.contradicts(y) || y.contradicts(x) {
				return true
			}
		}
	}
	return false
}

func (x atom) contradicts(y atom) bool {
	switch {
	case x.key == whenTaskTags && y.key == whenNotTaskTags:
		return x.tag == y.tag && (y.value == anyValue || (x.value != anyValue && x.value == y.value))
	case x.key != y.key:
		return false
	}
	switch x.key {
	case whenFindingTypes:
		for _, p := range x.strs {
			for _, q := range y.strs {
				if patternCovers(p, q) || patternCovers(q, p) {
					return false
				}
			}
		}
		return true
	case whenNetworkModes:
		for _, m := range x.strs {
			if slices.Contains(y.strs, m) {
				return false
			}
		}
		return true
	case whenInService, whenExecEnabled:
		return x.flag != y.flag
	case whenTarget:
		return x.value != y.value
	case whenTaskTags:
		return x.tag == y.tag && x.value != anyValue && y.value != anyValue && x.value != y.value
	}
	return false
}

// patternCovers reports whether every finding type pattern p matches is
// matched by q (q is p, or a prefix pattern whose prefix p starts with).
func patternCovers(q, p string) bool {
	if q == p {
		return true
	}
	prefix, wild := strings.CutSuffix(q, "*")
	return wild && strings.HasPrefix(strings.TrimSuffix(p, "*"), prefix)
}

// String writes the atom as the playbook says it, for summaries and
// messages: `severityAtLeast: 7`, `taskTags {env: prod}`.
func (x atom) String() string {
	switch x.key {
	case whenFindingTypes, whenNetworkModes:
		return fmt.Sprintf("%s [%s]", x.key, strings.Join(x.strs, ", "))
	case whenSeverityAtLeast:
		return x.key + ": " + strconv.FormatFloat(x.num, 'g', -1, 64)
	case whenInService, whenExecEnabled:
		return x.key + ": " + strconv.FormatBool(x.flag)
	case whenTarget:
		return x.key + ": " + x.value
	}
	return fmt.Sprintf("%s {%s: %s}", x.key, x.tag, x.value)
}

// String writes the whole condition, atoms joined by "and".
func (c cond) String() string {
	parts := make([]string, len(c))
	for i, a := range c {
		parts[i] = a.String()
	}
	return strings.Join(parts, " and ")
}
