package worlds

import (
	"context"
	"errors"
	"testing"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/stricttest"
)

func TestMain(m *testing.M) { stricttest.Main(m) }

// TestBuildEveryWorld seeds each world in moto and checks the shape its
// users rely on: the target, its neighbours, its flows, its agents.
func TestBuildEveryWorld(t *testing.T) {
	// Seeded through the strict layer as the bench does; what AWS does on
	// its own (ECS giving a task a public address) goes to moto directly.
	cfg, direct := mototest.Config(t), mototest.ConfigFor(mototest.DirectEndpoint(t))
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			w, err := Build(context.Background(), cfg, direct, name)
			if err != nil {
				t.Fatal(err)
			}
			tg := w.Target
			if tg.Arn == "" || tg.Role != "target" {
				t.Fatalf("target %+v", tg)
			}
			if (tg.NetworkMode == "awsvpc") != (tg.ENI != "") {
				t.Errorf("target %s mode %s has ENI %q", tg.Arn, tg.NetworkMode, tg.ENI)
			}
			ec2 := tg.LaunchType == "EC2"
			if ec2 != (len(w.Agents) == 1) || ec2 != (tg.InstanceID != "") {
				t.Errorf("%s target: %d agents, instance %q", tg.LaunchType, len(w.Agents), tg.InstanceID)
			}
			for _, f := range []string{"c2-session", "lb-inbound", "peer-same-subnet", "new-outbound"} {
				if w.Flow(f) == nil {
					t.Errorf("no flow %s", f)
				}
			}
			if w.ExecEnabled != (name == "fargate-exec") {
				t.Errorf("exec enabled %v", w.ExecEnabled)
			}
			if got := len(w.TaskArns()); got < 2 {
				t.Errorf("%d tasks; want the target and a peer at least", got)
			}
		})
	}
}

func TestUnknownWorld(t *testing.T) {
	_, err := Build(context.Background(), mototest.Config(t), mototest.Config(t), "fargat")
	var u *UnknownError
	if !errors.As(err, &u) || u.Name != "fargat" {
		t.Fatalf("got %v", err)
	}
}
