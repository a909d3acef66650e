package handler_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/stop-task/handler"
)

func TestMain(m *testing.M) { mototest.Main(m) }

func run(t *testing.T, w *mototest.World, payload []byte) (*contract.Result, error) {
	t.Helper()
	return mototest.Run(t, w, "stop-task", handler.New(w.Cfg, w.Env), payload)
}

// task returns the task's last status and stop reason as moto has them.
func task(t *testing.T, w *mototest.World, arn string) (status, reason string) {
	t.Helper()
	out, err := ecs.NewFromConfig(w.Cfg).DescribeTasks(context.Background(), &ecs.DescribeTasksInput{Cluster: aws.String(w.ClusterArn), Tasks: []string{arn}})
	if err != nil || len(out.Tasks) != 1 {
		t.Fatalf("describe %s: %v %v", arn, err, out)
	}
	return aws.ToString(out.Tasks[0].LastStatus), aws.ToString(out.Tasks[0].StoppedReason)
}

func TestMotoStopTaskBothLaunchTypes(t *testing.T) {
	w := mototest.Seed(t)
	for _, tt := range []struct{ lt, arn string }{{"FARGATE", w.FargateTaskArn}, {"EC2", w.EC2TaskArn}} {
		t.Run(tt.lt, func(t *testing.T) {
			dry := mototest.Unique("case-dry")
			res, err := run(t, w, w.Payload("stop-task", "stop", tt.lt, dry, true, map[string]any{"reason": "miner"}, nil))
			if err != nil {
				t.Fatal(err)
			}
			if status, _ := task(t, w, tt.arn); status != "RUNNING" || res.Status != "DRY_RUN" {
				t.Fatalf("dry run: task %s, result %s %q", status, res.Status, res.Summary)
			}
			mototest.VerifyAudit(t, w, dry, 2)

			caseID := mototest.Unique("case-stop")
			with := map[string]any{"reason": "crypto-miner\x07 seen"}
			first, err := run(t, w, w.Payload("stop-task", "stop", tt.lt, caseID, false, with, nil))
			if err != nil {
				t.Fatal(err)
			}
			want := "irflow case " + caseID + ": crypto-miner seen"
			status, reason := task(t, w, tt.arn)
			if status != "STOPPED" || reason != want || first.Status != "OK" || !strings.HasPrefix(first.Summary, "stopped task") {
				t.Fatalf("first run: task %s %q; result %s %q", status, reason, first.Status, first.Summary)
			}

			second, err := run(t, w, w.Payload("stop-task", "stop", tt.lt, caseID, false, map[string]any{"reason": "again"}, nil))
			if err != nil {
				t.Fatal(err)
			}
			if _, reason := task(t, w, tt.arn); reason != want {
				t.Errorf("second run replaced the stop reason with %q", reason)
			}
			if second.Status != "OK" || !strings.HasPrefix(second.Summary, "already stopped") || second.Outputs["stoppedReason"] != want {
				t.Errorf("second run: %s %q %v", second.Status, second.Summary, second.Outputs)
			}
			mototest.VerifyAudit(t, w, caseID, 4)
		})
	}
}

func TestMotoStopTaskNotFound(t *testing.T) {
	w := mototest.Seed(t)
	var p map[string]any
	json.Unmarshal(w.Payload("stop-task", "stop", "FARGATE", mototest.Unique("case-gone"), false, nil, nil), &p)
	gone := w.FargateTaskArn[:strings.LastIndexByte(w.FargateTaskArn, '/')+1] + "00000000000000000000000000000000"
	p["target"].(map[string]any)["taskArn"] = gone
	raw, _ := json.Marshal(p)
	if _, err := run(t, w, raw); contract.ErrorName(err) != "TargetNotFoundError" {
		t.Errorf("unknown task: %v", err)
	}
}
