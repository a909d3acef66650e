package simulate

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/generator/internal/asl"
)

// execPlaybook triages only a task started with ECS Exec, and notes the
// others: the when: reads resolve-target's target.enableExecuteCommand.
const execPlaybook = `apiVersion: irflow/v1
kind: Playbook
metadata: {name: exec-enabled, title: ECS Exec condition}
steps:
  - id: triage
    action: exec-triage
    when: {execEnabled: true}
    onError: continue
  - id: no-exec
    action: notify
    when: {execEnabled: false}
  - id: isolate
    action: isolate-network
    requiresApproval: false
    justification: contain first
`

// withExec is the mock handlers with resolve-target's target edited: its
// enableExecuteCommand set to v, or left out when v is nil (a state an
// older resolve-target wrote: absent counts as false).
func withExec(t *testing.T, v any) Handlers {
	h := MockHandlers(MockOptions{})
	resolve := h["resolve-target"]
	h["resolve-target"] = func(ctx context.Context, payload json.RawMessage) (json.RawMessage, error) {
		out, err := resolve(ctx, payload)
		if err != nil {
			return out, err
		}
		var res map[string]any
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatal(err)
		}
		outputs, _ := res["outputs"].(map[string]any)
		target, ok := outputs["target"].(map[string]any)
		if !ok {
			t.Fatalf("resolve-target returned no outputs.target: %s", out)
		}
		if _, ok := target["enableExecuteCommand"].(bool); !ok {
			t.Fatalf("resolve-target's target has no boolean enableExecuteCommand: %s", out)
		}
		if v == nil {
			delete(target, "enableExecuteCommand")
		} else {
			target["enableExecuteCommand"] = v
		}
		return json.Marshal(res)
	}
	return h
}

// TestWhenExecEnabled: execEnabled: true runs the step only for a task
// started with ECS Exec, and its skip invokes no Lambda (the step's Task
// state is never entered); execEnabled: false runs for the others, a
// missing value counting as false. The same runs on aws-local-stepfunctions
// enter the same states.
func TestWhenExecEnabled(t *testing.T) {
	r := compileInline(t, execPlaybook)
	sm, err := asl.Parse(r.ASL)
	if err != nil {
		t.Fatal(err)
	}
	p := shippedPlaybook{file: "inline.yaml", r: r, sm: sm}
	inputs := []inputFile{
		{name: "fargate.json", data: mustRead(t, fargateFinding)},
		{name: "ec2.json", data: mustRead(t, "../../examples/inputs/guardduty-ec2-reverse-shell.json")},
	}
	tests := []struct {
		name         string
		value        any
		ran, skipped []string
	}{
		{"enabled", true, []string{"triage", "isolate"}, []string{"no-exec"}},
		{"disabled", false, []string{"no-exec", "isolate"}, []string{"triage"}},
		{"absent", nil, []string{"no-exec", "isolate"}, []string{"triage"}},
	}
	job := xcJob{Machines: map[string]json.RawMessage{r.Name: r.ASL}}
	var expects []xcExpect
	for _, in := range inputs {
		for _, tt := range tests {
			t.Run(strings.TrimSuffix(in.name, ".json")+"/"+tt.name, func(t *testing.T) {
				opts := Options{Handlers: withExec(t, tt.value)}
				run := simulate(t, r, in.data, opts)
				ran, skipped := ranAndSkipped(t, run, " skipped: execEnabled")
				if run.Outcome != generator.OutcomeCompleted || !slices.Equal(ran, tt.ran) || !slices.Equal(skipped, tt.skipped) {
					t.Errorf("ran %v, skipped %v, outcome %s; want ran %v, skipped %v\n%s", ran, skipped, run.Outcome, tt.ran, tt.skipped, describe(run))
				}
				c, e, _ := xcRecord(t, p, in, variant{name: tt.name, kind: "approve", opts: opts})
				for _, names := range e.seqs {
					for _, n := range names {
						if strings.HasSuffix(n, ": triage") && tt.value != true {
							t.Errorf("the triage Task state %q was entered without ECS Exec", n)
						}
					}
				}
				job.Cases, expects = append(job.Cases, c), append(expects, e)
			})
		}
	}
	node := nodeEngine(t)
	reports := node.run(t, job)
	for i, e := range expects {
		t.Run("node/"+e.name, func(t *testing.T) { e.compare(t, reports[i]) })
	}
}
