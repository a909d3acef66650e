package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/generator/simulate"
	"github.com/irflow/irflow/tasks/catalog"
	"github.com/irflow/irflow/tasks/contract"
)

// simStart is the virtual start of every simulated execution: fixed, so
// case ids, tokens and results are the same on every run.
var simStart = time.Date(2026, 11, 20, 14, 2, 12, 0, time.UTC)

// launchInputs are the sample inputs per launch type: a GuardDuty finding
// of each, and the console input (which names no launch type) as a check.
var launchInputs = []struct {
	launchType, finding, console string
}{
	{catalog.EC2, "guardduty-ec2-reverse-shell.json", "console-fargate.json"},
	{catalog.Fargate, "guardduty-fargate-cryptominer.json", "console-fargate.json"},
}

// captureSeconds is the realistic length of a memory capture (a few GB of
// RAM through AVML to S3) used for the "realistic" figures.
const captureSeconds = 300

// SimReport is what `report sim` measures.
type SimReport struct {
	// MemoryPoll is capture-memory's poll interval; ExtraPolls the checks
	// that answer "not done" before the one that finishes a capture of
	// CaptureSeconds.
	MemoryPoll     string    `json:"memoryPoll"`
	ExtraPolls     int       `json:"extraPolls"`
	CaptureSeconds int       `json:"captureSeconds"`
	WarmRuns       int       `json:"warmRuns"`
	Cases          []SimCase `json:"cases"`
}

// SimCase is one playbook on one launch type, approve path, mock mode.
type SimCase struct {
	Playbook   string `json:"playbook"`
	LaunchType string `json:"launchType"`
	Input      string `json:"input"`
	// Mock is the run as irflow simulate does it: async actions finish on
	// their first check. Realistic makes capture-memory take
	// CaptureSeconds (ExtraPolls more checks); it equals Mock when the
	// branch has no capture-memory.
	Mock      SimFigures `json:"mock"`
	Realistic SimFigures `json:"realistic"`
	// ConsoleAgrees says the console sample input (with the launch type
	// given, dryRun off) took the same number of transitions and invocations.
	ConsoleAgrees bool   `json:"consoleAgrees"`
	ConsoleNote   string `json:"consoleNote,omitempty"`
	// WarmNs are wall times of simulate.Run on the compiled playbook after
	// three untimed runs (compile excluded), one per run.
	WarmNs []float64 `json:"warmNs"`
}

// SimFigures are the counts of one simulated execution.
type SimFigures struct {
	Status      string `json:"status"`
	Outcome     string `json:"outcome"`
	Transitions int    `json:"transitions"`
	// Invocations are Lambda invocations: every try of every Task state
	// (retries, async starts and checks); a waitForTaskToken gate once.
	Invocations int `json:"invocations"`
	Gates       int `json:"gates"`
	// Containment: Lambda invocations (gates not counted) on the critical
	// path from the start to the end of the first isolate-network Task,
	// itself included; -1 when the branch never isolates.
	Containment      int    `json:"containment"`
	ContainmentState string `json:"containmentState,omitempty"`
	// ContainmentWait is the virtual time at which the first isolate-network
	// ran: the Waits on its path (Lambdas and approvals take no virtual time).
	ContainmentWait string `json:"containmentWait,omitempty"`
	MemoryChecks    int    `json:"memoryChecks"`
	Duration        string `json:"duration"`
}

// NodeJob is what bench/node/stepfunctions.mjs runs.
type NodeJob struct {
	Machines   map[string]json.RawMessage `json:"machines"`
	Cases      []NodeCase                 `json:"cases"`
	Runs       int                        `json:"runs"`
	Warmup     int                        `json:"warmup"`
	Constructs int                        `json:"constructs"`
}

// NodeCase replays one Go simulation: Responses are the results every
// Task call got, keyed by the Payload's action|step|mode, in call order.
type NodeCase struct {
	Name      string                       `json:"name"`
	Machine   string                       `json:"machine"`
	Input     json.RawMessage              `json:"input"`
	Context   map[string]any               `json:"context"`
	Responses map[string][]json.RawMessage `json:"responses"`
	Expect    NodeExpect                   `json:"expect"`
}

// NodeExpect is what the Go run did.
type NodeExpect struct {
	Status      string `json:"status"`
	Outcome     string `json:"outcome"`
	Transitions int    `json:"transitions"`
	Invocations int    `json:"invocations"`
}

func runSim(root string, warmRuns, nodeRuns, nodeWarmup, nodeConstructs int) (*SimReport, *NodeJob, error) {
	mem := catalog.Lookup("capture-memory")
	if mem == nil || mem.PollInterval.D() <= 0 {
		return nil, nil, fmt.Errorf("the catalog has no async capture-memory")
	}
	poll := mem.PollInterval.D()
	rep := &SimReport{MemoryPoll: poll.String(), CaptureSeconds: captureSeconds, WarmRuns: warmRuns,
		ExtraPolls: int(math.Ceil(float64(captureSeconds)/poll.Seconds())) - 1}
	job := &NodeJob{Machines: map[string]json.RawMessage{}, Runs: nodeRuns, Warmup: nodeWarmup, Constructs: nodeConstructs}

	files, err := generator.PlaybookFiles(filepath.Join(root, "workflows"))
	if err != nil || len(files) == 0 {
		return nil, nil, fmt.Errorf("no playbooks in %s/workflows", root)
	}
	sort.Strings(files)
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, err
		}
		r, ds := generator.Compile(src, f, generator.Options{})
		if r == nil {
			return nil, nil, fmt.Errorf("%s does not compile: %v", f, ds)
		}
		job.Machines[r.Name] = json.RawMessage(r.ASL)
		scopes, err := stateScopes(r.ASL)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %v", r.Name, err)
		}
		for _, li := range launchInputs {
			input, err := os.ReadFile(filepath.Join(root, "examples", "inputs", li.finding))
			if err != nil {
				return nil, nil, err
			}
			c := SimCase{Playbook: r.Name, LaunchType: li.launchType, Input: li.finding}
			rec := newCallRecorder()
			mock, err := simulateCounted(r, input, li.launchType, scopes, rec, 0)
			if err != nil {
				return nil, nil, fmt.Errorf("%s on %s: %v", r.Name, li.launchType, err)
			}
			c.Mock = *mock
			realistic, err := simulateCounted(r, input, li.launchType, scopes, nil, rep.ExtraPolls)
			if err != nil {
				return nil, nil, fmt.Errorf("%s on %s, realistic: %v", r.Name, li.launchType, err)
			}
			c.Realistic = *realistic

			console, err := consoleInput(filepath.Join(root, "examples", "inputs", li.console))
			if err != nil {
				return nil, nil, err
			}
			cons, err := simulateCounted(r, console, li.launchType, scopes, nil, 0)
			if err != nil {
				return nil, nil, fmt.Errorf("%s on %s, console input: %v", r.Name, li.launchType, err)
			}
			c.ConsoleAgrees = cons.Transitions == mock.Transitions && cons.Invocations == mock.Invocations
			if !c.ConsoleAgrees {
				c.ConsoleNote = fmt.Sprintf("%s: %d transitions, %d invocations", li.console, cons.Transitions, cons.Invocations)
			}

			c.WarmNs, err = timeWarm(r, input, li.launchType, warmRuns)
			if err != nil {
				return nil, nil, err
			}
			rep.Cases = append(rep.Cases, c)

			job.Cases = append(job.Cases, NodeCase{
				Name: r.Name + "/" + li.launchType, Machine: r.Name, Input: json.RawMessage(input),
				Context:   map[string]any{"Task": map[string]any{"Token": "bench-token"}},
				Responses: rec.calls,
				Expect: NodeExpect{Status: mock.Status, Outcome: mock.Outcome, Transitions: mock.Transitions,
					Invocations: mock.Invocations},
			})
		}
	}
	return rep, job, nil
}

// consoleInput reads the console sample with dryRun off: under dryRun the
// mutating actions (SSM commands included) record what they would do and
// finish at once, which is another path, not another input.
func consoleInput(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var in map[string]any
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	in["dryRun"] = false
	return json.Marshal(in)
}

// timeWarm times simulate.Run as irflow simulate calls it, after three
// untimed runs.
func timeWarm(r *generator.Result, input []byte, lt string, runs int) ([]float64, error) {
	opts := simulate.Options{LaunchType: lt, StartTime: simStart}
	var out []float64
	for i := -3; i < runs; i++ {
		start := time.Now()
		run, err := simulate.Run(context.Background(), r, input, opts)
		d := time.Since(start)
		if err != nil {
			return nil, err
		}
		if !run.Succeeded() {
			return nil, fmt.Errorf("%s on %s: %s %s", r.Name, lt, run.Status, run.Error)
		}
		if i >= 0 {
			out = append(out, float64(d.Nanoseconds()))
		}
	}
	return out, nil
}

// simulateCounted runs the approve path in mock mode and counts. rec, when
// set, records every Task call's result for the Node replay; extraPolls
// makes capture-memory's first extraPolls checks answer "not done".
func simulateCounted(r *generator.Result, input []byte, lt string, scopes map[string][]frame, rec *callRecorder, extraPolls int) (*SimFigures, error) {
	handlers := simulate.MockHandlers(simulate.MockOptions{LaunchType: lt})
	memChecks := 0
	if extraPolls > 0 {
		inner := handlers["capture-memory"]
		handlers["capture-memory"] = func(ctx context.Context, payload json.RawMessage) (json.RawMessage, error) {
			out, err := inner(ctx, payload)
			if err != nil || payloadKey(payload).mode != "check" {
				return out, err
			}
			memChecks++
			if memChecks > extraPolls {
				return out, nil
			}
			var res map[string]any
			if err := json.Unmarshal(out, &res); err != nil {
				return nil, err
			}
			outputs, _ := res["outputs"].(map[string]any)
			if outputs == nil {
				return nil, fmt.Errorf("capture-memory check result without outputs")
			}
			outputs["done"] = false
			res["summary"] = "capture in progress"
			res["evidence"] = []any{}
			return json.Marshal(res)
		}
	}
	var approver simulate.Approver = simulate.PolicyApprover(nil, nil)
	if rec != nil {
		handlers = rec.wrap(handlers)
		approver = rec.wrapApprover(approver)
	}
	var trace bytes.Buffer
	run, err := simulate.Run(context.Background(), r, input, simulate.Options{
		LaunchType: lt, StartTime: simStart, Handlers: handlers, Approver: approver, Trace: &trace})
	if err != nil {
		return nil, err
	}
	if run.Outcome != generator.OutcomeCompleted {
		return nil, fmt.Errorf("ended %s with outcome %s (%s): the approve path must complete", run.Status, run.Outcome, run.Error)
	}
	if run.LaunchType != lt {
		return nil, fmt.Errorf("ran on %q", run.LaunchType)
	}
	fig := &SimFigures{Status: run.Status, Outcome: run.Outcome, Transitions: run.Transitions,
		Duration: run.Duration.String(), Containment: -1}
	for _, s := range run.Steps {
		if isGate(s) {
			fig.Gates++
			fig.Invocations++ // a waitForTaskToken invoke counts once
			continue
		}
		fig.Invocations += s.Attempts
		if s.Action == "capture-memory" && strings.HasSuffix(s.State, " check") {
			fig.MemoryChecks++
		}
	}
	fig.Containment, fig.ContainmentState = containment(run.Steps, scopes)
	if fig.ContainmentState != "" {
		fig.ContainmentWait = traceTime(trace.String(), fig.ContainmentState)
	}
	return fig, nil
}

// frame is one level of Parallel nesting: the Parallel state and the branch.
type frame struct {
	Parallel string
	Branch   int
}

// stateScopes maps every state of a definition to its Parallel nesting.
func stateScopes(def []byte) (map[string][]frame, error) {
	type states map[string]struct {
		Type     string
		Branches []struct{ States json.RawMessage }
	}
	out := map[string][]frame{}
	var walk func(raw json.RawMessage, scope []frame) error
	walk = func(raw json.RawMessage, scope []frame) error {
		var ss states
		if err := json.Unmarshal(raw, &ss); err != nil {
			return err
		}
		for name, s := range ss {
			if _, dup := out[name]; dup {
				return fmt.Errorf("state name %q is not unique", name)
			}
			out[name] = scope
			for i, b := range s.Branches {
				inner := append(append([]frame(nil), scope...), frame{name, i})
				if err := walk(b.States, inner); err != nil {
					return err
				}
			}
		}
		return nil
	}
	var top struct{ States json.RawMessage }
	if err := json.Unmarshal(def, &top); err != nil {
		return nil, err
	}
	return out, walk(top.States, nil)
}

// unit is a Task exit or a Parallel on a sequence of the run.
type unit struct {
	parallel string
	cost     int              // a Task exit's invocations
	branches map[int]*[]*unit // a Parallel's branches
}

func seqCost(seq []*unit) int {
	n := 0
	for _, u := range seq {
		n += u.total()
	}
	return n
}

func (u *unit) total() int {
	if u.branches == nil {
		return u.cost
	}
	longest := 0
	for _, b := range u.branches {
		longest = max(longest, seqCost(*b))
	}
	return longest
}

// containment counts the Lambda invocations on the critical path to the
// end of the first isolate-network Task: the run is rebuilt as sequences
// of Task exits and Parallels (from the order the Tasks exited and their
// static nesting); a Parallel costs its longest branch, every invocation
// one unit, gates nothing. It returns -1 when nothing isolates.
func containment(steps []simulate.Step, scopes map[string][]frame) (int, string) {
	type pos struct {
		seq *[]*unit
		idx int
	}
	var top []*unit
	var path []pos
	var target string
	for _, s := range steps {
		seq := &top
		var trail []pos
		for _, f := range scopes[s.State] {
			var p *unit
			if n := len(*seq); n > 0 && (*seq)[n-1].parallel == f.Parallel {
				p = (*seq)[n-1]
			} else {
				p = &unit{parallel: f.Parallel, branches: map[int]*[]*unit{}}
				*seq = append(*seq, p)
			}
			trail = append(trail, pos{seq, len(*seq) - 1})
			if p.branches[f.Branch] == nil {
				p.branches[f.Branch] = new([]*unit)
			}
			seq = p.branches[f.Branch]
		}
		cost := s.Attempts
		if isGate(s) {
			cost = 0
		}
		*seq = append(*seq, &unit{cost: cost})
		if target == "" && s.Action == "isolate-network" {
			target = s.State
			path = append(trail, pos{seq, len(*seq) - 1})
		}
	}
	if target == "" {
		return -1, ""
	}
	n := 0
	for _, p := range path {
		n += seqCost((*p.seq)[:p.idx])
	}
	last := path[len(path)-1]
	return n + (*last.seq)[last.idx].total(), target
}

func isGate(s simulate.Step) bool {
	return s.Result == simulate.ResultApproved || s.Result == simulate.ResultRejected || s.Result == simulate.ResultTimedOut
}

// traceTime returns the virtual time (+30s) of the trace line of a Task state.
func traceTime(trace, state string) string {
	for _, line := range strings.Split(trace, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.HasPrefix(f[0], "+") {
			continue
		}
		rest := strings.TrimSpace(strings.TrimPrefix(line, f[0]))
		if strings.HasPrefix(rest, state+" ") && strings.Contains(line, " isolate-network ") {
			return strings.TrimPrefix(f[0], "+")
		}
	}
	return ""
}

type taskKey struct{ action, step, mode string }

func (k taskKey) String() string { return k.action + "|" + k.step + "|" + k.mode }

func payloadKey(payload json.RawMessage) taskKey {
	var p struct{ Action, Step, Mode string }
	_ = json.Unmarshal(payload, &p)
	return taskKey{p.Action, p.Step, p.Mode}
}

// callRecorder keeps what every Task call returned, in the shape the
// lambda:invoke integration gives the state machine, for the Node replay.
type callRecorder struct {
	mu    sync.Mutex
	calls map[string][]json.RawMessage
}

func newCallRecorder() *callRecorder { return &callRecorder{calls: map[string][]json.RawMessage{}} }

func (rc *callRecorder) add(key string, v any) {
	b, _ := json.Marshal(v)
	rc.mu.Lock()
	rc.calls[key] = append(rc.calls[key], b)
	rc.mu.Unlock()
}

func (rc *callRecorder) wrap(hs simulate.Handlers) simulate.Handlers {
	out := simulate.Handlers{}
	for name, h := range hs {
		out[name] = func(ctx context.Context, payload json.RawMessage) (json.RawMessage, error) {
			res, err := h(ctx, payload)
			key := payloadKey(payload).String()
			if err != nil {
				name := contract.ErrorName(err)
				cause, _ := json.Marshal(map[string]string{"errorMessage": err.Error(), "errorType": name})
				rc.add(key, map[string]string{"error": name, "cause": string(cause)})
			} else {
				rc.add(key, map[string]any{"ExecutedVersion": "$LATEST", "Payload": json.RawMessage(res), "StatusCode": 200})
			}
			return res, err
		}
	}
	return out
}

// wrapApprover replaces the recorded request-approval call with the gate's
// decision: a waitForTaskToken Task's result is the callback's output.
func (rc *callRecorder) wrapApprover(a simulate.Approver) simulate.Approver {
	return simulate.ApproverFunc(func(ctx context.Context, g simulate.Gate) (simulate.Decision, error) {
		d, err := a.Decide(ctx, g)
		if err != nil {
			return d, err
		}
		key := payloadKey(g.Payload).String()
		var v any = json.RawMessage(d.Output)
		if d.Error != "" || d.NoAnswer {
			v = map[string]string{"error": d.Error, "cause": d.Cause}
		}
		b, _ := json.Marshal(v)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if n := len(rc.calls[key]); n > 0 {
			rc.calls[key][n-1] = b
		} else {
			rc.calls[key] = append(rc.calls[key], b)
		}
		return d, nil
	})
}
