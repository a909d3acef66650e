package simulate

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/irflow/irflow/generator/internal/asl"
	"github.com/irflow/irflow/generator/internal/sim"
)

// forEachPlaybook contains the case's task and every other task of its
// image: the approval before the forEach covers the loop.
const forEachPlaybook = `apiVersion: irflow/v1
kind: Playbook
metadata: {name: blast, title: Blast radius}
steps:
  - id: siblings
    action: find-siblings
  - id: approve
    approval: {prompt: "Contain this task and every task running its image?"}
  - id: contain
    forEach: {step: siblings, maxConcurrency: 1}
    steps:
      - id: isolate-sibling
        action: isolate-network
      - id: protect-sibling
        action: protect-instance
      - id: stop-sibling
        action: stop-task
  - id: stop
    action: stop-task
`

// TestForEach: the Map runs the steps once per task of sameImage, each on
// that task (stop-task's stop names it), planned for its launch type
// (protect-instance, EC2 only, skipped on Fargate siblings); the result
// lists the tasks in order with their steps; a failing step inside fails
// the forEach and, with onError fail, the run.
func TestForEach(t *testing.T) {
	r := compileInline(t, forEachPlaybook)
	data, err := os.ReadFile(fargateFinding)
	if err != nil {
		t.Fatal(err)
	}
	var mapOut map[string]any
	stopped := map[string]bool{}
	opts := Options{observe: func(ev sim.Event) {
		if _, ok := ev.State.(*asl.Map); ok && ev.Kind == sim.StateExited {
			mapOut, _ = ev.Output.(map[string]any)
		}
		if _, ok := ev.State.(*asl.Task); ok && ev.Kind == sim.StateExited && strings.HasSuffix(ev.Name, "stop-sibling check") {
			p := taskPayload(ev)
			if s, _ := p["summary"].(string); s != "" {
				stopped[s] = true
			}
		}
	}}
	run := simulate(t, r, data, opts)
	if run.Status != sim.StatusSucceeded || run.Outcome != "COMPLETED" {
		t.Fatalf("run = %s %s (%s %s)", run.Status, run.Outcome, run.Error, run.Cause)
	}
	var sibs struct {
		Outputs struct {
			Siblings struct {
				SameImage []string `json:"sameImage"`
			} `json:"siblings"`
		} `json:"outputs"`
	}
	res := stepResult(t, mapOut, "siblings")
	if err := json.Unmarshal(res, &sibs); err != nil || len(sibs.Outputs.Siblings.SameImage) != 2 {
		t.Fatalf("siblings = %s (%v)", res, err)
	}
	var contain struct {
		Status  string `json:"status"`
		Summary string `json:"summary"`
		Outputs struct {
			Tasks []struct {
				TaskArn    string                     `json:"taskArn"`
				LaunchType string                     `json:"launchType"`
				Steps      map[string]json.RawMessage `json:"steps"`
			} `json:"tasks"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal(stepResult(t, mapOut, "contain"), &contain); err != nil {
		t.Fatal(err)
	}
	if contain.Status != "OK" || !strings.HasPrefix(contain.Summary, "2 task(s) of $.steps.siblings.outputs.siblings.sameImage") {
		t.Errorf("contain = %s %q", contain.Status, contain.Summary)
	}
	if len(contain.Outputs.Tasks) != 2 {
		t.Fatalf("contain tasks = %+v", contain.Outputs.Tasks)
	}
	for i, task := range contain.Outputs.Tasks {
		if task.TaskArn != sibs.Outputs.Siblings.SameImage[i] || task.LaunchType != "FARGATE" {
			t.Errorf("tasks[%d] = %s %s; want %s FARGATE", i, task.TaskArn, task.LaunchType, sibs.Outputs.Siblings.SameImage[i])
		}
		if _, ok := task.Steps["stop-sibling"]; !ok || task.Steps["protect-sibling"] != nil || task.Steps["isolate-sibling"] == nil {
			t.Errorf("tasks[%d] steps = %v; want isolate-sibling and stop-sibling, no protect-sibling on Fargate", i, keys(task.Steps))
		}
		id := task.TaskArn[strings.LastIndexByte(task.TaskArn, '/')+1:]
		found := false
		for s := range stopped {
			found = found || strings.Contains(s, id)
		}
		if !found {
			t.Errorf("no stop-sibling check named task %s: %v", id, stopped)
		}
	}

	failed := simulate(t, r, data, Options{Fail: []StepFailure{{Step: "stop-sibling", Error: "States.TaskFailed"}}})
	if failed.Status != sim.StatusFailed || failed.Outcome != "FAILED" || !strings.Contains(failed.Cause, "contain (forEach) failed") {
		t.Errorf("a failing step inside: %s %s %q; want FAILED naming the forEach", failed.Status, failed.Outcome, failed.Cause)
	}
}

func stepResult(t *testing.T, state map[string]any, id string) []byte {
	t.Helper()
	steps, _ := state["steps"].(map[string]any)
	b, err := json.Marshal(steps[id])
	if err != nil || steps[id] == nil {
		t.Fatalf("no $.steps.%s in %v", id, state)
	}
	return b
}

func keys(m map[string]json.RawMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestForEachLeavesExcludedAlone: with exclude: {irflow: ignore, canary:
// "*"}, the simulated find-siblings (with.excludeTaskTags, set by the
// compiler) lists the world's irflow=ignore twin and canary task under
// excluded only, so the forEach stops the other twin alone; the summary
// says why. Without exclude: both twins are contained (TestForEach).
func TestForEachLeavesExcludedAlone(t *testing.T) {
	src := strings.Replace(forEachPlaybook, "steps:\n  - id: siblings", "exclude:\n  taskTags: {irflow: ignore, canary: \"*\"}\nsteps:\n  - id: siblings", 1)
	r := compileInline(t, src)
	data, err := os.ReadFile(fargateFinding)
	if err != nil {
		t.Fatal(err)
	}
	var mapOut map[string]any
	opts := Options{observe: func(ev sim.Event) {
		if _, ok := ev.State.(*asl.Map); ok && ev.Kind == sim.StateExited {
			mapOut, _ = ev.Output.(map[string]any)
		}
	}}
	run := simulate(t, r, data, opts)
	if run.Status != sim.StatusSucceeded || run.Outcome != "COMPLETED" {
		t.Fatalf("run = %s %s (%s %s)", run.Status, run.Outcome, run.Error, run.Cause)
	}
	var sibs struct {
		Summary string `json:"summary"`
		Outputs struct {
			Siblings map[string][]string `json:"siblings"`
			Counts   map[string]int      `json:"counts"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal(stepResult(t, mapOut, "siblings"), &sibs); err != nil {
		t.Fatal(err)
	}
	ex := sibs.Outputs.Siblings["excluded"]
	if len(ex) != 2 || len(sibs.Outputs.Siblings["sameImage"]) != 1 || sibs.Outputs.Counts["excluded"] != 2 ||
		!strings.HasSuffix(sibs.Summary, "; 2 task(s) left alone: tag canary=* (1), tag irflow=ignore (1) (exclude:)") {
		t.Fatalf("siblings = %+v", sibs)
	}
	for k, l := range sibs.Outputs.Siblings {
		for _, a := range l {
			if k != "excluded" && (a == ex[0] || a == ex[1]) {
				t.Errorf("%s holds excluded %s", k, a)
			}
		}
	}
	var contain struct {
		Outputs struct {
			Tasks []struct {
				TaskArn string `json:"taskArn"`
			} `json:"tasks"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal(stepResult(t, mapOut, "contain"), &contain); err != nil {
		t.Fatal(err)
	}
	if len(contain.Outputs.Tasks) != 1 || contain.Outputs.Tasks[0].TaskArn != sibs.Outputs.Siblings["sameImage"][0] {
		t.Errorf("contained %+v; want only %v", contain.Outputs.Tasks, sibs.Outputs.Siblings["sameImage"])
	}
}

// TestForEachRechecksExclusion: a task tagged with an exclude: tag after
// find-siblings listed it (an operator marking it while the gate waited)
// is left alone too: the iteration checks the tags resolve-target reads
// in mode sibling and ends at once, marked excluded, before any step.
func TestForEachRechecksExclusion(t *testing.T) {
	src := strings.Replace(forEachPlaybook, "steps:\n  - id: siblings", "exclude:\n  taskTags: {hold: \"*\"}\nsteps:\n  - id: siblings", 1)
	r := compileInline(t, src)
	data, err := os.ReadFile(fargateFinding)
	if err != nil {
		t.Fatal(err)
	}
	// The mock world's siblings carry no hold tag: find-siblings lists
	// them. The first one described in mode sibling has been tagged since.
	mocks := MockHandlers(MockOptions{})
	var held string
	resolve := mocks["resolve-target"]
	mocks["resolve-target"] = func(ctx context.Context, raw json.RawMessage) (json.RawMessage, error) {
		out, err := resolve(ctx, raw)
		var p struct{ Mode string }
		if err != nil || json.Unmarshal(raw, &p) != nil || p.Mode != "sibling" || held != "" {
			return out, err
		}
		var res map[string]any
		if err := json.Unmarshal(out, &res); err != nil {
			return nil, err
		}
		target := res["outputs"].(map[string]any)["target"].(map[string]any)
		target["tags"] = map[string]any{"hold": "ops-review"}
		held, _ = target["taskArn"].(string)
		return json.Marshal(res)
	}
	var mapOut map[string]any
	stopped := 0
	opts := Options{Handlers: mocks, observe: func(ev sim.Event) {
		if _, ok := ev.State.(*asl.Map); ok && ev.Kind == sim.StateExited {
			mapOut, _ = ev.Output.(map[string]any)
		}
		if _, ok := ev.State.(*asl.Task); ok && ev.Kind == sim.StateEntered && strings.HasSuffix(ev.Name, "stop-sibling") {
			stopped++
		}
	}}
	run := simulate(t, r, data, opts)
	if run.Status != sim.StatusSucceeded || run.Outcome != "COMPLETED" {
		t.Fatalf("run = %s %s (%s %s)", run.Status, run.Outcome, run.Error, run.Cause)
	}
	var contain struct {
		Outputs struct {
			Tasks []struct {
				TaskArn  string                     `json:"taskArn"`
				Excluded bool                       `json:"excluded"`
				Steps    map[string]json.RawMessage `json:"steps"`
			} `json:"tasks"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal(stepResult(t, mapOut, "contain"), &contain); err != nil {
		t.Fatal(err)
	}
	tasks := contain.Outputs.Tasks
	if held == "" || len(tasks) != 2 {
		t.Fatalf("held %q, tasks %+v; want two tasks, one of them tagged since", held, tasks)
	}
	for _, task := range tasks {
		if want := task.TaskArn == held; task.Excluded != want || (len(task.Steps) == 0) != want {
			t.Errorf("task %s: excluded %v, steps %v; want excluded and no step exactly for the held task %s", task.TaskArn, task.Excluded, keys(task.Steps), held)
		}
	}
	if stopped != 1 {
		t.Errorf("stop-sibling entered %d times; want once (the task not held)", stopped)
	}
}
