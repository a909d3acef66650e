package simulate

import (
	"os"
	"testing"

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
