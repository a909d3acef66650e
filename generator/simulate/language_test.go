package simulate

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/generator/internal/asl"
	"github.com/irflow/irflow/generator/internal/sim"
)

// The language features of issue 20 and 16 (conditions, exclusion, quorum,
// onReject) as the simulator runs them, on small inline playbooks.

const fargateFinding = "../../examples/inputs/guardduty-fargate-cryptominer.json"

// compileInline compiles a playbook given as text, failing on errors.
func compileInline(t *testing.T, src string) *generator.Result {
	t.Helper()
	r, ds := generator.Compile([]byte(src), "inline.yaml", generator.Options{})
	if r == nil {
		t.Fatalf("does not compile:\n%v", ds)
	}
	return r
}

// taskOutputs runs the playbook and returns the task result of every Task
// state that ran, by state name (the last attempt's result).
func taskOutputs(t *testing.T, r *generator.Result, input string, opts Options) (*Execution, map[string]map[string]any) {
	t.Helper()
	data, err := os.ReadFile(input)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	opts.observe = func(ev sim.Event) {
		if _, ok := ev.State.(*asl.Task); ok && ev.Kind == sim.StateExited {
			out[ev.Name] = taskPayload(ev)
		}
	}
	return simulate(t, r, data, opts), out
}

const quorumPlaybook = `apiVersion: irflow/v1
kind: Playbook
metadata: {name: quorum, title: Quorum}
approval: {minApprovers: 2}
steps:
  - id: gate
    approval: {prompt: "Stop it?"}
  - id: solo
    approval: {prompt: "Really?", minApprovers: 1}
  - id: stop
    action: stop-task
`

// TestQuorum: a gate that needs n approvers is approved by n different
// people; the playbook default applies unless the gate overrides it.
func TestQuorum(t *testing.T) {
	r := compileInline(t, quorumPlaybook)
	run, outs := taskOutputs(t, r, fargateFinding, Options{})
	if run.Outcome != generator.OutcomeCompleted {
		t.Fatalf("run:\n%s", describe(run))
	}
	for state, want := range map[string]int{"FARGATE: gate": 2, "FARGATE: solo": 1} {
		o, _ := outs[state]["outputs"].(map[string]any)
		approvers, _ := o["approvers"].([]any)
		seen := map[any]bool{}
		for _, a := range approvers {
			seen[a] = true
		}
		if len(approvers) != want || len(seen) != want {
			t.Errorf("%s approved by %v; want %d different people", state, approvers, want)
		}
	}
	run = simulate(t, r, mustRead(t, fargateFinding), Options{Reject: []string{"gate"}})
	if run.Outcome != generator.OutcomeRejected {
		t.Errorf("one rejection of a quorum gate: outcome %s; want REJECTED", run.Outcome)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const whenPlaybook = `apiVersion: irflow/v1
kind: Playbook
metadata: {name: conditions, title: Conditions}
steps:
  - id: tag
    action: tag-resources
  - id: miner
    action: notify
    when: {findingTypes: ["CryptoCurrency:Runtime/*", Impact:Runtime/CryptoMinerExecuted], severityAtLeast: 5}
  - id: prod-only
    action: notify
    when: {taskTags: {env: prod}, notTaskTags: {irflow: "*"}}
  - id: approve
    approval: {prompt: "Scale the service down?"}
    when: {inService: true}
  - id: scale
    action: scale-service
    when: {inService: true}
  - id: bridge-only
    action: notify
    when: {networkModes: [bridge]}
`

// TestWhen runs a playbook with conditions on findings and worlds that make
// each one hold or not: a skipped step is a SKIPPED entry naming its
// condition, and nothing else of it runs.
func TestWhen(t *testing.T) {
	r := compileInline(t, whenPlaybook)
	finding := string(mustRead(t, fargateFinding))
	standalone := strings.Replace(finding, `"group": "service:`, `"group": "family:`, 1)
	tagged := strings.Replace(finding, `"launchType": "FARGATE",`, `"launchType": "FARGATE", "tags": [{"key": "env", "value": "prod"}],`, 1)
	lowSeverity := strings.Replace(finding, `"severity": 8`, `"severity": 2`, 1)
	console := string(mustRead(t, "../../examples/inputs/console-fargate.json"))
	ec2Finding := string(mustRead(t, "../../examples/inputs/guardduty-ec2-reverse-shell.json"))
	if standalone == finding || tagged == finding || lowSeverity == finding {
		t.Fatal("the sample finding changed: update the test's edits")
	}
	tests := []struct {
		name, input  string
		ran, skipped []string
	}{
		// bridge-only is not on the FARGATE branch at all: Fargate is awsvpc.
		{"finding in a service", finding, []string{"tag", "miner", "approve", "scale"}, []string{"prod-only"}},
		{"standalone task", standalone, []string{"tag", "miner"}, []string{"prod-only", "approve", "scale"}},
		{"tagged task", tagged, []string{"tag", "miner", "prod-only", "approve", "scale"}, nil},
		{"low severity", lowSeverity, []string{"tag", "approve", "scale"}, []string{"miner", "prod-only"}},
		{"console input", console, []string{"tag", "approve", "scale"}, []string{"miner", "prod-only"}},
		// The EC2 sample is a reverse shell of a bridge-mode service task.
		{"EC2 bridge task", ec2Finding, []string{"tag", "approve", "scale", "bridge-only"}, []string{"miner", "prod-only"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := simulate(t, r, []byte(tt.input), Options{})
			ran, skipped := ranAndSkipped(t, run, " skipped: ")
			if run.Outcome != generator.OutcomeCompleted || !slices.Equal(ran, tt.ran) || !slices.Equal(skipped, tt.skipped) {
				t.Errorf("ran %v, skipped %v, outcome %s; want ran %v, skipped %v\n%s", ran, skipped, run.Outcome, tt.ran, tt.skipped, describe(run))
			}
		})
	}
}

const onRejectPlaybook = `apiVersion: irflow/v1
kind: Playbook
metadata: {name: rejected, title: onReject}
steps:
  - id: isolate-now
    action: isolate-network
    requiresApproval: false
    justification: contain first, ask after
  - id: approve
    approval: {prompt: "Stop it?", onTimeout: reject}
    onReject:
      - {id: tell, action: notify}
      - parallel:
          - {id: logs, action: collect-logs}
          - {id: flow, action: enable-flow-logs}
        id: after
  - id: stop
    action: stop-task
`

// TestOnReject: a rejected or unanswered gate runs its onReject steps and
// ends REJECTED; an approved one never runs them; a failing onReject step
// fails the run.
func TestOnReject(t *testing.T) {
	r := compileInline(t, onRejectPlaybook)
	input := mustRead(t, fargateFinding)
	tests := []struct {
		name    string
		opts    Options
		outcome string
		ran     []string
	}{
		{"approved", Options{}, generator.OutcomeCompleted, []string{"isolate-now", "approve", "stop"}},
		{"rejected", Options{Reject: []string{"approve"}}, generator.OutcomeRejected, []string{"isolate-now", "approve", "tell", "logs", "flow"}},
		{"unanswered", Options{Timeout: []string{"approve"}}, generator.OutcomeRejected, []string{"isolate-now", "approve", "tell", "logs", "flow"}},
		{"onReject step fails", Options{Reject: []string{"approve"}, Fail: []StepFailure{{Step: "tell", Error: "States.TaskFailed"}}},
			generator.OutcomeFailed, []string{"isolate-now", "approve", "tell"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := simulate(t, r, input, tt.opts)
			var ran []string
			for _, s := range run.Steps {
				if s.Step != "" && !slices.Contains(ran, s.Step) {
					ran = append(ran, s.Step)
				}
			}
			if run.Outcome != tt.outcome || !slices.Equal(ran, tt.ran) {
				t.Errorf("outcome %s, ran %v; want %s, %v\n%s", run.Outcome, ran, tt.outcome, tt.ran, describe(run))
			}
		})
	}
}

const excludePlaybook = `apiVersion: irflow/v1
kind: Playbook
metadata: {name: excluding, title: exclude}
exclude:
  taskTags: {irflow: ignore, canary: "*"}
steps:
  - {id: tag, action: tag-resources}
`

// TestExclude: a task carrying an excluded tag ends SUCCEEDED with outcome
// EXCLUDED, notified and finalized, before any step; others run.
func TestExclude(t *testing.T) {
	r := compileInline(t, excludePlaybook)
	for _, in := range worldInputs(t) {
		t.Run(in.name, func(t *testing.T) {
			run := simulate(t, r, in.data, Options{})
			want := generator.OutcomeCompleted
			if in.name == "world-excluded.json" {
				want = generator.OutcomeExcluded
			}
			tagged := slices.ContainsFunc(run.Steps, func(s Step) bool { return s.Step == "tag" })
			if run.Status != "SUCCEEDED" || run.Outcome != want || tagged == (want == generator.OutcomeExcluded) {
				t.Errorf("status %s outcome %s, tag ran %v; want SUCCEEDED %s\n%s", run.Status, run.Outcome, tagged, want, describe(run))
			}
		})
	}
}

// TestMockWorld: the simulated task is the one the input describes: a
// standalone task is not scaled as a service; a capture of N seconds ends
// N seconds of virtual time after it started.
func TestMockWorld(t *testing.T) {
	r := compileInline(t, `apiVersion: irflow/v1
kind: Playbook
metadata: {name: world, title: World}
steps:
  - {id: traffic, action: capture-traffic, with: {durationSeconds: 120}}
  - {id: scale, action: scale-service, requiresApproval: false, justification: a test of the mock world}
`)
	worlds := worldInputs(t)
	standalone := string(worlds[0].data)
	ec2 := strings.Replace(standalone, `"launchType": "FARGATE"`, `"launchType": "EC2"`, 1)
	_, outs := taskOutputs(t, r, fargateFinding, Options{})
	if s := outs["FARGATE: scale"]["status"]; s != "OK" {
		t.Errorf("a service's task: scale %v; want OK", s)
	}
	data := []byte(ec2)
	run := simulate(t, r, data, Options{})
	var scale string
	for _, s := range run.Steps {
		if s.Step == "scale" {
			scale = s.Result
		}
	}
	if scale != "SKIPPED" {
		t.Errorf("a standalone task: scale %s; want SKIPPED\n%s", scale, describe(run))
	}
	checks := 0
	for _, s := range run.Steps {
		if s.State == "EC2: traffic check" {
			checks++
		}
	}
	// 120 s at the catalog's poll interval (20 s): six checks, the last done.
	if run.Duration < 120*time.Second || checks != 6 {
		t.Errorf("a 120 s capture took %s of virtual time and %d checks; want at least 120 s and 6\n%s", run.Duration, checks, describe(run))
	}
}

// TestTriggerMismatchNote: simulating a finding the playbook's triggers
// would never start it on says so.
func TestTriggerMismatchNote(t *testing.T) {
	r := compileInline(t, `apiVersion: irflow/v1
kind: Playbook
metadata: {name: trojans, title: Trojans}
triggers:
  guardduty: {findingTypes: ["Trojan:Runtime/*"], minSeverity: 5}
steps:
  - {id: tag, action: tag-resources}
`)
	finding := string(mustRead(t, fargateFinding))
	tests := []struct{ name, input, note string }{
		{"other type", finding, "finding type Impact:Runtime/CryptoMinerExecuted is not in its triggers.guardduty.findingTypes"},
		{"too low", strings.Replace(strings.Replace(finding, `"severity": 8`, `"severity": 2`, 1),
			`"type": "Impact:Runtime/CryptoMinerExecuted"`, `"type": "Trojan:Runtime/DropPoint"`, 1), "severity 2 is below its triggers.guardduty.minSeverity 5"},
		{"matching", strings.Replace(finding, `"type": "Impact:Runtime/CryptoMinerExecuted"`, `"type": "Trojan:Runtime/DropPoint"`, 1), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := simulate(t, r, []byte(tt.input), Options{})
			notes := strings.Join(run.Notes, "\n")
			if (tt.note == "") != (notes == "") || !strings.Contains(notes, tt.note) {
				t.Errorf("notes %q; want %q", notes, tt.note)
			}
		})
	}
}

// TestMockHostArtifactsNameTheFinding: the simulated host artifacts are of
// the finding's process and the task's containers.
func TestMockHostArtifactsNameTheFinding(t *testing.T) {
	r := compileInline(t, `apiVersion: irflow/v1
kind: Playbook
metadata: {name: artifacts, title: Artifacts}
steps:
  - {id: host, action: collect-host-artifacts}
`)
	_, outs := taskOutputs(t, r, "../../examples/inputs/guardduty-ec2-reverse-shell.json", Options{})
	o, _ := outs["EC2: host check"]["outputs"].(map[string]any)
	proc, _ := o["process"].(map[string]any)
	containers, _ := o["containers"].([]any)
	if proc["name"] != "bash" || fmt.Sprint(proc["pid"]) != "3131" || len(containers) != 1 || containers[0] != "worker" {
		t.Errorf("outputs %v; want the finding's process bash (pid 3131) and container worker", o)
	}
}

// ranAndSkipped lists the steps a run ran and those it skipped, each once
// in order; every skip must be recorded by a state whose name holds
// skipState.
func ranAndSkipped(t *testing.T, run *Execution, skipState string) (ran, skipped []string) {
	t.Helper()
	for _, s := range run.Steps {
		switch {
		case s.Step == "":
		case s.Result == ResultSkipped:
			skipped = append(skipped, s.Step)
			if !strings.Contains(s.State, skipState) {
				t.Errorf("skip of %s recorded by state %q", s.Step, s.State)
			}
		case !slices.Contains(ran, s.Step):
			ran = append(ran, s.Step)
		}
	}
	return ran, skipped
}
