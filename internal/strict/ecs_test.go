package strict

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

const (
	taskEC2     = "arn:aws:ecs:us-east-1:123456789012:task/c1/0ec2"
	taskFargate = "arn:aws:ecs:us-east-1:123456789012:task/c1/0fargate"
	ciArn       = "arn:aws:ecs:us-east-1:123456789012:container-instance/c1/ci1"
)

// fakeTasks makes the fake answer DescribeTasks and DescribeContainerInstances
// for an EC2 task, a Fargate task and a two-container task, all RUNNING until
// the fake sees StopTask.
func fakeTasks(f *fakeMoto) {
	fakeENIs(f)
	var stopped atomic.Bool
	task := func(arn string) map[string]any {
		t := map[string]any{"taskArn": arn, "clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/c1",
			"lastStatus": "RUNNING", "desiredStatus": "RUNNING", "launchType": "EC2", "containerInstanceArn": ciArn,
			"containers": []any{map[string]any{"name": "app", "containerArn": arn + "/app"}}}
		eni := map[string]any{taskEC2: "eni-e", taskFargate: "eni-f"}[arn]
		if eni != nil {
			t["attachments"] = []any{map[string]any{"id": "att-" + eni.(string), "type": "ElasticNetworkInterface", "status": "ATTACHED",
				"details": []any{map[string]any{"name": "networkInterfaceId", "value": eni}}}}
		}
		switch {
		case arn == taskFargate:
			t["launchType"] = "FARGATE"
			delete(t, "containerInstanceArn")
		case strings.HasSuffix(arn, "/two"):
			t["containers"] = []any{map[string]any{"name": "app"}, map[string]any{"name": "sidecar"}}
		}
		if arn == taskEC2 && stopped.Load() {
			t["lastStatus"], t["desiredStatus"] = "STOPPED", "STOPPED"
		}
		return t
	}
	f.onECS("DescribeTasks", func(in map[string]any) any {
		var out []any
		for _, a := range in["tasks"].([]any) {
			if s := a.(string); !strings.HasSuffix(s, "/gone") {
				out = append(out, task(s))
			}
		}
		return map[string]any{"tasks": out, "failures": []any{}}
	})
	f.onECS("DescribeContainerInstances", func(map[string]any) any {
		return map[string]any{"containerInstances": []any{map[string]any{"containerInstanceArn": ciArn, "ec2InstanceId": "i-1", "agentConnected": true}}}
	})
	f.onECS("ListClusters", func(map[string]any) any {
		return map[string]any{"clusterArns": []any{"arn:aws:ecs:us-east-1:123456789012:cluster/c1"}}
	})
	f.onECS("ListTasks", func(map[string]any) any { return map[string]any{"taskArns": []any{taskEC2, taskFargate}} })
	f.onECS("StopTask", func(in map[string]any) any {
		stopped.Store(true)
		return map[string]any{"task": task(in["task"].(string))}
	})
}

// TestExecuteCommand: interactive sessions of exec-enabled running tasks
// come from the ExecBackend; everything else is ECS's own refusal.
func TestExecuteCommand(t *testing.T) {
	f := newFakeMoto(t)
	fakeTasks(f)
	var opened []ExecRequest
	backend := ExecFunc(func(_ context.Context, req ExecRequest) (ExecSession, error) {
		if req.ContainerName == "sidecar" {
			return ExecSession{}, errors.New("agent not registered yet")
		}
		opened = append(opened, req)
		return ExecSession{SessionID: "ecs-execute-command-1", StreamURL: "ws://127.0.0.1:1/s", TokenValue: "tok"}, nil
	})
	l, url := serve(t, f.srv.URL, Config{Exec: backend})
	if err := NewClient(url).RegisterWorld(ctx, World{ExecEnabledTasks: []string{taskEC2, taskEC2[:len(taskEC2)-4] + "/two"}}); err != nil {
		t.Fatal(err)
	}
	c := ecs.NewFromConfig(sdk(url))
	run := func(task, container string, interactive bool) (*ecs.ExecuteCommandOutput, error) {
		return c.ExecuteCommand(ctx, &ecs.ExecuteCommandInput{Cluster: aws.String("c1"), Task: aws.String(task),
			Container: aws.String(container), Command: aws.String("/bin/sh"), Interactive: interactive})
	}
	out, err := run(taskEC2, "", true)
	if err != nil {
		t.Fatal(err)
	}
	if s := out.Session; s == nil || aws.ToString(s.SessionId) != "ecs-execute-command-1" || aws.ToString(s.StreamUrl) != "ws://127.0.0.1:1/s" ||
		aws.ToString(s.TokenValue) != "tok" || !out.Interactive || aws.ToString(out.ContainerName) != "app" || aws.ToString(out.TaskArn) != taskEC2 {
		t.Errorf("ExecuteCommand answered %+v", out)
	}
	if len(opened) != 1 || opened[0].Command != "/bin/sh" || opened[0].Account != "123456789012" || opened[0].ContainerArn != taskEC2+"/app" {
		t.Errorf("backend got %+v", opened)
	}
	two := taskEC2[:len(taskEC2)-4] + "/two"
	tests := []struct {
		name, task, container string
		interactive           bool
		code, rule            string
	}{
		{"non-interactive", taskEC2, "", false, "InvalidParameterException", ruleExecInteractive.id},
		{"not enabled", taskFargate, "", true, "InvalidParameterException", ruleExecNotEnabled.id},
		{"no such task", "arn:aws:ecs:us-east-1:123456789012:task/c1/gone", "", true, "InvalidParameterException", ruleExecNotEnabled.id},
		{"container not named", two, "", true, "InvalidParameterException", ruleExecContainer.id},
		{"no such container", two, "db", true, "InvalidParameterException", ruleExecContainer.id},
		{"agent not connected", two, "sidecar", true, "TargetNotConnectedException", ruleExecNotConnected.id},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := run(tt.task, tt.container, tt.interactive)
			wantRefused(t, l, err, http.StatusBadRequest, tt.code, tt.rule)
		})
	}
	if f.saw("ExecuteCommand") != 0 {
		t.Error("ExecuteCommand reached moto")
	}
	_, noBackend := serve(t, f.srv.URL, Config{})
	_ = NewClient(noBackend).RegisterWorld(ctx, World{ExecEnabledTasks: []string{taskEC2}})
	_, err = ecs.NewFromConfig(sdk(noBackend)).ExecuteCommand(ctx, &ecs.ExecuteCommandInput{Cluster: aws.String("c1"),
		Task: aws.String(taskEC2), Command: aws.String("id"), Interactive: true})
	var nc *ecstypes.TargetNotConnectedException
	if !errors.As(err, &nc) {
		t.Errorf("without an ExecBackend: %v; want TargetNotConnectedException", err)
	}
}

// TestDescribeTasksShowsExec: an exec-enabled task shows enableExecuteCommand
// and the ExecuteCommandAgent; another shows enableExecuteCommand false.
func TestDescribeTasksShowsExec(t *testing.T) {
	f := newFakeMoto(t)
	fakeTasks(f)
	_, url := serve(t, f.srv.URL, Config{})
	_ = NewClient(url).RegisterWorld(ctx, World{ExecEnabledTasks: []string{taskEC2}})
	out, err := ecs.NewFromConfig(sdk(url)).DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("c1"), Tasks: []string{taskEC2, taskFargate}})
	if err != nil || len(out.Tasks) != 2 {
		t.Fatalf("DescribeTasks: %v %v", out, err)
	}
	for _, tk := range out.Tasks {
		want := aws.ToString(tk.TaskArn) == taskEC2
		if tk.EnableExecuteCommand != want {
			t.Errorf("%s: enableExecuteCommand %v; want %v", aws.ToString(tk.TaskArn), tk.EnableExecuteCommand, want)
		}
		agents := tk.Containers[0].ManagedAgents
		if want && (len(agents) != 1 || agents[0].Name != ecstypes.ManagedAgentNameExecuteCommandAgent ||
			aws.ToString(agents[0].LastStatus) != "RUNNING" || agents[0].LastStartedAt == nil) {
			t.Errorf("managed agents %+v", agents)
		}
		if !want && len(agents) != 0 {
			t.Errorf("a task without exec shows managed agents %+v", agents)
		}
	}
}
