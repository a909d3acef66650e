package handler

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// StoppedTask is what became of the case's task (outputs.stoppedTask):
// stop-task has nothing to undo, a stopped task cannot be started again,
// but whether its service replaced it is what a responder asks next.
type StoppedTask struct {
	TaskArn    string `json:"taskArn"`
	LastStatus string `json:"lastStatus"`
	StopCode   string `json:"stopCode,omitempty"`
	Service    string `json:"service,omitempty"`
	// Replaced: the service runs its desired count again (false for a
	// standalone task, which nothing replaces).
	Replaced bool   `json:"replaced"`
	Note     string `json:"note"`
}

// stoppedTask describes the incident's task once it is stopped; nil when
// the case names no task or it still runs. Failures to read are a note:
// this is a report, not an undo.
func (r *run) stoppedTask(ctx context.Context) *StoppedTask {
	inc := r.p.Incident
	if inc == nil || inc.TaskArn == "" || r.h.ECS == nil {
		return nil
	}
	st := &StoppedTask{TaskArn: inc.TaskArn}
	in := &ecs.DescribeTasksInput{Tasks: []string{inc.TaskArn}}
	if inc.ClusterArn != "" {
		in.Cluster = aws.String(inc.ClusterArn)
	}
	out, err := r.h.ECS.DescribeTasks(ctx, in)
	if err != nil || len(out.Tasks) == 0 {
		// ECS keeps a stopped task visible for about an hour.
		st.LastStatus, st.Note = "UNKNOWN", "ECS no longer describes the task (stopped tasks are kept about an hour)"
		return st
	}
	t := out.Tasks[0]
	st.LastStatus, st.StopCode = aws.ToString(t.LastStatus), string(t.StopCode)
	if st.LastStatus != "STOPPED" && st.LastStatus != "DEPROVISIONING" && st.LastStatus != "STOPPING" {
		return nil
	}
	group := aws.ToString(t.Group)
	if !strings.HasPrefix(group, "service:") {
		st.Note = "standalone task: nothing replaces it; stop-task has nothing to undo"
		return st
	}
	st.Service = strings.TrimPrefix(group, "service:")
	sin := &ecs.DescribeServicesInput{Services: []string{st.Service}}
	if inc.ClusterArn != "" {
		sin.Cluster = aws.String(inc.ClusterArn)
	}
	so, err := r.h.ECS.DescribeServices(ctx, sin)
	if err != nil || len(so.Services) == 0 {
		st.Note = "its service " + st.Service + " could not be read"
		return st
	}
	s := so.Services[0]
	st.Replaced = s.DesiredCount > 0 && s.RunningCount >= s.DesiredCount
	if st.Replaced {
		st.Note = fmt.Sprintf("service %s replaced it: %d of %d tasks running", st.Service, s.RunningCount, s.DesiredCount)
	} else {
		st.Note = fmt.Sprintf("service %s has not replaced it: %d of %d tasks running", st.Service, s.RunningCount, s.DesiredCount)
	}
	return st
}
