package handler

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/taskrt"
)

// ecsAPI describes and stops the task.
type ecsAPI interface {
	DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, opts ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error)
	StopTask(ctx context.Context, in *ecs.StopTaskInput, opts ...func(*ecs.Options)) (*ecs.StopTaskOutput, error)
}

// Handler stops the target task.
type Handler struct {
	ECS ecsAPI
}

// New builds the handler from the process's AWS config.
func New(cfg aws.Config, _ taskrt.Env) taskrt.HandlerFunc {
	h := &Handler{ECS: ecs.NewFromConfig(cfg)}
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

// stoppedStatuses are the last statuses of a task on its way out: ECS only
// moves a task past RUNNING once its desired status is STOPPED.
var stoppedStatuses = map[string]bool{"DEACTIVATING": true, "STOPPING": true, "DEPROVISIONING": true, "STOPPED": true, "DELETED": true}

// Handle stops the task unless it is already stopping.
func (h *Handler) Handle(ctx context.Context, p *contract.Payload) (*contract.Result, error) {
	var prm params
	if err := p.DecodeWith(&prm); err != nil {
		return nil, err
	}
	if prm.Reason != nil && utf8.RuneCountInString(*prm.Reason) > maxWithReason {
		return nil, &contract.InvalidInputError{Field: "with.reason", Reason: fmt.Sprintf("longer than %d characters", maxWithReason)}
	}
	taskArn, cluster := "", ""
	if p.Target != nil {
		taskArn, cluster = p.Target.TaskArn, p.Target.ClusterArn
	}
	if p.Incident != nil {
		taskArn, cluster = or(taskArn, p.Incident.TaskArn), or(cluster, p.Incident.ClusterArn)
	}
	if taskArn == "" {
		return nil, &contract.InvalidInputError{Field: "target.taskArn", Reason: "no task to stop"}
	}
	task, err := h.describe(ctx, cluster, taskArn)
	if err != nil {
		return nil, err
	}
	reason := stopReason(p, prm.Reason)
	last, desired := aws.ToString(task.LastStatus), aws.ToString(task.DesiredStatus)
	service := strings.TrimPrefix(aws.ToString(task.Group), "service:")
	if !strings.HasPrefix(aws.ToString(task.Group), "service:") {
		service = ""
	}
	out := map[string]any{"taskArn": taskArn, "clusterArn": cluster, "previousStatus": last, "desiredStatus": desired}
	if service != "" {
		out["service"] = service
	}
	id := taskArn[strings.LastIndexByte(taskArn, '/')+1:]

	if stoppedStatuses[last] || desired == "STOPPED" {
		out["stoppedReason"] = aws.ToString(task.StoppedReason)
		state := "stopped"
		if last != "STOPPED" && last != "DELETED" {
			state = "stopping"
		}
		msg := fmt.Sprintf("already %s: task %s is %s (desired %s): %s", state, id, last, desired, aws.ToString(task.StoppedReason))
		if p.DryRun() {
			return withOutputs(contract.DryRun("would do nothing: "+msg), out), nil
		}
		return withOutputs(contract.OK(msg), out), nil
	}
	out["stoppedReason"] = reason
	note := ""
	if service != "" {
		note = "; service " + service + " will start a replacement unless it is scaled down (scale-service)"
	}
	if p.DryRun() {
		return withOutputs(contract.DryRun(fmt.Sprintf("would stop task %s (%s) with reason %q%s", id, last, reason, note)), out), nil
	}
	res, err := h.ECS.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String(cluster), Task: aws.String(taskArn), Reason: aws.String(reason)})
	if err != nil {
		return nil, contract.AWSError("ecs:StopTask "+taskArn, err)
	}
	if res.Task != nil {
		out["desiredStatus"] = aws.ToString(res.Task.DesiredStatus)
	}
	return withOutputs(contract.OK(fmt.Sprintf("stopped task %s (was %s) with reason %q%s", id, last, reason, note)), out), nil
}

// describe returns the task, or TargetNotFoundError when ECS does not know it.
func (h *Handler) describe(ctx context.Context, cluster, taskArn string) (*ecstypes.Task, error) {
	in := &ecs.DescribeTasksInput{Tasks: []string{taskArn}}
	if cluster != "" {
		in.Cluster = aws.String(cluster)
	}
	out, err := h.ECS.DescribeTasks(ctx, in)
	if err != nil {
		return nil, contract.AWSError("ecs:DescribeTasks "+taskArn, err)
	}
	for i, t := range out.Tasks {
		if aws.ToString(t.TaskArn) == taskArn || len(out.Tasks) == 1 {
			return &out.Tasks[i], nil
		}
	}
	reason := "ECS does not know the task (stopped more than an hour ago?)"
	for _, f := range out.Failures {
		reason = aws.ToString(f.Reason) + ": " + aws.ToString(f.Detail)
	}
	return nil, &contract.TargetNotFoundError{Resource: "task " + taskArn, Reason: reason}
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

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func withOutputs(r *contract.Result, out map[string]any) *contract.Result {
	r.Outputs = out
	return r
}
