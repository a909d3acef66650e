package asl

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestEncode holds Encode to what a deployer and a reviewer rely on: a
// machine with every field of every state kind comes out indented with a
// trailing newline, HTML characters as written, a compact size equal to
// json.Compact's, and Parse(Encode(sm)) encodes to the same bytes. The
// golden files of ./generator pin the exact bytes of real playbooks.
func TestEncode(t *testing.T) {
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
	if !bytes.HasSuffix(got, []byte("}\n")) || !bytes.Contains(got, []byte("\n  \"States\": {\n")) {
		t.Errorf("not indented by two spaces with a trailing newline:\n%s", got)
	}
	if !bytes.Contains(got, []byte(`"all <fields> & \"quotes\"\u2028"`)) {
		t.Errorf("comment not written as is (HTML unescaped, U+2028 escaped):\n%s", got)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, got); err != nil {
		t.Fatal(err)
	}
	if compactSize != compact.Len() {
		t.Errorf("compact size %d; json.Compact gives %d bytes", compactSize, compact.Len())
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

func TestEncodeRefusesMistypedState(t *testing.T) {
	sm := &StateMachine{StartAt: "T", States: States{{"T", &Task{Type: "Pass", Resource: ResourceLambdaInvoke, End: true}}}}
	if _, _, err := Encode(sm); err == nil {
		t.Error("a *Task typed Pass encoded without error")
	}
}
