package handler

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/ecsexec/triage"
)

// plan is what a run will do: the task as ECS describes it now, the
// containers to triage (each with a reason to skip it, if any), and what
// the finding names.
type plan struct {
	cluster, task string
	execEnabled   bool
	// why says how the containers were chosen.
	why        string
	containers []planned
	target     triage.Target
	// ignored lists finding fields the collector cannot take.
	ignored []string
}

type planned struct {
	name string
	skip string
}

// agentName is the managed agent ECS Exec runs in each container.
const agentName = "ExecuteCommandAgent"

// plan describes the task and chooses the containers. A task that is gone
// or not running is a SKIPPED result, not an error: there is nothing left
// to look into.
func (h *Handler) plan(ctx context.Context, p *contract.Payload, params Params) (*plan, *contract.Result, error) {
	pl := &plan{cluster: p.Target.ClusterArn, task: p.Target.TaskArn}
	if pl.cluster == "" {
		pl.cluster = p.Incident.ClusterArn
	}
	out, err := h.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(pl.cluster), Tasks: []string{pl.task}})
	if err != nil {
		return nil, nil, contract.AWSError("ecs:DescribeTasks "+pl.task, err)
	}
	if len(out.Tasks) == 0 {
		return nil, skipped(fmt.Sprintf("ECS no longer knows task %s: there is no container to look into", pl.task), nil), nil
	}
	t := out.Tasks[0]
	if s := aws.ToString(t.LastStatus); s != "RUNNING" {
		return nil, skipped(fmt.Sprintf("the task is %s: ECS Exec needs a running task", s), nil), nil
	}
	pl.execEnabled = t.EnableExecuteCommand
	names, err := h.choose(ctx, p, params, t, pl)
	if err != nil {
		return nil, nil, err
	}
	for _, n := range names {
		pl.containers = append(pl.containers, planned{name: n, skip: agentSkip(t, n)})
	}
	pl.target, pl.ignored = findingTarget(p)
	return pl, nil, nil
}

// choose picks the containers: with.container; else those the finding
// lists that the task has; else the task definition's essential ones.
func (h *Handler) choose(ctx context.Context, p *contract.Payload, params Params, t ecstypes.Task, pl *plan) ([]string, error) {
	var have []string
	for _, c := range t.Containers {
		have = append(have, aws.ToString(c.Name))
	}
	if params.Container != "" {
		if !slices.Contains(have, params.Container) {
			return nil, &contract.InvalidInputError{Field: "with.container",
				Reason: fmt.Sprintf("the task has no container %q (it has %s)", params.Container, joinNames(have))}
		}
		pl.why = "named by the step"
		return []string{params.Container}, nil
	}
	if f := p.Incident.Finding; f != nil {
		var named []string
		for _, c := range f.Containers {
			if slices.Contains(have, c) {
				named = append(named, c)
			}
		}
		if len(named) > 0 {
			pl.why = "named by the GuardDuty finding"
			return named, nil
		}
	}
	def := aws.ToString(t.TaskDefinitionArn)
	out, err := h.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(def)})
	if err != nil {
		return nil, contract.AWSError("ecs:DescribeTaskDefinition "+def, err)
	}
	var essential []string
	if out.TaskDefinition != nil {
		for _, c := range out.TaskDefinition.ContainerDefinitions {
			// essential defaults to true (ContainerDefinition).
			if name := aws.ToString(c.Name); (c.Essential == nil || *c.Essential) && slices.Contains(have, name) {
				essential = append(essential, name)
			}
		}
	}
	if len(essential) == 0 {
		pl.why = "every container of the task (the task definition names no essential one it runs)"
		return have, nil
	}
	pl.why = "the essential containers of the task definition"
	return essential, nil
}

// notEnabled is why no container of a task without ECS Exec is triaged.
const notEnabled = "the task was not started with enableExecuteCommand (DescribeTasks): ECS refuses ExecuteCommand for it"

// agentSkip says why a container cannot be triaged as DescribeTasks shows
// it, or "". A task started without ECS Exec is not asked at all: ECS
// refuses ExecuteCommand for it ("The execute command failed because
// execute command was not enabled when the task was run",
// InvalidParameterException — Troubleshooting issues with ECS Exec,
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec-troubleshooting.html),
// and a doomed call is noise in CloudTrail during an incident. Only a task
// with ECS Exec has managed agents to look at.
func agentSkip(t ecstypes.Task, name string) string {
	if !t.EnableExecuteCommand {
		return notEnabled
	}
	for _, c := range t.Containers {
		if aws.ToString(c.Name) != name {
			continue
		}
		for _, a := range c.ManagedAgents {
			if string(a.Name) != agentName {
				continue
			}
			if s := aws.ToString(a.LastStatus); s != "RUNNING" {
				why := fmt.Sprintf("the %s in container %s is %s, not RUNNING", agentName, name, s)
				if r := aws.ToString(a.Reason); r != "" {
					why += ": " + r
				}
				return why
			}
		}
	}
	return ""
}

// findingTarget is what the finding names for the collector: the process's
// pid inside the container (namespacePid; its host pid means nothing
// there), its executable path and hash. A value the collector cannot take
// (a path with control characters, a malformed hash) is left out and named.
func findingTarget(p *contract.Payload) (triage.Target, []string) {
	f := p.Incident.Finding
	if f == nil || f.Process == nil {
		return triage.Target{}, nil
	}
	var t triage.Target
	var ignored []string
	try := func(field string, set func(*triage.Target)) {
		probe := t
		set(&probe)
		if _, err := triage.Command(triage.Shells[0], triage.NewNonce(), probe, triage.Limits{}); err != nil {
			ignored = append(ignored, field)
			return
		}
		t = probe
	}
	if n := f.Process.NamespacePid; n != 0 {
		try("process.namespacePid", func(t *triage.Target) { t.PID = int(n) })
	}
	if f.Process.ExecutablePath != "" {
		try("process.executablePath", func(t *triage.Target) { t.ExecutablePath = f.Process.ExecutablePath })
	}
	if f.Process.ExecutableSha256 != "" {
		try("process.executableSha256", func(t *triage.Target) { t.SHA256 = f.Process.ExecutableSha256 })
	}
	return t, ignored
}

// dryRun reports what a real run would do, having started nothing.
func (pl *plan) dryRun() *contract.Result {
	var run, skip []string
	var not []notCollected
	for _, c := range pl.containers {
		switch {
		case c.skip != "":
			not = append(not, notCollected{Container: c.name, Reason: c.skip, What: collects})
			skip = append(skip, c.name)
		default:
			run = append(run, c.name)
		}
	}
	if len(run) == 0 {
		return skipped("dry run: nothing would be collected: "+not[0].Reason, not)
	}
	r := contract.DryRun(fmt.Sprintf("dry run, nothing started: would run irflow's read-only collector through ECS Exec in %s (%s), trying %s",
		containersText(run), pl.why, joinNames(triage.Shells)))
	return r.With("wouldTriage", run).With("wouldSkip", nonNilStrings(skip)).With("notCollected", nonNil(not)).
		With("target", pl.target).With("ignoredFindingFields", nonNilStrings(pl.ignored))
}
