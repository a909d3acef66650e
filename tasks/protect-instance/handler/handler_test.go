package handler

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
)

const (
	inst    = "i-0123456789abcdef0"
	ciArn   = "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/0123456789abcdef0123456789abcdef"
	cluster = "arn:aws:ecs:us-east-1:123456789012:cluster/prod"
)

type fakes struct {
	ec2 *fakeEC2
	asg *fakeASG
	ecs *fakeECS
}

func newTest() (*Handler, fakes) {
	f := fakes{ec2: &fakeEC2{attrs: map[string]bool{}}, asg: &fakeASG{group: "ecs-asg"}, ecs: &fakeECS{}}
	return &Handler{EC2: f.ec2, ASG: f.asg, ECS: f.ecs}, f
}

func payload(dry bool, with string) *contract.Payload {
	if with == "" {
		with = "{}"
	}
	return &contract.Payload{Action: "protect-instance", Step: "protect", With: json.RawMessage(with),
		Incident: &incident.Incident{CaseID: "case-2", DryRun: dry},
		Target: &incident.Target{LaunchType: "EC2", InstanceID: inst, ContainerInstanceArn: ciArn, ClusterArn: cluster,
			AutoScalingGroup: "ecs-asg", TaskArn: "arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef"}}
}

func TestProtectsEverything(t *testing.T) {
	h, f := newTest()
	res, err := h.Handle(context.Background(), payload(false, ""))
	if err != nil {
		t.Fatal(err)
	}
	if !f.ec2.attrs["disableApiTermination"] || !f.ec2.attrs["disableApiStop"] || len(f.ec2.modifies) != 2 {
		t.Errorf("attributes %v after %d modifies", f.ec2.attrs, len(f.ec2.modifies))
	}
	if !f.asg.protected || aws.ToString(f.asg.sets[0].AutoScalingGroupName) != "ecs-asg" {
		t.Errorf("scale-in protection not set on the group")
	}
	if len(f.ecs.updates) != 1 || f.ecs.updates[0].Status != "DRAINING" || aws.ToString(f.ecs.updates[0].Cluster) != cluster {
		t.Errorf("drain %+v", f.ecs.updates)
	}
	term := res.Outputs["terminationProtection"].(Setting)
	if term.Previous == nil || *term.Previous || !term.Changed {
		t.Errorf("termination %+v; want previous false, changed", term)
	}
	if undo := res.Outputs["undo"].([]string); len(undo) != 4 || !strings.Contains(undo[0], "--no-disable-api-termination") {
		t.Errorf("undo %v", undo)
	}
	if want := "protected " + inst + ": termination protection, stop protection, scale-in protection, DRAINING"; res.Summary != want {
		t.Errorf("summary %q; want %q", res.Summary, want)
	}
	if _, ok := res.Outputs["warning"]; ok {
		t.Errorf("a standalone task got the service warning")
	}
}

func TestSecondRunChangesNothing(t *testing.T) {
	h, f := newTest()
	f.ec2.attrs = map[string]bool{"disableApiTermination": true, "disableApiStop": true}
	f.asg.protected = true
	res, err := h.Handle(context.Background(), payload(false, ""))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.ec2.modifies) != 0 || len(f.asg.sets) != 0 {
		t.Errorf("%d modifies, %d sets on an instance already protected", len(f.ec2.modifies), len(f.asg.sets))
	}
	if stop := res.Outputs["stopProtection"].(Setting); stop.Changed || !*stop.Previous {
		t.Errorf("stop %+v", stop)
	}
	if !strings.Contains(res.Summary, "(already on: termination protection, stop protection, scale-in protection)") {
		t.Errorf("summary %q", res.Summary)
	}
}

func TestFlagsOffTouchNothing(t *testing.T) {
	h, f := newTest()
	res, err := h.Handle(context.Background(), payload(false, `{"terminationProtection":false,"stopProtection":false,"asgProtection":false,"drain":false}`))
	if err != nil {
		t.Fatal(err)
	}
	if f.ec2.describes+len(f.ec2.modifies)+len(f.asg.sets)+len(f.ecs.updates) != 0 {
		t.Errorf("calls with every flag off")
	}
	if res.Summary != "protected "+inst+": nothing to change" {
		t.Errorf("summary %q", res.Summary)
	}
}

func TestInstanceOutsideAnyGroup(t *testing.T) {
	h, f := newTest()
	f.asg.group = ""
	res, err := h.Handle(context.Background(), payload(false, ""))
	if err != nil {
		t.Fatal(err)
	}
	asg := res.Outputs["asgProtection"].(Setting)
	if len(f.asg.sets) != 0 || asg.Enabled || !strings.Contains(asg.Note, "has left Auto Scaling group ecs-asg") {
		t.Errorf("asg %+v, %d sets", asg, len(f.asg.sets))
	}
	if !strings.HasSuffix(res.Summary, "; not in an Auto Scaling group") {
		t.Errorf("summary %q", res.Summary)
	}
}

func TestDryRunReadsOnly(t *testing.T) {
	h, f := newTest()
	res, err := h.Handle(context.Background(), payload(true, ""))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.ec2.modifies)+len(f.asg.sets)+len(f.ecs.updates) != 0 {
		t.Errorf("dry run changed something")
	}
	if res.Status != contract.StatusDryRun || !strings.HasPrefix(res.Summary, "would protect "+inst+": termination protection") {
		t.Errorf("dry run %s %q", res.Status, res.Summary)
	}
	if term := res.Outputs["terminationProtection"].(Setting); !term.Changed || *term.Previous {
		t.Errorf("dry run termination %+v; want what would change", term)
	}
}

func TestServiceTaskWarning(t *testing.T) {
	h, _ := newTest()
	p := payload(false, "")
	p.Target.Group, p.Target.Service = "service:payments", "payments"
	res, err := h.Handle(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if w, _ := res.Outputs["warning"].(string); !strings.Contains(w, "stops and replaces") {
		t.Errorf("warning %q", w)
	}
}

func TestErrors(t *testing.T) {
	fargate := payload(false, "")
	fargate.Target = &incident.Target{LaunchType: "FARGATE", TaskArn: "arn:aws:ecs:us-east-1:123456789012:task/prod/x"}
	tests := []struct {
		name  string
		p     *contract.Payload
		setup func(f fakes)
		want  string
	}{
		{"fargate", fargate, nil, "PreconditionFailedError"},
		{"unknown param", payload(false, `{"terminate":true}`), nil, "InvalidInputError"},
		{"describe throttled", payload(false, ""), func(f fakes) { f.ec2.descErr = apiErr{"RequestLimitExceeded"} }, "RetryableError"},
		{"modify denied", payload(false, ""), func(f fakes) { f.ec2.modErr = apiErr{"UnauthorizedOperation"} }, "PreconditionFailedError"},
		{"instance gone", payload(false, ""), func(f fakes) { f.ec2.descErr = apiErr{"InvalidInstanceID.NotFound"} }, "TargetNotFoundError"},
		{"container instance missing", payload(false, ""), func(f fakes) { f.ecs.failure = "MISSING" }, "TargetNotFoundError"},
		{"container instance refused", payload(false, ""), func(f fakes) { f.ecs.failure = "INACTIVE" }, "PreconditionFailedError"},
		{"cluster gone", payload(false, ""), func(f fakes) { f.ecs.err = apiErr{"ClusterNotFoundException"} }, "TargetNotFoundError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, f := newTest()
			if tt.setup != nil {
				tt.setup(f)
			}
			_, err := h.Handle(context.Background(), tt.p)
			if contract.ErrorName(err) != tt.want {
				t.Errorf("err = %v (%s); want %s", err, contract.ErrorName(err), tt.want)
			}
		})
	}
}

func TestNoContainerInstanceSkipsTheDrain(t *testing.T) {
	h, f := newTest()
	p := payload(false, "")
	p.Target.ContainerInstanceArn = ""
	res, err := h.Handle(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if d := res.Outputs["drain"].(Drain); len(f.ecs.updates) != 0 || !strings.Contains(d.Note, "nothing to drain") {
		t.Errorf("drain %+v, %d updates", d, len(f.ecs.updates))
	}
}
