package asl

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// QueryLanguageJSONPath is the only query language irflow emits: independent
// engines run JSONPath faithfully and mis-run JSONata silently.
const QueryLanguageJSONPath = "JSONPath"

// StateMachine is a state machine definition, or a Parallel branch (which has
// no QueryLanguage or TimeoutSeconds of its own).
type StateMachine struct {
	Comment        string `json:"Comment,omitempty"`
	QueryLanguage  string `json:"QueryLanguage,omitempty"`
	StartAt        string `json:"StartAt"`
	TimeoutSeconds int    `json:"TimeoutSeconds,omitempty"`
	States         States `json:"States"`
}

// State is any state kind.
type State interface {
	// StateType is the ASL "Type".
	StateType() string
	// Targets lists the states this state can go to: Next, Default, Choices, Catch.
	Targets() []string
	// Terminal reports whether the state can end its scope.
	Terminal() bool
}

// NamedState is a state with its name.
type NamedState struct {
	Name  string
	State State
}

// States keeps states in the order they were added, which is the order they
// appear in the JSON: flow order reads better than alphabetical, and the
// order is deterministic because the generator adds states deterministically.
type States []NamedState

// Get returns the named state, or nil.
func (s States) Get(name string) State {
	for _, ns := range s {
		if ns.Name == name {
			return ns.State
		}
	}
	return nil
}

// UnmarshalJSON reads states in document order, dispatching on "Type".
func (s *States) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("States must be an object")
	}
	*s = nil
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("state %q: %w", name, err)
		}
		st, err := decodeState(raw)
		if err != nil {
			return fmt.Errorf("state %q: %w", name, err)
		}
		*s = append(*s, NamedState{Name: name, State: st})
	}
	_, err = dec.Token()
	return err
}

func decodeState(raw json.RawMessage) (State, error) {
	var head struct{ Type string }
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, err
	}
	var st State
	switch head.Type {
	case "Task":
		st = &Task{}
	case "Pass":
		st = &Pass{}
	case "Choice":
		st = &Choice{}
	case "Wait":
		st = &Wait{}
	case "Parallel":
		st = &Parallel{}
	case "Map":
		st = &Map{}
	case "Succeed":
		st = &Succeed{}
	case "Fail":
		st = &Fail{}
	default:
		return nil, fmt.Errorf("unsupported state type %q", head.Type)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(st); err != nil {
		return nil, err
	}
	return st, keepNullPaths(st, raw)
}

// keepNullPaths restores "ResultPath": null and friends, which encoding/json
// decodes to a nil pointer (indistinguishable from absent) although null
// means "discard" in ASL.
func keepNullPaths(st State, raw json.RawMessage) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return err
	}
	null := func(k string, dst **Path) {
		if v, ok := fields[k]; ok && string(bytes.TrimSpace(v)) == "null" {
			*dst = &Path{Null: true}
		}
	}
	switch x := st.(type) {
	case *Task:
		null("InputPath", &x.InputPath)
		null("ResultPath", &x.ResultPath)
		null("OutputPath", &x.OutputPath)
	case *Pass:
		null("InputPath", &x.InputPath)
		null("ResultPath", &x.ResultPath)
		null("OutputPath", &x.OutputPath)
	case *Parallel:
		null("InputPath", &x.InputPath)
		null("ResultPath", &x.ResultPath)
		null("OutputPath", &x.OutputPath)
	case *Map:
		null("InputPath", &x.InputPath)
		null("ResultPath", &x.ResultPath)
		null("OutputPath", &x.OutputPath)
	case *Wait:
		null("InputPath", &x.InputPath)
		null("OutputPath", &x.OutputPath)
	case *Choice:
		null("InputPath", &x.InputPath)
		null("OutputPath", &x.OutputPath)
	case *Succeed:
		null("InputPath", &x.InputPath)
		null("OutputPath", &x.OutputPath)
	}
	return nil
}

// Parse reads a definition. Unknown fields are errors: a simulator must never
// silently skip what it does not understand.
func Parse(data []byte) (*StateMachine, error) {
	var sm StateMachine
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sm); err != nil {
		return nil, err
	}
	return &sm, nil
}
