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
			if ec2 != (len(w.Agents) == len(w.Instances) && len(w.Agents) > 0) || ec2 != (tg.InstanceID != "") {
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

// TestMemberWorldNames: an organization world is one case per base world
// in its member account; Build and Describe know each, Names (the
// single-account containment matrix) none.
func TestMemberWorldNames(t *testing.T) {
	if got := Cases("member-account"); len(got) != 2 || got[0] != "member-account/fargate" || got[1] != "member-account/ec2-bridge" {
		t.Errorf("Cases(member-account) = %v", got)
	}
	if got := Cases("fargate"); len(got) != 1 || got[0] != "fargate" {
		t.Errorf("Cases(fargate) = %v", got)
	}
	for _, n := range []string{"member-account", "member-account/ec2-bridge", "member-no-stack/fargate"} {
		if !InMemberAccount(n) || Describe(n) == "" {
			t.Errorf("%s: in a member account %v, described %q", n, InMemberAccount(n), Describe(n))
		}
	}
	for _, n := range []string{"fargate", "member-account/nope", "member-x"} {
		if InMemberAccount(n) {
			t.Errorf("%s is not an organization world", n)
		}
	}
	for _, n := range Names() {
		if InMemberAccount(n) {
			t.Errorf("Names lists organization world %s", n)
		}
	}
}

// TestStormWorld: the storm's two services share the cluster and both
// hosts; every compromised task runs the bad digest's revision, the clean
// ones the clean image, each task with its own ENI; the compromised
// family's earlier revision is pinned to the good digest.
func TestStormWorld(t *testing.T) {
	cfg, direct := mototest.Config(t), mototest.ConfigFor(mototest.DirectEndpoint(t))
	w, err := Build(context.Background(), cfg, direct, "storm")
	if err != nil {
		t.Fatal(err)
	}
	s := w.Storm
	if s == nil || len(s.Compromised) != StormCompromisedTasks || len(s.Clean) != StormCleanTasks || w.Target.Arn != s.Compromised[0].Arn {
		t.Fatalf("storm %+v", s)
	}
	if len(w.Instances) != 2 {
		t.Fatalf("%d hosts; want 2", len(w.Instances))
	}
	hosts := map[string]map[string]int{} // service -> instance -> tasks
	enis := map[string]bool{}
	for _, tk := range append(append([]Task{}, s.Compromised...), s.Clean...) {
		if hosts[tk.ServiceName] == nil {
			hosts[tk.ServiceName] = map[string]int{}
		}
		hosts[tk.ServiceName][tk.InstanceID]++
		if tk.ENI == "" || enis[tk.ENI] {
			t.Errorf("task %s ENI %q (shared or none)", tk.Arn, tk.ENI)
		}
		enis[tk.ENI] = true
	}
	for svc, on := range hosts {
		if len(on) != 2 {
			t.Errorf("service %s runs on %d hosts; want both: %v", svc, len(on), on)
		}
	}
	for _, tk := range s.Compromised {
		if tk.TaskDefinitionArn != s.BadRevision || tk.Image != RepoCheckout+"@"+DigestCheckoutBad {
			t.Errorf("compromised task %s: %s %s", tk.Arn, tk.TaskDefinitionArn, tk.Image)
		}
	}
	if s.GoodRevision == s.BadRevision || DigestCheckoutBad == DigestCheckoutGood {
		t.Errorf("revisions %s %s", s.GoodRevision, s.BadRevision)
	}
	if got := len(s.Flows); got != 2*(StormCompromisedTasks+StormCleanTasks) {
		t.Errorf("%d storm flows", got)
	}
}
