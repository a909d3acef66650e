package handler

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/ecsref"
	"github.com/irflow/irflow/tasks/incident"
)

// observation is the service as it was when it was pinned: what the case
// report needs to say whether replacements started from the compromised
// digest during the response.
type observation struct {
	Deployments []deployment
	// Replacements are the service's running tasks, the target aside, that
	// run a compromised digest; Unknown those whose digest cannot tell.
	Replacements, Unknown []string
	// ServiceTasks counts the service's running tasks seen, the target aside.
	ServiceTasks int
	// Complete: every running task of the service was seen.
	Complete bool
	warnings []string
}

// deployment is one of the service's deployments at pin time.
type deployment struct {
	ID             string `json:"id"`
	Status         string `json:"status"`
	TaskDefinition string `json:"taskDefinition"`
	RolloutState   string `json:"rolloutState"`
	DesiredCount   int32  `json:"desiredCount"`
	RunningCount   int32  `json:"runningCount"`
	PendingCount   int32  `json:"pendingCount"`
	FailedTasks    int32  `json:"failedTasks"`
	CreatedAt      string `json:"createdAt,omitempty"`
}

// Bounds of the observation: ARNs listed per list in the outputs, and
// running tasks of the service described (ListTasks returns at most 100
// per call, DescribeTasks takes at most 100).
const (
	maxListed       = 50
	maxServiceTasks = 1000
	taskPage        = 100
)

// observe records the service's deployments and finds its running tasks
// of the compromised digest. ListTasks' serviceName filter is trusted in
// AWS; moto 5.2.5 ignores it, so the task group ("service:NAME", which the
// service scheduler gives its tasks) is checked too.
func (h *Handler) observe(ctx context.Context, cluster string, svc *ecstypes.Service, target *incident.Target, bad *ecsref.Compromised) (*observation, error) {
	o := &observation{Deployments: []deployment{}, Replacements: []string{}, Unknown: []string{}, Complete: true}
	for _, d := range svc.Deployments {
		dep := deployment{ID: aws.ToString(d.Id), Status: aws.ToString(d.Status), TaskDefinition: aws.ToString(d.TaskDefinition),
			RolloutState: string(d.RolloutState), DesiredCount: d.DesiredCount, RunningCount: d.RunningCount, PendingCount: d.PendingCount, FailedTasks: d.FailedTasks}
		if d.CreatedAt != nil {
			dep.CreatedAt = d.CreatedAt.UTC().Format(time.RFC3339)
		}
		o.Deployments = append(o.Deployments, dep)
	}
	name := aws.ToString(svc.ServiceName)
	arns, err := h.serviceTasks(ctx, cluster, name, o)
	if err != nil {
		return nil, err
	}
	set, complete := bad.Set(), bad.Complete()
	for i := 0; i < len(arns); i += taskPage {
		in := &ecs.DescribeTasksInput{Tasks: arns[i:min(i+taskPage, len(arns))]}
		if cluster != "" {
			in.Cluster = aws.String(cluster)
		}
		out, err := h.ECS.DescribeTasks(ctx, in)
		if err != nil {
			return nil, contract.AWSError("ecs:DescribeTasks "+name, err)
		}
		for _, t := range out.Tasks {
			arn := aws.ToString(t.TaskArn)
			if arn == target.TaskArn || aws.ToString(t.Group) != "service:"+name || aws.ToString(t.DesiredStatus) == "STOPPED" {
				continue
			}
			o.ServiceTasks++
			switch ecsref.Compare(ecsref.TaskContainers(t), set, complete) {
			case ecsref.Matches:
				o.Replacements = append(o.Replacements, arn)
			case ecsref.Undecided:
				o.Unknown = append(o.Unknown, arn)
			}
		}
	}
	sort.Strings(o.Replacements)
	sort.Strings(o.Unknown)
	if !complete {
		o.warnings = append(o.warnings, "the compromised digest is unknown: the service's tasks cannot be told apart, so they are listed as of unknown digest")
	}
	if !o.Complete {
		o.warnings = append(o.warnings, fmt.Sprintf("the service runs more than %d tasks: replacements were counted among the first %d", maxServiceTasks, maxServiceTasks))
	}
	return o, nil
}

// serviceTasks lists the service's tasks meant to run, up to maxServiceTasks.
func (h *Handler) serviceTasks(ctx context.Context, cluster, name string, o *observation) ([]string, error) {
	var arns []string
	var token *string
	for {
		in := &ecs.ListTasksInput{ServiceName: aws.String(name), DesiredStatus: ecstypes.DesiredStatusRunning, MaxResults: aws.Int32(taskPage), NextToken: token}
		if cluster != "" {
			in.Cluster = aws.String(cluster)
		}
		out, err := h.ECS.ListTasks(ctx, in)
		if err != nil {
			return nil, contract.AWSError("ecs:ListTasks "+name, err)
		}
		arns = append(arns, out.TaskArns...)
		next := aws.ToString(out.NextToken)
		if len(arns) > maxServiceTasks || len(arns) == maxServiceTasks && next != "" {
			o.Complete = false
			return arns[:maxServiceTasks], nil
		}
		if next == "" || next == aws.ToString(token) {
			return arns, nil
		}
		token = out.NextToken
	}
}

// capped is a list cut to maxListed ARNs for the outputs.
func (o *observation) capped(arns []string) []string {
	return arns[:min(len(arns), maxListed)]
}
