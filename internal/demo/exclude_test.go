package demo

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/worlds"
)

// TestHostFindingLeavesExcludedTask: the shipped container-escape with
// exclude: {taskTags: {irflow: ignore}} added, on a host finding about the
// container instance of the ec2-awsvpc world (the target, a bridge task
// and an awsvpc task run on it), approved, with the real handlers on moto
// through the AWS-strict layer. The bridge task is tagged irflow=ignore
// (TagResource) before the response: the forEach over host-tasks'
// sameInstance revokes and stops the other tasks of the host and leaves
// it RUNNING (find-siblings lists it under excluded only).
func TestHostFindingLeavesExcludedTask(t *testing.T) {
	ep := mototest.DirectEndpoint(t)
	src, err := os.ReadFile(filepath.Join(repoRoot(t), "workflows", "container-escape.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(src, []byte("\nexclude:")) {
		t.Fatal("container-escape has an exclude: of its own: adapt the test")
	}
	src = bytes.Replace(src, []byte("\nsteps:\n"), []byte("\nexclude:\n  taskTags: { irflow: ignore }\nsteps:\n"), 1)
	playbook := filepath.Join(t.TempDir(), "container-escape-exclude.yaml")
	if err := os.WriteFile(playbook, src, 0o644); err != nil {
		t.Fatal(err)
	}
	var excluded string
	var onHost []string
	dir := t.TempDir()
	var out bytes.Buffer
	res, err := Run(context.Background(), Options{Endpoint: ep, Decide: DecideApprove, Playbook: playbook, Worlds: []string{"ec2-awsvpc"},
		Input: filepath.Join(repoRoot(t), "examples", "inputs", "guardduty-ec2-host-escape.json"), Out: dir, Stdout: &out,
		prepare: func(ctx context.Context, w *worlds.World) error {
			onHost = []string{w.Target.Arn}
			for _, o := range w.Others {
				switch o.Role {
				case "same-host":
					excluded = o.Arn
					onHost = append(onHost, o.Arn)
				case "same-host-awsvpc":
					onHost = append(onHost, o.Arn)
				}
			}
			_, err := ecs.NewFromConfig(w.Cfg).TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(excluded),
				Tags: []ecstypes.Tag{{Key: aws.String("irflow"), Value: aws.String("ignore")}}})
			return err
		}})
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, tail(out.String(), 4000))
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("bench output:\n%s", tail(out.String(), 20000))
		}
	})
	if len(res.Cases) != 1 || excluded == "" || len(onHost) != 3 {
		t.Fatalf("%d cases; excluded %q, on the host %v", len(res.Cases), excluded, onHost)
	}
	c := res.Cases[0]
	if c.Run == nil || c.Run.Status != "SUCCEEDED" || c.Run.Outcome != "COMPLETED" || len(c.Refusals) != 0 || len(c.Problems) != 0 {
		t.Fatalf("run %+v; refusals %v, problems %v", c.Run, c.Refusals, c.Problems)
	}
	stops := 0
	for _, st := range c.Run.Steps {
		if st.Step == "stop-host-task" {
			stops++
		}
	}
	if stops != len(onHost)-1 {
		t.Errorf("stop-host-task ran %d times; want once per task of the host but the excluded one (%d)", stops, len(onHost)-1)
	}
	tasks, err := ecs.NewFromConfig(mototest.ConfigFor(ep)).DescribeTasks(context.Background(), &ecs.DescribeTasksInput{Cluster: aws.String(c.World.ClusterName), Tasks: onHost})
	if err != nil || len(tasks.Tasks) != len(onHost) {
		t.Fatalf("describe the host's tasks: %v", err)
	}
	for _, task := range tasks.Tasks {
		arn, st := aws.ToString(task.TaskArn), aws.ToString(task.LastStatus)
		if want := map[bool]string{true: "RUNNING", false: "STOPPED"}[arn == excluded]; st != want {
			t.Errorf("task %s (excluded %v) is %s; want %s", arn[strings.LastIndexByte(arn, '/')+1:], arn == excluded, st, want)
		}
	}
}
