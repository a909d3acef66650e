package asl

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestEncodeMatchesJSON holds the reflection-free writer to encoding/json:
// a machine with every field of every state kind must come out byte for byte
// as json.Marshal + json.Indent would write it.
func TestEncodeMatchesJSON(t *testing.T) {
	f := 1.5
	sm := &StateMachine{Comment: "all <fields> & \"quotes\"\u2028", QueryLanguage: "JSONPath", StartAt: "T", TimeoutSeconds: 9, States: States{
		{"T", &Task{Type: "Task", Comment: "c\n\t", Resource: ResourceLambdaInvoke, InputPath: P("$.a"),
			Parameters:     map[string]any{"b.$": "$.b", "a": []any{json.Number("1"), 2.5, true, nil, map[string]any{"z": "y", "x": []any{}}}, "e": map[string]any{}},
			ResultSelector: map[string]any{"s.$": "$.Payload"}, ResultPath: &Path{Null: true}, OutputPath: P("$.o"), TimeoutSeconds: 3, HeartbeatSeconds: 2,
			Retry: []Retrier{{ErrorEquals: []string{"A", "B"}, IntervalSeconds: 1, MaxAttempts: Int(0), BackoffRate: 2, MaxDelaySeconds: 4, JitterStrategy: "FULL"}},
			Catch: []Catcher{{ErrorEquals: []string{ErrAll}, ResultPath: P("$.e"), Next: "P"}}, Next: "P"}},
		{"P", &Pass{Type: "Pass", Result: map[string]any{"k": "v"}, ResultPath: P("$.r"), Next: "W"}},
		{"W", &Wait{Type: "Wait", Seconds: 5, Next: "C"}},
		{"C", &Choice{Type: "Choice", Choices: []ChoiceRule{
			{Variable: "$.x", StringEquals: Str("a"), Next: "Par"},
			{And: []ChoiceRule{{Variable: "$.n", NumericGreaterThanEquals: &f}, {Not: &ChoiceRule{Variable: "$.b", IsPresent: Bool(false)}}}, Next: "M"},
		}, Default: "F"}},
		{"Par", &Parallel{Type: "Parallel", Branches: []StateMachine{{StartAt: "S", States: States{{"S", &Succeed{Type: "Succeed"}}}}},
			ResultSelector: map[string]any{"a.$": "$[0]"}, Catch: []Catcher{{ErrorEquals: []string{ErrAll}, Next: "F"}}, End: true}},
		{"M", &Map{Type: "Map", ItemsPath: P("$.items"), ItemProcessor: &StateMachine{StartAt: "I", States: States{{"I", &Pass{Type: "Pass", End: true}}}}, MaxConcurrency: 2, End: true}},
		{"F", &Fail{Type: "Fail", Error: "E", CausePath: "$.c"}},
	}}
	got, compactSize, err := Encode(sm)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := marshal(sm)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	json.Indent(&want, raw, "", "  ")
	want.WriteByte('\n')
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf("indented differs:\n--- got\n%s\n--- want\n%s", got, want.Bytes())
	}
	if compactSize != len(raw) {
		t.Errorf("compact size %d; encoding/json compact is %d bytes", compactSize, len(raw))
	}
	back, err := Parse(got)
	if err != nil {
		t.Fatalf("Parse(Encode(sm)): %v", err)
	}
	again, _, _ := Encode(back)
	if !bytes.Equal(again, got) {
		t.Errorf("Encode(Parse(Encode(sm))) is not stable:\n%s", again)
	}
}
