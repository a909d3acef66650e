package asl

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Encode returns the definition indented by two spaces with a trailing
// newline (for people and diffs), and the size of its compact form: what is
// deployed, and what Step Functions' 1 MiB limit counts. The struct tags of
// the state kinds give the field order; map keys (Parameters, Result,
// ResultSelector) come out sorted, so the output is byte-stable. HTML
// characters are not escaped, so prompts read as written.
func Encode(sm *StateMachine) (indented []byte, compactSize int, err error) {
	compact, err := marshal(sm)
	if err != nil {
		return nil, 0, err
	}
	var b bytes.Buffer
	b.Grow(2 * len(compact))
	if err := json.Indent(&b, compact, "", "  "); err != nil {
		return nil, 0, err
	}
	b.WriteByte('\n')
	return b.Bytes(), len(compact), nil
}

// Marshal returns the definition as Encode writes it.
func Marshal(sm *StateMachine) ([]byte, error) {
	ind, _, err := Encode(sm)
	return ind, err
}

// MarshalJSON writes the states as an object in insertion order. Each state
// must carry the Type of its kind: a *Task typed "Pass" would deploy as a
// Pass. One encoder writes every state into one buffer.
func (s States) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	b.WriteByte('{')
	for i, ns := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := enc.Encode(ns.Name); err != nil {
			return nil, err
		}
		b.Truncate(b.Len() - 1) // Encode's newline
		b.WriteByte(':')
		at := b.Len()
		if err := enc.Encode(ns.State); err != nil {
			return nil, fmt.Errorf("state %q: %w", ns.Name, err)
		}
		b.Truncate(b.Len() - 1)
		if want := `{"Type":"` + ns.State.StateType() + `"`; !bytes.HasPrefix(b.Bytes()[at:], []byte(want)) {
			return nil, fmt.Errorf("state %q: Type does not say %s", ns.Name, ns.State.StateType())
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshal is json.Marshal without HTML escaping.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
