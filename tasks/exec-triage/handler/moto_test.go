package handler

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/strict"
	"github.com/irflow/irflow/internal/stricttest"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/ecsexec/fakeagent"
	"github.com/irflow/irflow/tasks/ecsexec/triage/triagetest"
)

func TestMain(m *testing.M) { stricttest.Main(m) }

// strictWorld is a moto world behind the AWS-strict layer, whose ECS Exec
// sessions run in a fake container through a fake agent, and a Fargate
// task started through the layer with enableExecuteCommand.
type strictWorld struct {
	*mototest.World
	execTask string
	opened   atomic.Int32
}

func newStrictWorld(t *testing.T) *strictWorld {
	t.Helper()
	if !strict.Enabled() {
		t.Skip("IRFLOW_AWS_STRICT=0: these tests are about the strict layer's ExecuteCommand")
	}
	w := &strictWorld{World: mototest.Seed(t)}
	root := fakeRoot(t, triagetest.Debian)
	agent := root.Agent(fakeagent.SkipHandshake) // ECS Exec without a KMS key: no handshake
	t.Cleanup(agent.Close)
	backend := strict.ExecFunc(func(_ context.Context, req strict.ExecRequest) (strict.ExecSession, error) {
		w.opened.Add(1)
		s, err := agent.NewSession(req.Command)
		return strict.ExecSession{SessionID: s.SessionID, StreamURL: s.StreamURL, TokenValue: s.Token}, err
	})
	_, url, stop, err := strict.StartWith(strict.Config{Backend: mototest.Endpoint(t), Exec: backend})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	w.Cfg = mototest.ConfigFor(url)
	run, err := ecs.NewFromConfig(w.Cfg).RunTask(context.Background(), &ecs.RunTaskInput{Cluster: aws.String(w.ClusterName),
		TaskDefinition: aws.String(w.FargateTaskDef), LaunchType: ecstypes.LaunchTypeFargate, EnableExecuteCommand: true,
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
			Subnets: []string{w.SubnetID}, SecurityGroups: []string{w.AppSG}}}})
	if err != nil || len(run.Tasks) != 1 {
		t.Fatalf("RunTask with enableExecuteCommand: %v", err)
	}
	w.execTask = aws.ToString(run.Tasks[0].TaskArn)
	return w
}

// payload is a FARGATE payload for task with the example finding's
// process (in the fake container: the miner).
func (w *strictWorld) payload(t *testing.T, task, caseID string, dryRun bool) []byte {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal(w.Payload("exec-triage", "triage", "FARGATE", caseID, dryRun, nil, nil), &p); err != nil {
		t.Fatal(err)
	}
	inc := w.Incident("FARGATE", caseID, dryRun)
	inc.TaskArn, inc.Finding = task, minerFinding()
	tg := w.Target("FARGATE")
	tg.TaskArn = task
	p["incident"], p["target"] = inc, tg
	b, _ := json.Marshal(p)
	return b
}

// TestMotoTriageThroughTheStrictLayer: the exec-enabled task is triaged
// (twice: two snapshots side by side, every artifact's hash matching its
// stored bytes); the task started without ECS Exec is SKIPPED with ECS's
// refusal as the strict layer gives it (twice); a dry run opens no session.
func TestMotoTriageThroughTheStrictLayer(t *testing.T) {
	w := newStrictWorld(t)
	h := New(w.Cfg, w.Env)

	t.Run("exec enabled", func(t *testing.T) {
		caseID := mototest.Unique("case")
		var runs []string
		total := 0
		for i := 1; i <= 2; i++ {
			res, err := mototest.Run(t, w.World, "exec-triage", h, w.payload(t, w.execTask, caseID, false))
			if err != nil {
				t.Fatalf("run %d: %v", i, err)
			}
			if res.Status != contract.StatusOK || len(res.Evidence) < 3 || !strings.Contains(res.Summary, "1 binary copied") {
				t.Fatalf("run %d: %s %q with %d artifacts", i, res.Status, res.Summary, len(res.Evidence))
			}
			runs = append(runs, res.Outputs["runId"].(string))
			total += len(res.Evidence)
			stored := mototest.StoredEvidence(t, w.World, caseID, res.Evidence)
			if len(stored) != total {
				t.Errorf("run %d: %d objects stored; want %d: a second triage must not overwrite the first", i, len(stored), total)
			}
		}
		if runs[0] == runs[1] {
			t.Errorf("both runs are %s", runs[0])
		}
		mototest.VerifyAudit(t, w.World, caseID, 4)
	})

	t.Run("exec not enabled", func(t *testing.T) {
		caseID := mototest.Unique("case")
		for i := 1; i <= 2; i++ {
			res, err := mototest.Run(t, w.World, "exec-triage", h, w.payload(t, w.FargateTaskArn, caseID, false))
			if err != nil {
				t.Fatalf("run %d: %v", i, err)
			}
			// DescribeTasks says enableExecuteCommand is false: irflow
			// does not ask ECS, which would refuse (the strict layer does).
			want := "the task was not started with enableExecuteCommand"
			if res.Status != contract.StatusSkipped || !strings.Contains(res.Summary, want) {
				t.Errorf("run %d: %s %q; want SKIPPED saying the task runs without ECS Exec", i, res.Status, res.Summary)
			}
		}
		if n := len(mototest.EvidenceObjects(t, w.World, caseID)); n != 0 {
			t.Errorf("%d objects stored for a skipped triage", n)
		}
	})

	t.Run("dry run", func(t *testing.T) {
		before := w.opened.Load()
		res, err := mototest.Run(t, w.World, "exec-triage", h, w.payload(t, w.execTask, mototest.Unique("case"), true))
		if err != nil || res.Status != contract.StatusDryRun {
			t.Fatalf("%v %+v", err, res)
		}
		if w.opened.Load() != before {
			t.Error("a dry run opened an ECS Exec session")
		}
	})
}
