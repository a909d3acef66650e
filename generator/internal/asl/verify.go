package asl

import (
	"fmt"
	"unicode/utf8"
)

// Step Functions limits the verifier enforces.
const (
	MaxStateNameLength = 80
	MaxDefinitionBytes = 1 << 20 // 1 MiB
	MaxTaskTimeout     = 365 * 24 * 3600
	MaxLambdaTimeout   = 900
)

// Problem is one structural defect of a definition.
type Problem struct {
	State   string // "" for the definition itself
	Message string
}

func (p Problem) String() string {
	if p.State == "" {
		return p.Message
	}
	return fmt.Sprintf("state %q: %s", p.State, p.Message)
}

// Verify checks what Step Functions would reject or what could never run:
// StartAt and every transition name a state of the same scope, every state
// is reachable, each scope can end, names are unique across the whole
// machine and at most 80 characters, and Choice states have rules.
func Verify(sm *StateMachine) []Problem {
	v := verifier{names: map[string]bool{}}
	v.scope(sm, "")
	return v.problems
}

type verifier struct {
	names    map[string]bool
	problems []Problem
}

func (v *verifier) add(state, format string, args ...any) {
	v.problems = append(v.problems, Problem{State: state, Message: fmt.Sprintf(format, args...)})
}

func (v *verifier) scope(sm *StateMachine, where string) {
	if len(sm.States) == 0 {
		v.add("", "%sno states", where)
		return
	}
	for _, ns := range sm.States {
		if v.names[ns.Name] {
			v.add(ns.Name, "name used by more than one state")
		}
		v.names[ns.Name] = true
		if n := utf8.RuneCountInString(ns.Name); n > MaxStateNameLength || n == 0 {
			v.add(ns.Name, "name has %d characters; Step Functions allows 1 to %d", n, MaxStateNameLength)
		}
	}
	if sm.States.Get(sm.StartAt) == nil {
		v.add("", "%sStartAt %q is not a state", where, sm.StartAt)
		return
	}
	terminal := false
	for _, ns := range sm.States {
		for _, t := range ns.State.Targets() {
			if sm.States.Get(t) == nil {
				v.add(ns.Name, "goes to %q, which is not a state of its scope", t)
			}
		}
		if ns.State.Terminal() {
			terminal = true
		}
		v.state(ns)
	}
	if !terminal {
		v.add("", "%sno state ends the execution", where)
	}
	seen := map[string]bool{}
	var visit func(string)
	visit = func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		if st := sm.States.Get(name); st != nil {
			for _, t := range st.Targets() {
				visit(t)
			}
		}
	}
	visit(sm.StartAt)
	for _, ns := range sm.States {
		if !seen[ns.Name] {
			v.add(ns.Name, "unreachable from %q", sm.StartAt)
		}
	}
}

func (v *verifier) state(ns NamedState) {
	switch st := ns.State.(type) {
	case *Task:
		if st.Next == "" && !st.End {
			v.add(ns.Name, "has neither Next nor End")
		}
		if st.TimeoutSeconds < 0 || st.TimeoutSeconds > MaxTaskTimeout {
			v.add(ns.Name, "TimeoutSeconds %d is out of range", st.TimeoutSeconds)
		}
	case *Pass:
		if st.Next == "" && !st.End {
			v.add(ns.Name, "has neither Next nor End")
		}
	case *Wait:
		if st.Next == "" && !st.End {
			v.add(ns.Name, "has neither Next nor End")
		}
	case *Choice:
		if len(st.Choices) == 0 {
			v.add(ns.Name, "has no Choices")
		}
		for i, r := range st.Choices {
			if r.Next == "" {
				v.add(ns.Name, "choice %d has no Next", i)
			}
		}
	case *Parallel:
		if st.Next == "" && !st.End {
			v.add(ns.Name, "has neither Next nor End")
		}
		if len(st.Branches) == 0 {
			v.add(ns.Name, "has no Branches")
		}
		for i := range st.Branches {
			v.scope(&st.Branches[i], fmt.Sprintf("branch %d of %q: ", i, ns.Name))
		}
	case *Map:
		if p := st.Processor(); p != nil {
			v.scope(p, fmt.Sprintf("item processor of %q: ", ns.Name))
		} else {
			v.add(ns.Name, "has no ItemProcessor")
		}
	}
}

// Walk calls fn for every state of the machine, nested branches included,
// in document order.
func Walk(sm *StateMachine, fn func(NamedState)) {
	for _, ns := range sm.States {
		fn(ns)
		switch st := ns.State.(type) {
		case *Parallel:
			for i := range st.Branches {
				Walk(&st.Branches[i], fn)
			}
		case *Map:
			if p := st.Processor(); p != nil {
				Walk(p, fn)
			}
		}
	}
}
