package handler

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/tasks/catalog"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/ledger"
	"github.com/irflow/irflow/tasks/taskrt"
)

// ecsAPI describes and stops the task, and asks whether its instance's
// agent is connected.
type ecsAPI interface {
	DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, opts ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error)
	StopTask(ctx context.Context, in *ecs.StopTaskInput, opts ...func(*ecs.Options)) (*ecs.StopTaskOutput, error)
	DescribeContainerInstances(ctx context.Context, in *ecs.DescribeContainerInstancesInput, opts ...func(*ecs.Options)) (*ecs.DescribeContainerInstancesOutput, error)
}

// Handler stops the target task and, once it is stopped, removes the
// network ACL entries isolation added for it.
type Handler struct {
	ECS    ecsAPI
	NACLs  naclAPI
	Ledger ledgerAPI // nil: no ledger configured, nothing to clean up
	Now    func() time.Time
}

// New builds the handler from the process's AWS config.
func New(cfg aws.Config, env taskrt.Env) taskrt.HandlerFunc {
	h := &Handler{ECS: ecs.NewFromConfig(cfg), NACLs: ec2.NewFromConfig(cfg), Now: time.Now}
	if env.IncidentsTable != "" {
		h.Ledger = ledger.NewStore(env.Home(cfg), env.IncidentsTable)
	}
	return h.Handle
}

// params are the step's with: (tasks/catalog/params/stop-task.json).
type params struct {
	Reason *string `json:"reason"`
}

// Limits of the stop reason: ECS keeps 255 characters; the schema allows 200
// after the case id.
const (
	maxReason     = 255
	maxWithReason = 200
)

// defaultStepTimeout applies when neither the payload nor the catalog
// gives one.
const defaultStepTimeout = 10 * time.Minute

// stoppedStatuses are the last statuses of a task on its way out: ECS only
// moves a task past RUNNING once its desired status is STOPPED.
var stoppedStatuses = map[string]bool{"DEACTIVATING": true, "STOPPING": true, "DEPROVISIONING": true, "STOPPED": true, "DELETED": true}

// gone reports whether the task has ended: STOPPED, or DELETED (ECS keeps
// a stopped task visible for about an hour).
func gone(last string) bool { return last == "STOPPED" || last == "DELETED" }

// run is one invocation.
type run struct {
	h       *Handler
	p       *contract.Payload
	taskArn string
	cluster string
	out     map[string]any
}

// Handle starts the stop (mode start) or checks it (mode check).
func (h *Handler) Handle(ctx context.Context, p *contract.Payload) (*contract.Result, error) {
	var prm params
	if err := p.DecodeWith(&prm); err != nil {
		return nil, err
	}
	if prm.Reason != nil && utf8.RuneCountInString(*prm.Reason) > maxWithReason {
		return nil, &contract.InvalidInputError{Field: "with.reason", Reason: fmt.Sprintf("longer than %d characters", maxWithReason)}
	}
	r := &run{h: h, p: p}
	if p.Target != nil {
		r.taskArn, r.cluster = p.Target.TaskArn, p.Target.ClusterArn
	}
	if p.Incident != nil {
		r.taskArn, r.cluster = or(r.taskArn, p.Incident.TaskArn), or(r.cluster, p.Incident.ClusterArn)
	}
	if r.taskArn == "" {
		return nil, &contract.InvalidInputError{Field: "target.taskArn", Reason: "no task to stop"}
	}
	switch p.Mode {
	case "", "start":
		return r.start(ctx, prm)
	case "check":
		return r.check(ctx)
	}
	return nil, &contract.InvalidInputError{Field: "mode", Reason: fmt.Sprintf("%q is not start or check", p.Mode)}
}

// start stops the task unless it is already on its way out. A task ECS
// reports STOPPED at once (Fargate often is by the next read) is finished
// in the same call: no Wait state for it.
func (r *run) start(ctx context.Context, prm params) (*contract.Result, error) {
	task, err := r.describe(ctx)
	if err != nil {
		return nil, err
	}
	reason := stopReason(r.p, prm.Reason)
	last, desired := aws.ToString(task.LastStatus), aws.ToString(task.DesiredStatus)
	service := ""
	if g := aws.ToString(task.Group); strings.HasPrefix(g, "service:") {
		service = strings.TrimPrefix(g, "service:")
	}
	r.out = map[string]any{"done": false, "taskArn": r.taskArn, "clusterArn": r.cluster, "previousStatus": last, "desiredStatus": desired,
		"lastStatus": last, "containerInstanceArn": aws.ToString(task.ContainerInstanceArn), "stopRequestedAt": r.h.now().UTC().Format(time.RFC3339Nano)}
	if service != "" {
		r.out["service"] = service
	}
	id := taskID(r.taskArn)
	if stoppedStatuses[last] || desired == "STOPPED" {
		r.out["stoppedReason"] = aws.ToString(task.StoppedReason)
		state := "stopped"
		if !gone(last) {
			state = "stopping"
		}
		msg := fmt.Sprintf("already %s: task %s is %s (desired %s): %s", state, id, last, desired, aws.ToString(task.StoppedReason))
		if r.p.DryRun() {
			r.out["done"] = true
			return withOutputs(contract.DryRun("would do nothing: "+msg), r.out), nil
		}
		if gone(last) {
			return r.finish(ctx, msg)
		}
		return withOutputs(contract.OK(msg), r.out), nil
	}
	r.out["stoppedReason"] = reason
	note := ""
	if service != "" {
		note = "; service " + service + " will start a replacement unless it is scaled down (scale-service)"
	}
	if r.p.DryRun() {
		r.out["done"] = true
		return withOutputs(contract.DryRun(fmt.Sprintf("would stop task %s (%s) with reason %q, wait until it is STOPPED and remove the network ACL entries isolation added for it%s",
			id, last, reason, note)), r.out), nil
	}
	res, err := r.h.ECS.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String(r.cluster), Task: aws.String(r.taskArn), Reason: aws.String(reason)})
	if err != nil {
		return nil, contract.AWSError("ecs:StopTask "+r.taskArn, err)
	}
	if res.Task != nil {
		r.out["desiredStatus"], r.out["lastStatus"] = aws.ToString(res.Task.DesiredStatus), aws.ToString(res.Task.LastStatus)
	}
	msg := fmt.Sprintf("stopped task %s (was %s) with reason %q%s", id, last, reason, note)
	if res.Task != nil && gone(aws.ToString(res.Task.LastStatus)) {
		return r.finish(ctx, msg)
	}
	return withOutputs(contract.OK(fmt.Sprintf("stop requested for task %s (was %s) with reason %q; waiting for STOPPED%s", id, last, reason, note)), r.out), nil
}

// check reads the task's status: STOPPED finishes the step; still running
// past the step's timeout is an error that says why. The time waited is
// the clock's since the stop, or the checks made so far times the poll
// interval, whichever is longer: each check follows a Wait of that
// interval, so a run whose clock does not move (a simulation in virtual
// time) still reaches its timeout.
func (r *run) check(ctx context.Context) (*contract.Result, error) {
	if r.p.Previous == nil {
		return nil, &contract.InvalidInputError{Field: "previous", Reason: "mode check needs the start's result"}
	}
	r.out = map[string]any{}
	for k, v := range r.p.Previous.Outputs {
		r.out[k] = v
	}
	requested, err := time.Parse(time.RFC3339Nano, fmt.Sprint(r.out["stopRequestedAt"]))
	if err != nil {
		return nil, &contract.InvalidInputError{Field: "previous.outputs.stopRequestedAt", Reason: "not an RFC 3339 time"}
	}
	task, err := r.describe(ctx)
	if err != nil {
		return nil, err
	}
	last, desired := aws.ToString(task.LastStatus), aws.ToString(task.DesiredStatus)
	r.out["lastStatus"], r.out["desiredStatus"] = last, desired
	if gone(last) {
		r.out["stoppedReason"] = aws.ToString(task.StoppedReason)
		return r.finish(ctx, fmt.Sprintf("task %s is %s: %s", taskID(r.taskArn), last, aws.ToString(task.StoppedReason)))
	}
	checks := 1
	switch n := r.out["checks"].(type) {
	case float64: // from JSON, as Lambda passes it
		checks += int(n)
	case int:
		checks += n
	}
	r.out["checks"] = checks
	connected, ci := true, aws.ToString(task.ContainerInstanceArn)
	if ci != "" && task.LaunchType != ecstypes.LaunchTypeFargate {
		if connected, err = r.agentConnected(ctx, ci); err != nil {
			return nil, err
		}
		r.out["agentConnected"] = connected
	}
	waited := max(r.h.now().Sub(requested), time.Duration(checks)*pollInterval())
	if timeout := stepTimeout(r.p); waited > timeout {
		if !connected {
			return nil, &contract.StopNotDeliveredError{Task: r.taskArn, ContainerInstance: ci, After: timeout, LastStatus: last}
		}
		return nil, &contract.StepTimeoutError{Step: r.p.Folder(), After: timeout}
	}
	msg := fmt.Sprintf("task %s is %s (desired %s) %s after the stop", taskID(r.taskArn), last, desired, waited.Round(time.Second))
	if !connected {
		msg += "; the ECS agent of its container instance is not connected, so the stop has not reached it"
	}
	return withOutputs(contract.OK(msg), r.out), nil
}

// finish removes the stopped task's network ACL entries and ends the step.
func (r *run) finish(ctx context.Context, msg string) (*contract.Result, error) {
	r.out["done"] = true
	c, err := r.cleanup(ctx)
	if err != nil {
		return nil, err
	}
	r.out["naclEntriesRemoved"], r.out["naclEntriesGone"] = c.removed, c.gone
	switch {
	case c.note != "":
		msg += "; " + c.note
	case len(c.removed)+len(c.gone) > 0:
		msg += fmt.Sprintf("; removed %d network ACL entr%s isolation added for its addresses", len(c.removed), plural(len(c.removed), "y", "ies"))
		if len(c.gone) > 0 {
			msg += fmt.Sprintf(" (%d already gone)", len(c.gone))
		}
	}
	return withOutputs(contract.OK(msg), r.out), nil
}

// agentConnected reads the container instance's agentConnected.
func (r *run) agentConnected(ctx context.Context, ci string) (bool, error) {
	out, err := r.h.ECS.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String(r.cluster), ContainerInstances: []string{ci}})
	if err != nil {
		return false, contract.AWSError("ecs:DescribeContainerInstances "+ci, err)
	}
	for _, c := range out.ContainerInstances {
		if aws.ToString(c.ContainerInstanceArn) == ci {
			return c.AgentConnected, nil
		}
	}
	return false, nil
}

// describe returns the task, or TargetNotFoundError when ECS does not know it.
func (r *run) describe(ctx context.Context) (*ecstypes.Task, error) {
	in := &ecs.DescribeTasksInput{Tasks: []string{r.taskArn}}
	if r.cluster != "" {
		in.Cluster = aws.String(r.cluster)
	}
	out, err := r.h.ECS.DescribeTasks(ctx, in)
	if err != nil {
		return nil, contract.AWSError("ecs:DescribeTasks "+r.taskArn, err)
	}
	for i, t := range out.Tasks {
		if aws.ToString(t.TaskArn) == r.taskArn || len(out.Tasks) == 1 {
			return &out.Tasks[i], nil
		}
	}
	reason := "ECS does not know the task (stopped more than an hour ago?)"
	for _, f := range out.Failures {
		reason = aws.ToString(f.Reason) + ": " + aws.ToString(f.Detail)
	}
	return nil, &contract.TargetNotFoundError{Resource: "task " + r.taskArn, Reason: reason}
}

// stepTimeout is how long the stop may take, start to STOPPED: the
// payload's timeoutSeconds, else the catalog's StepTimeout.
func stepTimeout(p *contract.Payload) time.Duration {
	if p.TimeoutSeconds > 0 {
		return time.Duration(p.TimeoutSeconds) * time.Second
	}
	if a := catalog.Lookup("stop-task"); a != nil && a.StepTimeout > 0 {
		return a.StepTimeout.D()
	}
	return defaultStepTimeout
}

// pollInterval is the Wait between two checks (the catalog's).
func pollInterval() time.Duration {
	if a := catalog.Lookup("stop-task"); a != nil && a.PollInterval > 0 {
		return a.PollInterval.D()
	}
	return 10 * time.Second
}

// stopReason is "irflow case <caseId>: <reason>" with control characters
// removed, cut to the 255 characters ECS keeps. The reason is the step's,
// else the incident's, else the finding type.
func stopReason(p *contract.Payload, with *string) string {
	text := ""
	if with != nil {
		text = *with
	}
	if p.Incident != nil {
		text = or(text, p.Incident.Reason)
		if p.Incident.Finding != nil {
			text = or(text, "GuardDuty "+p.Incident.Finding.Type)
		}
	}
	text = or(strings.TrimSpace(text), "incident response containment")
	s := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, "irflow case "+p.CaseID()+": "+text)
	if utf8.RuneCountInString(s) > maxReason {
		s = string([]rune(s)[:maxReason])
	}
	return s
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func taskID(arn string) string { return arn[strings.LastIndexByte(arn, '/')+1:] }

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func withOutputs(r *contract.Result, out map[string]any) *contract.Result {
	r.Outputs = out
	return r
}
