package generator

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/irflow/irflow/generator/diag"
	"github.com/irflow/irflow/generator/internal/asl"
	"github.com/irflow/irflow/generator/internal/playbook"
	"github.com/irflow/irflow/tasks/catalog"
)

// verify checks the emitted machine: the structure (asl.Verify), Step
// Functions limits, and irflow's own rules: every Task names its action,
// retries, times out and is caught (Finalize case aside); gates carry the
// task token; no action runs on a launch type it does not support.
func (c *compilation) verify() {
	if c.sm == nil {
		return
	}
	// The deployed definition is the compact form (Result.CompactASL); the
	// indented file is for people and diffs.
	if c.compactSize > asl.MaxDefinitionBytes {
		c.errorAt(diag.CodeLimit, "", "split the playbook", fmt.Sprintf("definition is %d bytes compacted; Step Functions allows %d", c.compactSize, asl.MaxDefinitionBytes))
	}
	for _, p := range asl.Verify(c.sm) {
		ptr := c.stepPointer(p.State)
		if utf8.RuneCountInString(p.State) > asl.MaxStateNameLength {
			c.errorAt(diag.CodeLimit, ptr+"/id", "use a shorter step id", fmt.Sprintf("state name %q is longer than %d characters", p.State, asl.MaxStateNameLength))
			continue
		}
		c.errorAt(diag.CodeSchema, ptr, "please report this playbook", "internal error: generated state machine is invalid: "+p.String())
	}
	for _, p := range Policy(c.sm) {
		c.errorAt(diag.CodeSchema, c.stepPointer(p.State), "please report this playbook", "internal error: "+p.String())
	}
}

// stepPointer maps a generated state name ("EC2: memory check") back to the
// step's JSON Pointer, or "" when it is not a step's state.
func (c *compilation) stepPointer(state string) string {
	_, rest, ok := strings.Cut(state, ": ")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, " ")
	ptr := ""
	c.pb.Walk(func(s *playbook.Step) {
		if ptr == "" && s.ID == id {
			ptr = s.Path
		}
	})
	return ptr
}

// Policy checks irflow's rules on a generated machine (the contract of
// docs/design.md, "The generated state machine"), independent of how it was generated.
func Policy(sm *asl.StateMachine) []asl.Problem {
	var out []asl.Problem
	add := func(state, format string, args ...any) {
		out = append(out, asl.Problem{State: state, Message: fmt.Sprintf(format, args...)})
	}
	asl.Walk(sm, func(ns asl.NamedState) {
		if c, ok := ns.State.(*asl.Choice); ok {
			for i := range c.Choices {
				if negativeTest(&c.Choices[i]) {
					add(ns.Name, "a rule tests IsPresent or IsNull false, which aws-local-stepfunctions never matches: write Not of the true test")
				}
			}
			return
		}
		t, ok := ns.State.(*asl.Task)
		if !ok {
			return
		}
		p, _ := t.Parameters["Payload"].(map[string]any)
		action, _ := p["action"].(string)
		a := catalog.Lookup(action)
		switch {
		case a == nil:
			add(ns.Name, "Payload names no catalog action")
			return
		case t.Parameters["FunctionName"] != "${"+a.FunctionPlaceholder()+"}":
			add(ns.Name, "FunctionName is not ${%s}", a.FunctionPlaceholder())
		}
		if len(t.Retry) == 0 {
			add(ns.Name, "has no Retry")
		}
		if t.TimeoutSeconds <= 0 {
			add(ns.Name, "has no TimeoutSeconds")
		}
		if len(t.Catch) == 0 && action != "finalize-case" {
			add(ns.Name, "has no Catch")
		}
		if p["mode"] == "request" {
			if t.Resource != asl.ResourceLambdaInvokeWait || p["taskToken.$"] != "$$.Task.Token" {
				add(ns.Name, "approval gate does not wait for its task token")
			}
		}
	})
	for _, lt := range catalog.LaunchTypes {
		for _, ns := range ReachableTasks(sm, lt) {
			p, _ := ns.State.(*asl.Task).Parameters["Payload"].(map[string]any)
			action, _ := p["action"].(string)
			if a := catalog.Lookup(action); a != nil && !a.Supports(lt) {
				add(ns.Name, "%s is reachable on the %s branch, which it does not support", action, lt)
			}
		}
	}
	return out
}

// negativeTest reports a rule (or a rule inside it) testing IsPresent or
// IsNull against false.
func negativeTest(r *asl.ChoiceRule) bool {
	if (r.IsPresent != nil && !*r.IsPresent) || (r.IsNull != nil && !*r.IsNull) {
		return true
	}
	for i := range r.And {
		if negativeTest(&r.And[i]) {
			return true
		}
	}
	for i := range r.Or {
		if negativeTest(&r.Or[i]) {
			return true
		}
	}
	return r.Not != nil && negativeTest(r.Not)
}

// ReachableTasks returns the Task states an execution of the launch type can
// reach: everything reachable from the launch-type Choice's rule for it,
// inside Parallel branches too, in document order. Inside a Map (a forEach)
// the target is each task of the list, whose launch type its own Choice on
// $.target.launchType decides: there only the rule for launchType (and the
// Default) is followed, so the result is every Task that can run with a
// target of that launch type.
func ReachableTasks(sm *asl.StateMachine, launchType string) []asl.NamedState {
	choice, _ := sm.States.Get(StateLaunchType).(*asl.Choice)
	if choice == nil {
		return nil
	}
	start := ""
	for _, r := range choice.Choices {
		if r.StringEquals != nil && *r.StringEquals == launchType {
			start = r.Next
		}
	}
	var out []asl.NamedState
	var scope func(m *asl.StateMachine, from string, inMap bool)
	scope = func(m *asl.StateMachine, from string, inMap bool) {
		seen := map[string]bool{}
		var visit func(string)
		visit = func(name string) {
			st := m.States.Get(name)
			if seen[name] || st == nil {
				return
			}
			seen[name] = true
			switch x := st.(type) {
			case *asl.Task:
				out = append(out, asl.NamedState{Name: name, State: x})
			case *asl.Parallel:
				for i := range x.Branches {
					scope(&x.Branches[i], x.Branches[i].StartAt, inMap)
				}
			case *asl.Map:
				if p := x.Processor(); p != nil {
					scope(p, p.StartAt, true)
				}
			case *asl.Choice:
				if inMap && slices.ContainsFunc(x.Choices, func(r asl.ChoiceRule) bool { return r.Variable == "$.target.launchType" }) {
					for _, r := range x.Choices {
						if r.StringEquals != nil && *r.StringEquals == launchType {
							visit(r.Next)
						}
					}
					visit(x.Default)
					return
				}
			}
			for _, t := range st.Targets() {
				visit(t)
			}
		}
		visit(from)
	}
	if start != "" {
		scope(sm, start, false)
	}
	return out
}
