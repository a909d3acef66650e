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

// MarshalJSON writes the states as an object in insertion order.
func (s States) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, ns := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(ns.Name)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		v, err := marshal(ns.State)
		if err != nil {
			return nil, fmt.Errorf("state %q: %w", ns.Name, err)
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
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
	return st, nil
}

// Marshal returns the definition as indented, deterministic JSON with a
// trailing newline. HTML characters are not escaped, so the text reads as written.
func Marshal(sm *StateMachine) ([]byte, error) {
	raw, err := marshal(sm)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
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

func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
