package sim

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/irflow/irflow/generator/internal/asl"
)

var t0 = time.Date(2026, 11, 20, 14, 0, 0, 0, time.UTC)

type trace struct {
	res    *Result
	events []Event
	calls  []*Call
}

// entered lists the states entered, in order.
func (tr *trace) entered() string {
	var out []string
	for _, e := range tr.events {
		if e.Kind == StateEntered {
			out = append(out, e.Name)
		}
	}
	return strings.Join(out, " ")
}

func (tr *trace) event(kind EventKind, name string) *Event {
	for i := range tr.events {
		if tr.events[i].Kind == kind && tr.events[i].Name == name {
			return &tr.events[i]
		}
	}
	return nil
}

// execute runs a definition; reply answers Task calls (nil: echo the input).
func execute(t *testing.T, def, input string, reply func(c *Call) Reply) (*trace, error) {
	t.Helper()
	sm, err := asl.Parse([]byte(def))
	if err != nil {
		t.Fatalf("asl.Parse: %v", err)
	}
	tr := &trace{}
	inv := InvokerFunc(func(_ context.Context, c *Call) (Reply, error) {
		tr.calls = append(tr.calls, c)
		if reply == nil {
			return Reply{Output: c.Input}, nil
		}
		return reply(c), nil
	})
	tr.res, err = Run(context.Background(), sm, mustDecode(t, input), Options{Invoker: inv, Start: t0, Seed: 7,
		Execution: Execution{ID: "arn:exec", Name: "run-1"}, Observer: func(e Event) { tr.events = append(tr.events, e) }})
	return tr, err
}

func mustRun(t *testing.T, def, input string, reply func(c *Call) Reply) *trace {
	t.Helper()
	tr, err := execute(t, def, input, reply)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return tr
}

func output(t *testing.T, tr *trace, want string) {
	t.Helper()
	if tr.res.Status != StatusSucceeded {
		t.Fatalf("execution %s: %s %s", tr.res.Status, tr.res.Error, tr.res.Cause)
	}
	if !equal(tr.res.Output, mustDecode(t, want)) {
		t.Errorf("output %s; want %s", mustCompact(tr.res.Output), want)
	}
}

func TestInputOutputProcessing(t *testing.T) {
	tests := []struct {
		name, state, input, want string
	}{
		{"pass result at path", `{"Type":"Pass","Result":{"x":1},"ResultPath":"$.r","End":true}`, `{"a":1}`, `{"a":1,"r":{"x":1}}`},
		{"pass replaces", `{"Type":"Pass","Result":"COMPLETED","End":true}`, `{"a":1}`, `"COMPLETED"`},
		{"result path null keeps input", `{"Type":"Pass","Result":{"x":1},"ResultPath":null,"End":true}`, `{"a":1}`, `{"a":1}`},
		{"input path", `{"Type":"Pass","InputPath":"$.a","End":true}`, `{"a":{"b":2}}`, `{"b":2}`},
		{"input path null", `{"Type":"Pass","InputPath":null,"End":true}`, `{"a":1}`, `{}`},
		{"output path", `{"Type":"Pass","OutputPath":"$.a.b","End":true}`, `{"a":{"b":2}}`, `2`},
		{"parameters", `{"Type":"Pass","Parameters":{"k.$":"$.a","lit":{"x.$":"$.b[0]"},"list":[{"y.$":"$.a"}],"name.$":"$$.Execution.Name","f.$":"States.Format('{}-{}', $.a, $$.State.Name)"},"End":true}`,
			`{"a":"v","b":[7]}`, `{"k":"v","lit":{"x":7},"list":[{"y":"v"}],"name":"run-1","f":"v-S"}`},
		{"parameters then result path", `{"Type":"Pass","Parameters":{"k.$":"$.a"},"ResultPath":"$.p","End":true}`, `{"a":1}`, `{"a":1,"p":{"k":1}}`},
		{"task selector and path", `{"Type":"Task","Resource":"r","Parameters":{"v.$":"$.a"},"ResultSelector":{"got.$":"$.v"},"ResultPath":"$.steps.x","End":true}`,
			`{"a":3,"steps":{}}`, `{"a":3,"steps":{"x":{"got":3}}}`},
		{"task output path", `{"Type":"Task","Resource":"r","ResultPath":"$.r","OutputPath":"$.r","End":true}`, `{"a":3}`, `{"a":3}`},
		{"succeed paths", `{"Type":"Succeed","InputPath":"$.a","OutputPath":"$.b"}`, `{"a":{"b":4}}`, `4`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := mustRun(t, `{"StartAt":"S","States":{"S":`+tt.state+`}}`, tt.input, nil)
			output(t, tr, tt.want)
		})
	}
}

func TestPathFailuresAreRuntimeErrors(t *testing.T) {
	for _, state := range []string{
		`{"Type":"Pass","InputPath":"$.missing","End":true}`,
		`{"Type":"Pass","Parameters":{"k.$":"$.missing"},"End":true}`,
		`{"Type":"Task","Resource":"r","ResultSelector":{"k.$":"$.missing"},"Catch":[{"ErrorEquals":["States.ALL"],"Next":"C"}],"End":true}`,
	} {
		def := `{"StartAt":"S","States":{"S":` + state + `,"C":{"Type":"Succeed"}}}`
		tr := mustRun(t, def, `{"a":1}`, nil)
		if tr.res.Status != StatusFailed || tr.res.Error != asl.ErrRuntime {
			t.Errorf("%s: got %s %s; want FAILED States.Runtime (not even States.ALL catches it)", state, tr.res.Status, tr.res.Error)
		}
	}
	tr := mustRun(t, `{"StartAt":"S","States":{"S":{"Type":"Pass","Result":1,"ResultPath":"$.a.b","End":true}}}`, `{"a":"text"}`, nil)
	if tr.res.Error != asl.ErrResultPath {
		t.Errorf("ResultPath through a string: got %s; want %s", tr.res.Error, asl.ErrResultPath)
	}
}

const retryDef = `{"StartAt":"T","States":{
 "T":{"Type":"Task","Resource":"r","Retry":[
   {"ErrorEquals":["Flaky"],"IntervalSeconds":2,"BackoffRate":2,"MaxAttempts":3,"JitterStrategy":"NONE"},
   {"ErrorEquals":["Capped"],"IntervalSeconds":10,"BackoffRate":3,"MaxAttempts":4,"MaxDelaySeconds":40},
   {"ErrorEquals":["Jittery"],"IntervalSeconds":8,"MaxAttempts":2,"JitterStrategy":"FULL"},
   {"ErrorEquals":["Never"],"MaxAttempts":0},
   {"ErrorEquals":["States.ALL"]}],
  "Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.err","Next":"Caught"}],"End":true},
 "Caught":{"Type":"Succeed"}}}`

func TestRetryBackoffInVirtualTime(t *testing.T) {
	tests := []struct {
		err      string
		attempts int
		min, max time.Duration
	}{
		{"Flaky", 4, 14 * time.Second, 14 * time.Second},    // 2 + 4 + 8
		{"Capped", 5, 120 * time.Second, 120 * time.Second}, // 10 + 30 + 40 + 40 (MaxDelaySeconds)
		{"Jittery", 3, 0, 24 * time.Second},                 // full jitter: up to 8 + 16
		{"Never", 1, 0, 0},                                  // MaxAttempts 0: no retry, not even by States.ALL
		{"Other", 4, 7 * time.Second, 7 * time.Second},      // defaults: 1s, ×2, 3 attempts
		{asl.ErrRuntime, 1, 0, 0},                           // never retried or caught
	}
	for _, tt := range tests {
		t.Run(tt.err, func(t *testing.T) {
			tr := mustRun(t, retryDef, `{}`, func(c *Call) Reply { return Reply{Err: &Error{Name: tt.err, Cause: "c"}} })
			if len(tr.calls) != tt.attempts {
				t.Errorf("%d attempts; want %d", len(tr.calls), tt.attempts)
			}
			if d := tr.res.Duration; d < tt.min || d > tt.max {
				t.Errorf("took %s of virtual time; want %s to %s", d, tt.min, tt.max)
			}
			for i, c := range tr.calls {
				if c.Attempt != i+1 {
					t.Errorf("call %d says attempt %d", i, c.Attempt)
				}
			}
			if tt.err == asl.ErrRuntime {
				if tr.res.Status != StatusFailed {
					t.Errorf("States.Runtime was caught")
				}
				return
			}
			output(t, tr, `{"err":{"Error":"`+tt.err+`","Cause":"c"}}`)
		})
	}
}

func TestRetryThenSuccess(t *testing.T) {
	n := 0
	tr := mustRun(t, retryDef, `{"a":1}`, func(c *Call) Reply {
		if n++; n < 3 {
			return Reply{Err: &Error{Name: "Flaky"}}
		}
		return Reply{Output: "ok"}
	})
	output(t, tr, `"ok"`)
	ev := tr.event(StateExited, "T")
	if len(ev.Attempts) != 3 || ev.Attempts[0].Error.Name != "Flaky" || ev.Attempts[2].Output != "ok" {
		t.Errorf("attempts %+v", ev.Attempts)
	}
	if tr.calls[2].Input.(map[string]any)["a"] == nil {
		t.Errorf("a retry lost the input")
	}
}

func TestCatchOrder(t *testing.T) {
	def := `{"StartAt":"T","States":{
 "T":{"Type":"Task","Resource":"r","TimeoutSeconds":5,"Catch":[
   {"ErrorEquals":["Specific"],"Next":"A"},
   {"ErrorEquals":["States.TaskFailed"],"Next":"B"},
   {"ErrorEquals":["States.ALL"],"Next":"C"}],"End":true},
 "A":{"Type":"Pass","Result":"A","End":true},"B":{"Type":"Pass","Result":"B","End":true},"C":{"Type":"Pass","Result":"C","End":true}}}`
	tests := []struct {
		reply Reply
		want  string
	}{
		{Reply{Err: &Error{Name: "Specific"}}, `"A"`},
		{Reply{Err: &Error{Name: "Whatever"}}, `"B"`},
		{Reply{Elapsed: time.Minute}, `"C"`}, // States.Timeout: not matched by States.TaskFailed
	}
	for _, tt := range tests {
		tr := mustRun(t, def, `{}`, func(*Call) Reply { return tt.reply })
		output(t, tr, tt.want)
		if ev := tr.event(StateExited, "T"); !ev.Caught || ev.Error == nil {
			t.Errorf("the Exited event does not say what was caught: %+v", ev)
		}
	}
}

func TestTimeouts(t *testing.T) {
	def := `{"StartAt":"T","States":{
 "T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","TimeoutSeconds":1800,"HeartbeatSeconds":%s,
  "Parameters":{"token.$":"$$.Task.Token"},
  "Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.error","Next":"Done"}],"End":true},
 "Done":{"Type":"Succeed"}}}`
	tests := []struct {
		heartbeat string
		elapsed   time.Duration
		err       string
		took      time.Duration
	}{
		{"0", Forever, asl.ErrTimeout, 30 * time.Minute},
		{"0", 10 * time.Minute, "", 10 * time.Minute},
		{"60", 10 * time.Minute, ErrHeartbeatTimeout, time.Minute},
	}
	for _, tt := range tests {
		tr := mustRun(t, strings.Replace(def, "%s", tt.heartbeat, 1), `{}`, func(c *Call) Reply {
			tok, _ := c.Input.(map[string]any)["token"].(string)
			if tok == "" || tok != c.Token {
				t.Errorf("$$.Task.Token %q, call token %q", tok, c.Token)
			}
			return Reply{Output: map[string]any{"ok": true}, Elapsed: tt.elapsed}
		})
		if tr.res.Duration != tt.took {
			t.Errorf("heartbeat %s, elapsed %s: took %s; want %s", tt.heartbeat, tt.elapsed, tr.res.Duration, tt.took)
		}
		out, _ := tr.res.Output.(map[string]any)
		got, _ := out["error"].(map[string]any)
		if name, _ := got["Error"].(string); name != tt.err {
			t.Errorf("heartbeat %s, elapsed %s: error %q; want %q", tt.heartbeat, tt.elapsed, name, tt.err)
		}
	}
	noToken := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r","Parameters":{"t.$":"$$.Task.Token"},"End":true}}}`
	if tr := mustRun(t, noToken, `{}`, nil); tr.res.Error != asl.ErrRuntime {
		t.Errorf("$$.Task.Token outside a callback task: got %s; want States.Runtime", tr.res.Error)
	}
}

func TestWait(t *testing.T) {
	tests := []struct {
		state, input string
		want         time.Duration
	}{
		{`{"Type":"Wait","Seconds":30,"Next":"E"}`, `{}`, 30 * time.Second},
		{`{"Type":"Wait","SecondsPath":"$.s","Next":"E"}`, `{"s":90}`, 90 * time.Second},
		{`{"Type":"Wait","Timestamp":"2026-11-20T15:00:00Z","Next":"E"}`, `{}`, time.Hour},
		{`{"Type":"Wait","TimestampPath":"$.ts","Next":"E"}`, `{"ts":"2026-11-20T14:00:05Z"}`, 5 * time.Second},
		{`{"Type":"Wait","TimestampPath":"$.ts","Next":"E"}`, `{"ts":"2020-01-01T00:00:00Z"}`, 0},
	}
	for _, tt := range tests {
		tr := mustRun(t, `{"StartAt":"W","States":{"W":`+tt.state+`,"E":{"Type":"Succeed"}}}`, tt.input, nil)
		if tr.res.Duration != tt.want {
			t.Errorf("%s: waited %s; want %s", tt.state, tr.res.Duration, tt.want)
		}
	}
	tr := mustRun(t, `{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","End":true}}}`, `{"s":"soon"}`, nil)
	if tr.res.Error != asl.ErrRuntime {
		t.Errorf("SecondsPath to a string: got %s; want States.Runtime", tr.res.Error)
	}
}

func TestChoiceAndFail(t *testing.T) {
	def := `{"StartAt":"C","States":{
 "C":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericGreaterThan":1,"Next":"Big"}]},
 "Big":{"Type":"Fail","ErrorPath":"$.e","CausePath":"States.Format('n is {}', $.n)"}}}`
	tr := mustRun(t, def, `{"n":2,"e":"TooBig"}`, nil)
	if tr.res.Error != "TooBig" || tr.res.Cause != "n is 2" {
		t.Errorf("got %s %q; want TooBig \"n is 2\"", tr.res.Error, tr.res.Cause)
	}
	tr = mustRun(t, def, `{"n":0}`, nil)
	if tr.res.Error != asl.ErrNoChoice {
		t.Errorf("no rule matched: got %s; want %s", tr.res.Error, asl.ErrNoChoice)
	}
}

const parallelDef = `{"StartAt":"P","States":{
 "P":{"Type":"Parallel","Branches":[
   {"StartAt":"A1","States":{"A1":{"Type":"Wait","Seconds":20,"Next":"A2"},"A2":{"Type":"Pass","Result":{"a":1},"ResultPath":"$.steps","End":true}}},
   {"StartAt":"B1","States":{"B1":{"Type":"Task","Resource":"r","ResultPath":"$.steps","Next":"B2"},"B2":{"Type":"Wait","Seconds":10,"Next":"B3"},"B3":{"Type":"Pass","End":true}}}],
  "ResultSelector":{"steps.$":"States.JsonMerge($[0].steps, $[1].steps, false)","n.$":"$[0].n"},
  "Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.error","Next":"Caught"}],
  "Next":"After"},
 "After":{"Type":"Succeed"},"Caught":{"Type":"Succeed"}}}`

func TestParallel(t *testing.T) {
	tr := mustRun(t, parallelDef, `{"n":1}`, func(c *Call) Reply { return Reply{Output: map[string]any{"b": 2}} })
	output(t, tr, `{"steps":{"a":1,"b":2},"n":1}`)
	// Branches interleave on the virtual clock: B finishes its 10 s wait before A its 20 s.
	if got, want := tr.entered(), "P A1 B1 B2 B3 A2 After"; got != want {
		t.Errorf("entered %q; want %q", got, want)
	}
	if tr.res.Duration != 20*time.Second || tr.res.Transitions != 7 {
		t.Errorf("took %s and %d transitions; want 20s and 7", tr.res.Duration, tr.res.Transitions)
	}
	for _, e := range tr.events {
		if e.Name == "B2" && (len(e.Scope) != 1 || e.Scope[0] != (Frame{State: "P", Index: 1})) {
			t.Errorf("B2's scope is %+v", e.Scope)
		}
	}
}

func TestParallelFailureStopsSiblings(t *testing.T) {
	tr := mustRun(t, parallelDef, `{"n":1}`, func(c *Call) Reply { return Reply{Err: &Error{Name: "Boom", Cause: "b"}} })
	output(t, tr, `{"n":1,"error":{"Error":"Boom","Cause":"b"}}`)
	// B1 fails at 0 s; A1's 20 s wait ends after that, so A2 never runs.
	if got, want := tr.entered(), "P A1 B1 Caught"; got != want {
		t.Errorf("entered %q; want %q", got, want)
	}
	if tr.event(StateStopped, "A1") == nil || tr.event(StateFailed, "B1") == nil {
		t.Errorf("A1 should be stopped and B1 failed: %+v", tr.events)
	}
	// The Parallel fails when B1 does: A1 does not wait out its 20 s first.
	if tr.res.Duration != 0 {
		t.Errorf("took %s; want 0s", tr.res.Duration)
	}
}

func TestMap(t *testing.T) {
	def := `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":2,
  "ItemSelector":{"i.$":"$$.Map.Item.Index","v.$":"$$.Map.Item.Value","k.$":"$.k"},
  "ItemProcessor":{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.v","Next":"T"},"T":{"Type":"Task","Resource":"r","End":true}}},
  "ResultPath":"$.out","End":true}}}`
	tr := mustRun(t, def, `{"items":[30,10,5],"k":"x"}`, nil)
	output(t, tr, `{"items":[30,10,5],"k":"x","out":[{"i":0,"v":30,"k":"x"},{"i":1,"v":10,"k":"x"},{"i":2,"v":5,"k":"x"}]}`)
	// Two at a time: items 0 and 1 start at 0 s; item 2 starts when item 1 ends at 10 s.
	if tr.res.Duration != 30*time.Second {
		t.Errorf("took %s; want 30s", tr.res.Duration)
	}
	var order []any
	for _, c := range tr.calls {
		order = append(order, c.Input.(map[string]any)["i"])
	}
	if got := mustCompact(order); got != "[1,2,0]" {
		t.Errorf("tasks ran for items %s; want [1,2,0]", got)
	}
	tr = mustRun(t, def, `{"items":"nope"}`, nil)
	if tr.res.Error != asl.ErrRuntime {
		t.Errorf("items not an array: got %s; want States.Runtime", tr.res.Error)
	}
}

func TestExecutionLimits(t *testing.T) {
	loop := `{"TimeoutSeconds":100,"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":30,"Next":"W"}}}`
	tr := mustRun(t, loop, `{}`, nil)
	if tr.res.Status != StatusTimedOut || tr.res.Duration != 100*time.Second {
		t.Errorf("got %s after %s; want TIMED_OUT after 100s", tr.res.Status, tr.res.Duration)
	}
	spin := `{"StartAt":"P","States":{"P":{"Type":"Pass","Next":"P"}}}`
	if _, err := execute(t, spin, `{}`, nil); err == nil || !strings.Contains(err.Error(), "transitions") {
		t.Errorf("an endless loop: got %v; want an error about transitions", err)
	}
	big := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r","Catch":[{"ErrorEquals":["States.ALL"],"Next":"C"}],"End":true},"C":{"Type":"Succeed"}}}`
	tr = mustRun(t, big, `{}`, func(*Call) Reply { return Reply{Output: strings.Repeat("x", MaxPayloadBytes)} })
	if tr.res.Error != ErrDataLimit {
		t.Errorf("a 256 KiB result: got %s %s; want %s, uncaught", tr.res.Status, tr.res.Error, ErrDataLimit)
	}
}

// TestUnsupportedIsAnError: what the interpreter cannot run stops it
// before the first state, even on a branch no input would take.
func TestUnsupportedIsAnError(t *testing.T) {
	tests := []struct{ def, want string }{
		{`{"QueryLanguage":"JSONata","StartAt":"S","States":{"S":{"Type":"Succeed"}}}`, "JSONata"},
		{`{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","IsPresent":true,"Next":"S"}],"Default":"S"},
		   "S":{"Type":"Succeed"},"X":{"Type":"Pass","InputPath":"$..deep","End":true}}}`, "deep scan"},
		{`{"StartAt":"S","States":{"S":{"Type":"Pass","Parameters":{"a.$":"States.Mystery()"},"End":true}}}`, "not an intrinsic"},
		{`{"StartAt":"S","States":{"S":{"Type":"Pass","Parameters":{"a.$":7},"End":true}}}`, "must be a string"},
		{`{"StartAt":"S","States":{"S":{"Type":"Pass","Next":"Nowhere"}}}`, "not a state"},
		{`{"StartAt":"S","States":{"S":{"Type":"Task","Resource":"r","Retry":[{"ErrorEquals":["X"],"JitterStrategy":"HALF"}],"End":true}}}`, "JitterStrategy"},
		{`{"StartAt":"S","States":{"S":{"Type":"Pass","ResultPath":"$$.x","End":true}}}`, "reference path"},
		{`{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"QueryLanguage":"JSONata","StartAt":"S","States":{"S":{"Type":"Succeed"}}}],"End":true}}}`, "JSONata"},
	}
	for _, tt := range tests {
		if _, err := execute(t, tt.def, `{}`, nil); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("got %v; want an error saying %q", err, tt.want)
		}
	}
	// Fields the model does not know are refused when the definition is read.
	if _, err := asl.Parse([]byte(`{"StartAt":"S","States":{"S":{"Type":"Task","Resource":"r","Arguments":{},"End":true}}}`)); err == nil {
		t.Errorf("asl.Parse accepted an unknown field")
	}
}

func TestInvokerErrorIsFatal(t *testing.T) {
	sm, _ := asl.Parse([]byte(`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r","Catch":[{"ErrorEquals":["States.ALL"],"Next":"C"}],"End":true},"C":{"Type":"Succeed"}}}`))
	_, err := Run(context.Background(), sm, nil, Options{Invoker: InvokerFunc(func(context.Context, *Call) (Reply, error) {
		return Reply{}, context.DeadlineExceeded
	})})
	var f *Fatal
	if err == nil || !strings.Contains(err.Error(), `state "T"`) || !errors.As(err, &f) {
		t.Errorf("got %v; want a Fatal naming state T", err)
	}
}

func TestNestedParallelStopsAtOnce(t *testing.T) {
	def := `{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[
  {"StartAt":"Q","States":{"Q":{"Type":"Parallel","End":true,"Branches":[
    {"StartAt":"Q1","States":{"Q1":{"Type":"Wait","Seconds":20,"Next":"Q2"},"Q2":{"Type":"Succeed"}}},
    {"StartAt":"R1","States":{"R1":{"Type":"Wait","Seconds":30,"End":true}}}]}}},
  {"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":5,"Next":"F"},"F":{"Type":"Fail","Error":"Late","Cause":"c"}}}]}}}`
	tr := mustRun(t, def, `{}`, nil)
	if tr.res.Status != StatusFailed || tr.res.Error != "Late" || tr.res.Duration != 5*time.Second {
		t.Errorf("got %s %s after %s; want FAILED Late after 5s", tr.res.Status, tr.res.Error, tr.res.Duration)
	}
	if got, want := tr.entered(), "P Q W Q1 R1 F"; got != want { // oldest process first at equal times
		t.Errorf("entered %q; want %q", got, want)
	}
	for _, name := range []string{"Q1", "R1", "Q"} {
		if tr.event(StateStopped, name) == nil {
			t.Errorf("%s was not stopped", name)
		}
	}
}
