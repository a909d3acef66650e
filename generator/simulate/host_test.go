package simulate

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/generator/internal/asl"
	"github.com/irflow/irflow/generator/internal/sim"
)

const hostFinding = "../../examples/inputs/guardduty-ec2-host-escape.json"

// containerEscape is workflows/container-escape.yaml, compiled.
func containerEscape(t *testing.T) *generator.Result {
	t.Helper()
	for _, p := range shippedPlaybooks(t) {
		if p.r.Name == "container-escape" {
			return p.r
		}
	}
	t.Fatal("workflows/ has no container-escape playbook")
	return nil
}

// TestContainerEscapeOnHost runs the shipped container-escape on a
// GuardDuty finding about a container instance (resourceType Instance):
// the host path runs (the instance's evidence, the tasks on it, the gate,
// the quarantine of its ENIs, protect), every step that needs a task is
// skipped by its when: {target: task} (no Lambda: the mocks refuse a
// task-only action on a host target), and the forEach revokes and stops
// exactly the tasks resolve-target found on the host, each once. On a
// task finding the same playbook runs its task path and skips the host
// steps.
func TestContainerEscapeOnHost(t *testing.T) {
	r := containerEscape(t)
	var after map[string]any // the state after the forEach
	stopped := map[string]bool{}
	opts := Options{observe: func(ev sim.Event) {
		if _, ok := ev.State.(*asl.Map); ok && ev.Kind == sim.StateExited {
			after, _ = ev.Output.(map[string]any)
		}
		if _, ok := ev.State.(*asl.Task); ok && ev.Kind == sim.StateExited && strings.HasSuffix(ev.Name, "stop-host-task check") {
			if s, _ := taskPayload(ev)["summary"].(string); s != "" {
				stopped[s] = true
			}
		}
	}}
	run := simulate(t, r, mustRead(t, hostFinding), opts)
	if run.Status != sim.StatusSucceeded || run.Outcome != generator.OutcomeCompleted || run.LaunchType != "EC2" {
		t.Fatalf("run = %s %s on %q (%s %s)\n%s", run.Status, run.Outcome, run.LaunchType, run.Error, run.Cause, describe(run))
	}
	ran, skipped := ranAndSkipped(t, run, " skipped: target")
	wantRan := []string{"snapshot", "memory", "tag", "flow-logs", "host-tasks", "approve-containment", "isolate-keep-ssm", "protect",
		"contain-host-tasks", "revoke-host-task", "stop-host-task", "notify"}
	wantSkipped := []string{"host-artifacts", "metadata", "logs", "sweep", "revoke", "stop"}
	if !sameSet(ran, wantRan) || !sameSet(skipped, wantSkipped) {
		t.Errorf("ran %v, skipped %v; want ran %v, skipped %v\n%s", ran, skipped, wantRan, wantSkipped, describe(run))
	}
	if i, j := stepIndex(run, "snapshot"), stepIndex(run, "memory"); i < 0 || j < i {
		t.Errorf("snapshot is entry %d, memory %d; want the snapshots started before memory capture writes to the disk", i, j)
	}

	var target struct {
		TaskArn   string   `json:"taskArn"`
		HostTasks []string `json:"hostTasks"`
	}
	if b, err := json.Marshal(after["target"]); err != nil || json.Unmarshal(b, &target) != nil {
		t.Fatalf("no target in the state after the forEach: %v", after)
	}
	if target.TaskArn != "" || len(target.HostTasks) < 2 {
		t.Fatalf("target = %+v; want the host: no task, its tasks in hostTasks", target)
	}
	var listed struct {
		Outputs struct {
			Siblings struct {
				SameInstance []string `json:"sameInstance"`
			} `json:"siblings"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal(stepResult(t, after, "host-tasks"), &listed); err != nil || !slices.Equal(listed.Outputs.Siblings.SameInstance, target.HostTasks) {
		t.Errorf("host-tasks sameInstance = %v (%v); want the host's tasks %v", listed.Outputs.Siblings.SameInstance, err, target.HostTasks)
	}
	var contain struct {
		Status  string `json:"status"`
		Outputs struct {
			Tasks []struct {
				TaskArn string                     `json:"taskArn"`
				Steps   map[string]json.RawMessage `json:"steps"`
			} `json:"tasks"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal(stepResult(t, after, "contain-host-tasks"), &contain); err != nil {
		t.Fatal(err)
	}
	var covered []string
	for _, task := range contain.Outputs.Tasks {
		covered = append(covered, task.TaskArn)
		if task.Steps["revoke-host-task"] == nil || task.Steps["stop-host-task"] == nil {
			t.Errorf("task %s: steps %v; want revoke-host-task and stop-host-task", task.TaskArn, keys(task.Steps))
		}
		id := task.TaskArn[strings.LastIndexByte(task.TaskArn, '/')+1:]
		found := false
		for s := range stopped {
			found = found || strings.Contains(s, id)
		}
		if !found {
			t.Errorf("no stop-host-task check named task %s: %v", id, stopped)
		}
	}
	if contain.Status != "OK" || !slices.Equal(covered, target.HostTasks) {
		t.Errorf("contain-host-tasks %s covered %v; want every task of the host once, %v", contain.Status, covered, target.HostTasks)
	}

	task := simulate(t, r, mustRead(t, "../../examples/inputs/guardduty-ec2-reverse-shell.json"), Options{})
	ran, skipped = ranAndSkipped(t, task, " skipped: target")
	wantRan = []string{"snapshot", "memory", "host-artifacts", "tag", "metadata", "logs", "flow-logs", "approve-containment",
		"isolate-keep-ssm", "sweep", "protect", "revoke", "stop", "notify"}
	if task.Outcome != generator.OutcomeCompleted || !slices.Equal(ran, wantRan) || !sameSet(skipped, []string{"host-tasks", "contain-host-tasks"}) {
		t.Errorf("task finding: %s, ran %v, skipped %v; want COMPLETED, ran %v, skipped host-tasks and contain-host-tasks\n%s",
			task.Outcome, ran, skipped, wantRan, describe(task))
	}
}

// TestHostFindingRefusedUnlessTaken: a playbook that does not take host
// findings ends INVALID_INPUT on one (resolve-target's with.hostFindings is
// false), and the simulator says the finding would not have started it.
func TestHostFindingRefusedUnlessTaken(t *testing.T) {
	for _, p := range shippedPlaybooks(t) {
		if p.r.Triggers.HostFindings {
			continue
		}
		run := simulate(t, p.r, mustRead(t, hostFinding), Options{})
		if run.Status != sim.StatusFailed || run.Outcome != generator.OutcomeInvalidInput {
			t.Errorf("%s: %s %s; want FAILED INVALID_INPUT", p.r.Name, run.Status, run.Outcome)
		}
		if !strings.Contains(run.Cause, "detail.resource.resourceType") {
			t.Errorf("%s: cause %q; want it to name detail.resource.resourceType", p.r.Name, run.Cause)
		}
	}
	// Its finding type is this playbook's, its resource type is not.
	r := compileInline(t, `apiVersion: irflow/v1
kind: Playbook
metadata: {name: tasks-only, title: Escapes in tasks only}
triggers:
  guardduty: {findingTypes: [PrivilegeEscalation:Runtime/*]}
steps:
  - {id: note, action: notify}
`)
	run := simulate(t, r, mustRead(t, hostFinding), Options{})
	if run.Outcome != generator.OutcomeInvalidInput ||
		!slices.ContainsFunc(run.Notes, func(n string) bool {
			return strings.Contains(n, "does not take host findings (triggers.guardduty.hostFindings)")
		}) {
		t.Errorf("tasks-only: %s, notes %q; want INVALID_INPUT and a note that the playbook takes no host findings", run.Outcome, run.Notes)
	}
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

func stepIndex(run *Execution, id string) int {
	return slices.IndexFunc(run.Steps, func(s Step) bool { return s.Step == id })
}
