package simulate

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/generator/internal/asl"
	"github.com/irflow/irflow/generator/internal/sim"
)

// TestCrossCheckNode runs every shipped playbook on every sample input
// (approving, rejecting and timing out each gate, failing each step) and
// every test input (approving), and every golden playbook of the generator
// on the samples and the world inputs (conditions and exclusions both
// ways), on two engines: internal/sim and aws-local-stepfunctions 3.0.0
// (scripts/crosscheck/run.mjs), whose Task states replay the results the Go
// run recorded. Both must enter the same states in the same order (the top
// level, and each Parallel branch on its own, since branches interleave
// differently) and end with the same status, error and outcome. With
// IRFLOW_REQUIRE_NODE=1 (make test) a missing Node or node_modules fails
// the test instead of skipping it.
func TestCrossCheckNode(t *testing.T) {
	if testing.Short() && os.Getenv("IRFLOW_REQUIRE_NODE") != "1" {
		t.Skip("cross-check skipped in -short mode")
	}
	node := nodeEngine(t)
	job := xcJob{Machines: map[string]json.RawMessage{}}
	var expects []xcExpect
	samples := readInputs(t, "../../examples/inputs/*.json")
	inputs := append(samples, readInputs(t, "testdata/inputs/*.json")...)
	type suite struct {
		playbooks []shippedPlaybook
		inputs    []inputFile
		followUp  int // inputs before this index get the follow-up variants
	}
	worlds := worldInputs(t)
	suites := []suite{
		{shippedPlaybooks(t), inputs, len(samples)},
		{goldenPlaybooks(t), append(append([]inputFile(nil), samples...), worlds...), len(samples) + len(worlds)},
	}
	for _, su := range suites {
		for _, p := range su.playbooks {
			xcPlaybook(t, p, su.inputs, su.followUp, &job, &expects)
		}
	}
	start := time.Now()
	reports := node.run(t, job)
	t.Logf("aws-local-stepfunctions ran %d executions of %d playbooks in %s", len(job.Cases), len(job.Machines), time.Since(start).Round(time.Millisecond))
	for i, e := range expects {
		t.Run(e.name, func(t *testing.T) { e.compare(t, reports[i]) })
	}
}

// xcPlaybook adds the cases of one playbook: every input approved, and the
// first followUp inputs also rejected, timed out and failed step by step.
func xcPlaybook(t *testing.T, p shippedPlaybook, inputs []inputFile, followUp int, job *xcJob, expects *[]xcExpect) {
	job.Machines[p.r.Name] = p.r.ASL
	for i, in := range inputs {
		if why, ok := nodeQuirks[in.name]; ok {
			t.Run(p.r.Name+"/"+strings.TrimSuffix(in.name, ".json"), func(t *testing.T) { t.Skip(why) })
			continue
		}
		for _, base := range baseVariants(in) {
			c, e, run := xcRecord(t, p, in, base)
			job.Cases, *expects = append(job.Cases, c), append(*expects, e)
			if i >= followUp {
				continue // the test inputs take the samples' paths: approving them is enough
			}
			for _, v := range followUps(base, run) {
				c, e, _ := xcRecord(t, p, in, v)
				job.Cases, *expects = append(job.Cases, c), append(*expects, e)
			}
		}
	}
}

// nodeQuirks are inputs aws-local-stepfunctions runs differently from Step
// Functions, so its verdict on them is not evidence either way.
var nodeQuirks = map[string]string{
	"null.json": "aws-local-stepfunctions resolves the path $ against a null input to no value (jsonpath-plus) and fails " +
		"Resolve target with an uncatchable States.Runtime before the task runs; the input is the JSON value null, " +
		"which resolve-target rejects as INVALID_INPUT in internal/sim",
}

type xcJob struct {
	Machines map[string]json.RawMessage `json:"machines"`
	Cases    []xcCase                   `json:"cases"`
}

type xcCase struct {
	Name    string              `json:"name"`
	Machine string              `json:"machine"`
	Input   json.RawMessage     `json:"input"`
	Context map[string]any      `json:"context"`
	Tasks   []string            `json:"tasks"`
	Calls   map[string][]xcCall `json:"calls"`
}

// xcCall is one recorded try of a Task state: its result, or its error.
type xcCall struct {
	Output json.RawMessage `json:"output,omitempty"`
	Error  *string         `json:"error,omitempty"`
	Cause  string          `json:"cause,omitempty"`
}

type xcReport struct {
	Name    string         `json:"name"`
	Status  string         `json:"status"`
	Error   string         `json:"error"`
	Cause   string         `json:"cause"`
	Output  map[string]any `json:"output"`
	Entered []string       `json:"entered"`
	Calls   map[string]int `json:"calls"`
	Problem string         `json:"problem"`
}

// xcExpect is what the Go run did, to compare with Node's report.
type xcExpect struct {
	name    string
	status  string
	error   string
	outcome string
	// seqs are the states entered per scope ("" the top level,
	// "/<parallel>#<branch>" nested), scope the static scope of each state.
	seqs  map[string][]string
	scope map[string]string
	calls map[string]int
	// failed are Parallel states that failed: branches race, so their
	// branches' paths are not compared.
	failed map[string]bool
}

// xcRecord runs the Go simulation, recording every Task try for Node to replay.
func xcRecord(t *testing.T, p shippedPlaybook, in inputFile, v variant) (xcCase, xcExpect, *Execution) {
	t.Helper()
	name := p.r.Name + "/" + strings.TrimSuffix(in.name, ".json") + "/" + v.name
	c := xcCase{Name: name, Machine: p.r.Name, Input: in.data, Calls: map[string][]xcCall{}}
	e := xcExpect{name: name, seqs: map[string][]string{}, scope: staticScopes(p.sm), calls: map[string]int{}, failed: map[string]bool{}}
	maps := mapStates(p.sm)
	opts := v.opts
	opts.observe = func(ev sim.Event) {
		switch {
		case ev.Kind == sim.StateEntered:
			k := scopeKey(ev.Scope, maps)
			e.seqs[k] = append(e.seqs[k], ev.Name)
		case ev.Kind == sim.StateExited || ev.Kind == sim.StateFailed:
			if _, ok := ev.State.(*asl.Task); ok {
				for _, a := range ev.Attempts {
					c.Calls[ev.Name] = append(c.Calls[ev.Name], recordCall(t, a))
					e.calls[ev.Name]++
				}
			}
			if _, ok := ev.State.(*asl.Parallel); ok && (ev.Kind == sim.StateFailed || ev.Caught) {
				e.failed[ev.Name] = true
			}
			if _, ok := ev.State.(*asl.Map); ok && (ev.Kind == sim.StateFailed || ev.Caught) {
				e.failed[ev.Name] = true
			}
		}
	}
	run := simulate(t, p.r, in.data, opts)
	e.status, e.error, e.outcome = run.Status, run.Error, run.Outcome
	asl.Walk(p.sm, func(ns asl.NamedState) {
		if _, ok := ns.State.(*asl.Task); ok {
			c.Tasks = append(c.Tasks, ns.Name)
		}
	})
	c.Context = map[string]any{"Task": map[string]any{"Token": "crosscheck-token"}}
	return c, e, run
}

func recordCall(t *testing.T, a sim.Attempt) xcCall {
	if a.Error != nil {
		return xcCall{Error: &a.Error.Name, Cause: a.Error.Cause}
	}
	b, err := json.Marshal(a.Output)
	if err != nil {
		t.Fatal(err)
	}
	return xcCall{Output: b}
}

// scopeKey is "/<parallel>#<branch>" per level; the iterations of a Map
// share one key, "/<map>#*", since they interleave.
func scopeKey(scope []sim.Frame, maps map[string]bool) string {
	var b strings.Builder
	for _, f := range scope {
		if maps[f.State] {
			b.WriteString("/" + f.State + "#*")
			continue
		}
		b.WriteString("/" + f.State + "#" + itoa(f.Index))
	}
	return b.String()
}

// mapStates are the names of the definition's Map states.
func mapStates(sm *asl.StateMachine) map[string]bool {
	out := map[string]bool{}
	asl.Walk(sm, func(ns asl.NamedState) {
		if _, ok := ns.State.(*asl.Map); ok {
			out[ns.Name] = true
		}
	})
	return out
}

// staticScopes maps each state of the definition to its scope key.
func staticScopes(sm *asl.StateMachine) map[string]string {
	out := map[string]string{}
	var walk func(states asl.States, key string)
	walk = func(states asl.States, key string) {
		for _, ns := range states {
			out[ns.Name] = key
			if p, ok := ns.State.(*asl.Parallel); ok {
				for i := range p.Branches {
					walk(p.Branches[i].States, key+"/"+ns.Name+"#"+itoa(i))
				}
			}
			if m, ok := ns.State.(*asl.Map); ok && m.Processor() != nil {
				walk(m.Processor().States, key+"/"+ns.Name+"#*")
			}
		}
	}
	walk(sm.States, "")
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }

// skipped reports whether a scope lies in a Parallel or Map that failed.
func (e xcExpect) skipped(key string) bool {
	for _, part := range strings.Split(key, "/") {
		if i := strings.LastIndexByte(part, '#'); i > 0 && e.failed[part[:i]] {
			return true
		}
	}
	return false
}

func (e xcExpect) compare(t *testing.T, r xcReport) {
	for _, d := range e.diff(r) {
		t.Error(d)
	}
}

// diff lists how Node's run differs from Go's.
func (e xcExpect) diff(r xcReport) []string {
	if r.Problem != "" {
		return []string{"node: " + r.Problem}
	}
	var out []string
	outcome := generator.Outcome(r.Status == sim.StatusSucceeded, r.Output, r.Error)
	if r.Status != e.status || outcome != e.outcome || (e.status == sim.StatusFailed && r.Error != e.error) {
		out = append(out, fmt.Sprintf("node ended %s %s (%s); go ended %s %s (%s)", r.Status, outcome, r.Error, e.status, e.outcome, e.error))
	}
	got := map[string][]string{}
	for _, s := range r.Entered {
		k, ok := e.scope[s]
		if !ok {
			out = append(out, fmt.Sprintf("node entered %q, which the definition does not have", s))
		}
		got[k] = append(got[k], s)
	}
	keys := unionKeys(got, e.seqs)
	sort.Strings(keys)
	for _, k := range keys {
		if strings.Contains(k, "#*") {
			// Map iterations interleave: compare what was entered, not the order.
			slices.Sort(got[k])
			slices.Sort(e.seqs[k])
		}
		if !e.skipped(k) && !reflect.DeepEqual(got[k], e.seqs[k]) {
			out = append(out, fmt.Sprintf("states entered in scope %q differ:\n node: %s\n   go: %s", k, strings.Join(got[k], " → "), strings.Join(e.seqs[k], " → ")))
		}
	}
	for state, n := range e.calls {
		if !e.skipped(e.scope[state]) && r.Calls[state] != n {
			out = append(out, fmt.Sprintf("state %q: node called its task %d times; go %d", state, r.Calls[state], n))
		}
	}
	for state, n := range r.Calls {
		if _, ok := e.calls[state]; !ok && !e.skipped(e.scope[state]) {
			out = append(out, fmt.Sprintf("state %q: node called its task %d times; go never did", state, n))
		}
	}
	return out
}

func unionKeys(a, b map[string][]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range []map[string][]string{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// TestCrossCheckDiff: the comparison itself notices what it must.
func TestCrossCheckDiff(t *testing.T) {
	e := xcExpect{status: sim.StatusSucceeded, outcome: generator.OutcomeCompleted,
		seqs:   map[string][]string{"": {"A", "P", "Z"}, "/P#0": {"B1"}, "/P#1": {"C1", "C2"}},
		scope:  map[string]string{"A": "", "P": "", "Z": "", "B1": "/P#0", "C1": "/P#1", "C2": "/P#1"},
		calls:  map[string]int{"A": 2},
		failed: map[string]bool{}}
	same := xcReport{Status: sim.StatusSucceeded, Output: map[string]any{"outcome": generator.OutcomeCompleted},
		Entered: []string{"A", "P", "C1", "B1", "C2", "Z"}, Calls: map[string]int{"A": 2}}
	if d := e.diff(same); len(d) != 0 {
		t.Errorf("branches interleaved differently should compare equal: %v", d)
	}
	tests := []struct {
		name string
		edit func(r *xcReport)
	}{
		{"status", func(r *xcReport) { r.Status, r.Error = sim.StatusFailed, "X" }},
		{"outcome", func(r *xcReport) { r.Output = map[string]any{"outcome": generator.OutcomeRejected} }},
		{"top-level order", func(r *xcReport) { r.Entered = []string{"P", "A", "B1", "C1", "C2", "Z"} }},
		{"branch order", func(r *xcReport) { r.Entered = []string{"A", "P", "B1", "C2", "C1", "Z"} }},
		{"missing state", func(r *xcReport) { r.Entered = []string{"A", "P", "B1", "C1", "Z"} }},
		{"unknown state", func(r *xcReport) { r.Entered = append(r.Entered, "Q") }},
		{"retries", func(r *xcReport) { r.Calls = map[string]int{"A": 1} }},
		{"refused", func(r *xcReport) { r.Problem = "refused" }},
	}
	for _, tt := range tests {
		r := same
		r.Entered = append([]string(nil), same.Entered...)
		tt.edit(&r)
		if d := e.diff(r); len(d) == 0 {
			t.Errorf("%s: a divergence went unnoticed", tt.name)
		}
	}
	e.failed["P"] = true
	r := same
	r.Entered = []string{"A", "P", "C1", "Z"}
	if d := e.diff(r); len(d) != 0 {
		t.Errorf("the branches of a failed Parallel race and are not compared: %v", d)
	}
}
