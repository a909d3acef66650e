package handler

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/taskrt"
)

// withCorrelate is resolvePayload with with.correlate by service.
func withCorrelate(t *testing.T, payload []byte, window int) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatal(err)
	}
	m["with"] = map[string]any{"lockTtlMinutes": 1440, "correlate": map[string]any{"by": "service", "windowMinutes": window}}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCorrelateAgainstMoto: with triggers.correlate by service, the first
// finding of the service opens the case (twice alike: a retry keeps it);
// a finding on another task of that service joins it (CorrelatedError
// naming the first case, its own lock and case id given back); a task of
// no service correlates with nothing; without correlate each task has its
// own case.
func TestCorrelateAgainstMoto(t *testing.T) {
	w := mototest.Seed(t)
	rt := runtimeFor(w)
	other, err := ecs.NewFromConfig(w.Cfg).RunTask(context.Background(), &ecs.RunTaskInput{
		Cluster: aws.String(w.ClusterName), TaskDefinition: aws.String(w.FargateTaskDef), LaunchType: ecstypes.LaunchTypeFargate,
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
			Subnets: []string{w.SubnetID}, SecurityGroups: []string{w.AppSG}}},
		Group: aws.String("service:" + w.ServiceName), StartedBy: aws.String("ecs-svc/1234567890"),
	})
	if err != nil || len(other.Tasks) != 1 {
		t.Fatalf("second task of the service: %v", err)
	}
	second := aws.ToString(other.Tasks[0].TaskArn)
	first := w.Target("FARGATE").TaskArn

	caseID := mototest.Unique("case-corr")
	payload := withCorrelate(t, resolvePayload(t, w, first, caseID, false), 10)
	for run := 1; run <= 2; run++ {
		if r, err := invoke(t, rt, payload); err != nil || r.Status != contract.StatusOK {
			t.Fatalf("first finding, run %d: %v %+v", run, err, r)
		}
	}

	joinID := mototest.Unique("case-join")
	joinPayload := withCorrelate(t, resolvePayload(t, w, second, joinID, false), 10)
	for run := 1; run <= 2; run++ { // the second is Step Functions retrying the state
		_, err = invoke(t, rt, joinPayload)
		var co *contract.CorrelatedError
		if !errors.As(err, &co) || co.ExistingCase != caseID || co.Key != incident.CorrelationKey(w.Target("FARGATE").ClusterArn, w.ServiceName) {
			t.Fatalf("second task of the service, run %d: %v; want CorrelatedError naming case %s", run, err, caseID)
		}
	}
	// A finding on the open case's own task (whose lock the case holds)
	// joins it too, instead of ending a bare DUPLICATE.
	again := mototest.Unique("case-again")
	_, err = invoke(t, rt, withCorrelate(t, resolvePayload(t, w, first, again, false), 10))
	if co := (*contract.CorrelatedError)(nil); !errors.As(err, &co) || co.ExistingCase != caseID {
		t.Fatalf("another finding on the case's own task: %v; want CorrelatedError naming case %s", err, caseID)
	}
	// The open case's chain records each joining finding, once, and verifies.
	recs, err := taskrt.NewChain(w.Cfg, w.Env).Read(context.Background(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	if err := audit.Verify(recs); err != nil {
		t.Errorf("case %s: %v", caseID, err)
	}
	var joined []audit.Record
	for _, r := range recs {
		if r.Event == EventFindingJoined {
			joined = append(joined, r)
		}
	}
	if len(joined) != 2 || !strings.Contains(joined[0].Detail, second) || !strings.Contains(joined[0].Summary, "a console request") ||
		joined[0].Status != "CORRELATED" || !strings.Contains(joined[1].Detail, first) || !strings.Contains(joined[1].Detail, again) {
		t.Errorf("case %s: %d finding-joined records %+v; want one for task %s, then one for task %s", caseID, len(joined), joined, second, first)
	}
	if it := lockItem(t, w, second); it != nil && attr(it, "caseId") == joinID && attr(it, "releasedAt") == "" {
		t.Errorf("the joining finding kept its task lock: %v", it)
	}

	// The EC2 task belongs to no service: nothing to correlate with.
	if _, err := invoke(t, rt, withCorrelate(t, resolvePayload(t, w, w.Target("EC2").TaskArn, mototest.Unique("case-solo"), false), 10)); err != nil {
		t.Errorf("a standalone task: %v", err)
	}

	// The joining finding's case id was given back: without correlate it
	// opens its own case for the second task.
	if _, err := invoke(t, rt, resolvePayload(t, w, second, joinID, false)); err != nil {
		t.Errorf("without correlate, the second task: %v; want its own case", err)
	}
}
