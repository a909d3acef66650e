package handler_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/stricttest"
	"github.com/irflow/irflow/tasks/contract"
	isolate "github.com/irflow/irflow/tasks/isolate-network/handler"
	"github.com/irflow/irflow/tasks/ledger"
	"github.com/irflow/irflow/tasks/stop-task/handler"
)

func TestMain(m *testing.M) { stricttest.Main(m) }

func run(t *testing.T, w *mototest.World, payload []byte) (*contract.Result, error) {
	t.Helper()
	return mototest.Run(t, w, "stop-task", handler.New(w.Cfg, w.Env), payload)
}

// task returns the task's last status and stop reason as moto has them.
func task(t *testing.T, cfg aws.Config, cluster, arn string) (status, reason string) {
	t.Helper()
	out, err := ecs.NewFromConfig(cfg).DescribeTasks(context.Background(), &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{arn}})
	if err != nil || len(out.Tasks) != 1 {
		t.Fatalf("describe %s: %v %v", arn, err, out)
	}
	return aws.ToString(out.Tasks[0].LastStatus), aws.ToString(out.Tasks[0].StoppedReason)
}

func TestMotoStopTaskBothLaunchTypes(t *testing.T) {
	w, l := stricttest.SeedLedger(t)
	for _, tt := range []struct{ lt, arn string }{{"FARGATE", w.FargateTaskArn}, {"EC2", w.EC2TaskArn}} {
		t.Run(tt.lt, func(t *testing.T) {
			dry := mototest.Unique("case-dry")
			res, err := run(t, w, w.Payload("stop-task", "stop", tt.lt, dry, true, map[string]any{"reason": "miner"}, map[string]any{"mode": "start"}))
			if err != nil {
				t.Fatal(err)
			}
			if status, _ := task(t, l.Direct, w.ClusterArn, tt.arn); status != "RUNNING" || res.Status != "DRY_RUN" || res.Outputs["done"] != true {
				t.Fatalf("dry run: task %s, result %s %q %v", status, res.Status, res.Summary, res.Outputs["done"])
			}
			mototest.VerifyAudit(t, w, dry, 2)

			caseID := mototest.Unique("case-stop")
			with := map[string]any{"reason": "crypto-miner\x07 seen"}
			first, err := run(t, w, w.Payload("stop-task", "stop", tt.lt, caseID, false, with, map[string]any{"mode": "start"}))
			if err != nil {
				t.Fatal(err)
			}
			want := "irflow case " + caseID + ": crypto-miner seen"
			status, reason := task(t, l.Direct, w.ClusterArn, tt.arn)
			if status != "STOPPED" || reason != want || first.Status != "OK" || first.Outputs["done"] != true || !strings.HasPrefix(first.Summary, "stopped task") {
				t.Fatalf("first run: task %s %q; result %s %q %v", status, reason, first.Status, first.Summary, first.Outputs)
			}
			second, err := run(t, w, w.Payload("stop-task", "stop", tt.lt, caseID, false, map[string]any{"reason": "again"}, map[string]any{"mode": "start"}))
			if err != nil {
				t.Fatal(err)
			}
			if _, reason := task(t, l.Direct, w.ClusterArn, tt.arn); reason != want {
				t.Errorf("second run replaced the stop reason with %q", reason)
			}
			if second.Status != "OK" || !strings.HasPrefix(second.Summary, "already stopped") || second.Outputs["stoppedReason"] != want || second.Outputs["done"] != true {
				t.Errorf("second run: %s %q %v", second.Status, second.Summary, second.Outputs)
			}
			mototest.VerifyAudit(t, w, caseID, 4)
		})
	}
	l.NoRefusals(t)
}

// TestMotoStopRemovesTheIsolationEntries: isolate-network denies the
// Fargate task's address in every ACL; once the task is STOPPED, stop-task
// removes exactly those entries (read back from moto) and stamps them
// removed in the ledger; a second run removes nothing more.
func TestMotoStopRemovesTheIsolationEntries(t *testing.T) {
	w, l := stricttest.SeedLedger(t)
	caseID := mototest.Unique("case-cleanup")
	iso, err := mototest.Run(t, w, "isolate-network", isolate.New(w.Cfg, w.Env), w.Payload("isolate-network", "isolate-now", "FARGATE", caseID, false, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	n := len(iso.Outputs["naclEntries"].([]any))
	if n == 0 || countDenies(t, l, w) != n {
		t.Fatalf("isolation added %d entries, moto has %d", n, countDenies(t, l, w))
	}
	for i := range 2 {
		res, err := run(t, w, w.Payload("stop-task", "stop", "FARGATE", caseID, false, nil, map[string]any{"mode": "start"}))
		if err != nil {
			t.Fatal(err)
		}
		removed := len(res.Outputs["naclEntriesRemoved"].([]any))
		if res.Outputs["done"] != true || (i == 0 && removed != n) || (i == 1 && removed != 0) {
			t.Errorf("run %d: removed %d; %q", i+1, removed, res.Summary)
		}
		if got := countDenies(t, l, w); got != 0 {
			t.Errorf("run %d: %d deny entries left in moto", i+1, got)
		}
	}
	lg, err := ledger.NewStore(w.Cfg, w.Env.IncidentsTable).Read(context.Background(), caseID)
	if err != nil || len(lg.Entries) != n || len(lg.Active(ledger.KindNACLEntry)) != 0 || lg.Entries[0].RemovedBy != "stop" {
		t.Errorf("ledger after the stop: %+v %v", lg, err)
	}
	l.NoRefusals(t)
	mototest.VerifyAudit(t, w, caseID, 6)
}

// TestMotoStopNotDelivered: an EC2 task whose instance reaches ECS through
// the internet gateway, with no ECS endpoints: isolate-network's quarantine
// cuts the agent off (and says so); the strict layer then holds the stop as
// ECS does (desired STOPPED, last RUNNING, agentConnected false); the start
// leaves the step polling, and the check at the step's timeout is a
// StopNotDeliveredError, not OK.
func TestMotoStopNotDelivered(t *testing.T) {
	w, l := agentWorld(t)
	caseID := mototest.Unique("case-held")
	iso, err := mototest.Run(t, w, "isolate-network", isolate.New(w.Cfg, w.Env), w.Payload("isolate-network", "isolate", "EC2", caseID, false, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(iso.Outputs["residuals"]); !strings.Contains(string(b), "through the internet gateway, and the quarantine cuts that") {
		t.Errorf("isolation does not warn that it cut the agent: %s", b)
	}
	offset := time.Duration(0)
	h := &handler.Handler{ECS: ecs.NewFromConfig(w.Cfg), Now: func() time.Time { return time.Now().Add(offset) }}
	start, err := mototest.Run(t, w, "stop-task", h.Handle, w.Payload("stop-task", "stop", "EC2", caseID, false, nil, map[string]any{"mode": "start", "timeoutSeconds": 600}))
	if err != nil {
		t.Fatal(err)
	}
	if start.Outputs["done"] != false || start.Outputs["lastStatus"] != "RUNNING" || start.Outputs["desiredStatus"] != "STOPPED" {
		t.Fatalf("start: %q %v", start.Summary, start.Outputs)
	}
	check := func() (*contract.Result, error) {
		return mototest.Run(t, w, "stop-task", h.Handle, w.Payload("stop-task", "stop", "EC2", caseID, false, nil,
			map[string]any{"mode": "check", "timeoutSeconds": 600, "previous": start}))
	}
	res, err := check()
	if err != nil || res.Outputs["done"] != false || res.Outputs["agentConnected"] != false || !strings.Contains(res.Summary, "not connected") {
		t.Fatalf("check within the timeout: %v %q %v", err, res.Summary, res.Outputs)
	}
	offset = 11 * time.Minute
	if _, err := check(); contract.ErrorName(err) != contract.ErrStopNotDelivered {
		t.Fatalf("check at the timeout: %v; want StopNotDeliveredError", err)
	}
	if status, _ := task(t, l.Direct, w.ClusterArn, w.EC2TaskArn); status != "RUNNING" {
		t.Errorf("moto says %s: the held stop must not have reached it", status)
	}
	mototest.VerifyAudit(t, w, caseID, 8)
}

func countDenies(t *testing.T, l *stricttest.Layer, w *mototest.World) int {
	t.Helper()
	return len(denies(t, l, w))
}
