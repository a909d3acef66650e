package mototest

import (
	"testing"

	"github.com/irflow/irflow/tasks/contract"
)

func TestMain(m *testing.M) { Main(m) }

func TestSeed(t *testing.T) {
	w := Seed(t)
	if w.FargateTaskArn == "" || w.EC2TaskArn == "" || w.FargateENI == "" || w.ContainerInstanceArn == "" || len(w.VolumeIDs) == 0 {
		t.Fatalf("incomplete world: %+v", w)
	}
	t.Logf("cluster %s, fargate task %s (eni %s), ec2 task %s on %s", w.ClusterName, w.FargateTaskArn, w.FargateENI, w.EC2TaskArn, w.InstanceID)
}

func TestPayloadDecodes(t *testing.T) {
	w := Seed(t)
	if w.InstanceENI == "" {
		t.Error("no instance ENI")
	}
	for _, lt := range []string{"EC2", "FARGATE"} {
		b := w.Payload("stop-task", "stop", lt, "case-1", false, nil, nil)
		if _, err := contract.DecodePayload(b); err != nil {
			t.Errorf("%s payload rejected: %v", lt, err)
		}
	}
}
