package handler_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/stricttest"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/ledger"
	"github.com/irflow/irflow/tasks/protect-instance/handler"
)

func TestMain(m *testing.M) { stricttest.Main(m) }

// world is the mototest world seeded through the strict layer, with an
// incidents table keyed by pk for the ledger, and a target group of the
// VPC holding the container instance.
func world(t *testing.T) (*mototest.World, *stricttest.Layer, string) {
	t.Helper()
	w, l := stricttest.SeedLedger(t)
	c := elb.NewFromConfig(w.Cfg)
	tg, err := c.CreateTargetGroup(context.Background(), &elb.CreateTargetGroupInput{Name: aws.String(mototest.Unique("tg")), Protocol: elbtypes.ProtocolEnumHttp,
		Port: aws.Int32(8080), VpcId: aws.String(w.VpcID), TargetType: elbtypes.TargetTypeEnumInstance})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(tg.TargetGroups[0].TargetGroupArn)
	if _, err := c.RegisterTargets(context.Background(), &elb.RegisterTargetsInput{TargetGroupArn: aws.String(arn),
		Targets: []elbtypes.TargetDescription{{Id: aws.String(w.InstanceID), Port: aws.Int32(8080)}}}); err != nil {
		t.Fatal(err)
	}
	return w, l, arn
}

func run(t *testing.T, w *mototest.World, caseID string, dry bool, extra map[string]any) (*contract.Result, error) {
	t.Helper()
	return mototest.Run(t, w, "protect-instance", handler.New(w.Cfg, w.Env), w.Payload("protect-instance", "protect", "EC2", caseID, dry, nil, extra))
}

// state is the instance's protection as moto holds it.
type state struct {
	termination, stop bool
	lifecycle         string
	registered        int
	ciStatus          string
}

func read(t *testing.T, w *mototest.World, l *stricttest.Layer, instanceID, tg string) state {
	t.Helper()
	ctx := context.Background()
	c := ec2.NewFromConfig(l.Direct)
	var s state
	for _, a := range []ec2types.InstanceAttributeName{ec2types.InstanceAttributeNameDisableApiTermination, ec2types.InstanceAttributeNameDisableApiStop} {
		out, err := c.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(instanceID), Attribute: a})
		if err != nil {
			t.Fatal(err)
		}
		if out.DisableApiTermination != nil {
			s.termination = aws.ToBool(out.DisableApiTermination.Value)
		}
		if out.DisableApiStop != nil {
			s.stop = aws.ToBool(out.DisableApiStop.Value)
		}
	}
	ai, err := autoscaling.NewFromConfig(l.Direct).DescribeAutoScalingInstances(ctx, &autoscaling.DescribeAutoScalingInstancesInput{InstanceIds: []string{instanceID}})
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range ai.AutoScalingInstances {
		s.lifecycle = aws.ToString(i.LifecycleState)
	}
	h, err := elb.NewFromConfig(l.Direct).DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range h.TargetHealthDescriptions {
		if aws.ToString(d.Target.Id) == instanceID && d.TargetHealth.State != elbtypes.TargetHealthStateEnumUnused {
			s.registered++
		}
	}
	ci, err := ecs.NewFromConfig(l.Direct).DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String(w.ClusterName), ContainerInstances: []string{w.ContainerInstanceArn}})
	if err != nil {
		t.Fatal(err)
	}
	s.ciStatus = aws.ToString(ci.ContainerInstances[0].Status)
	return s
}

// TestMotoProtectTwice: protections on, Standby keeping the group's
// desired capacity, out of the target group, drained, each recorded in the
// ledger; the second run changes nothing.
func TestMotoProtectTwice(t *testing.T) {
	w, l, tg := world(t)
	if got := read(t, w, l, w.InstanceID, tg); got != (state{lifecycle: "InService", registered: 1, ciStatus: "ACTIVE"}) {
		t.Fatalf("seeded world is already protected: %+v", got)
	}
	desired := func() int32 {
		g, err := autoscaling.NewFromConfig(l.Direct).DescribeAutoScalingGroups(context.Background(), &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{w.ASGName}})
		if err != nil || len(g.AutoScalingGroups) != 1 {
			t.Fatalf("group %s: %v", w.ASGName, err)
		}
		return aws.ToInt32(g.AutoScalingGroups[0].DesiredCapacity)
	}
	before := desired()
	caseID := mototest.Unique("case-prot")
	first, err := run(t, w, caseID, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := read(t, w, l, w.InstanceID, tg), (state{true, true, "Standby", 0, "DRAINING"}); got != want {
		t.Errorf("after the first run moto holds %+v; want %+v", got, want)
	}
	if after := desired(); after != before {
		t.Errorf("desired capacity %d -> %d; Standby must keep it", before, after)
	}
	lg, err := ledger.NewStore(w.Cfg, w.Env.IncidentsTable).Read(context.Background(), caseID)
	if err != nil || len(lg.Entries) != 5 {
		t.Fatalf("ledger %+v %v; want termination, stop, standby, target group, drain", lg, err)
	}
	var tgd ledger.TargetGroupData
	if e := lg.Find(ledger.TargetGroupID(tg, w.InstanceID, 8080)); e == nil || e.Decode(&tgd) != nil || tgd.Port != 8080 {
		t.Errorf("target group record %+v", lg.Entries)
	}
	second, err := run(t, w, caseID, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if u := second.Outputs["undo"].([]any); len(u) != 0 || first.Status != "OK" {
		t.Errorf("second run would undo %v; want nothing changed", u)
	}
	if lg2, _ := ledger.NewStore(w.Cfg, w.Env.IncidentsTable).Read(context.Background(), caseID); lg2.Version != lg.Version {
		t.Errorf("the second run wrote the ledger again")
	}
	l.NoRefusals(t)
	mototest.VerifyAudit(t, w, caseID, 4)
}

func TestMotoProtectDryRun(t *testing.T) {
	w, l, tg := world(t)
	caseID := mototest.Unique("case-prot-dry")
	res, err := run(t, w, caseID, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := read(t, w, l, w.InstanceID, tg); got != (state{lifecycle: "InService", registered: 1, ciStatus: "ACTIVE"}) || res.Status != contract.StatusDryRun {
		t.Errorf("dry run %s left %+v; want nothing changed", res.Status, got)
	}
	if lg, err := ledger.NewStore(w.Cfg, w.Env.IncidentsTable).Read(context.Background(), caseID); err != nil || len(lg.Entries) != 0 {
		t.Errorf("dry run wrote the ledger: %+v %v", lg, err)
	}
	mototest.VerifyAudit(t, w, caseID, 2)
}

// TestMotoInstanceOutsideAnyGroup protects a second instance that no Auto
// Scaling group holds.
func TestMotoInstanceOutsideAnyGroup(t *testing.T) {
	w, l, tg := world(t)
	out, err := ec2.NewFromConfig(w.Cfg).RunInstances(context.Background(), &ec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"),
		InstanceType: ec2types.InstanceTypeM6iLarge, MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(w.SubnetID)})
	if err != nil {
		t.Fatal(err)
	}
	other := aws.ToString(out.Instances[0].InstanceId)
	target := w.Target("EC2")
	target.InstanceID, target.AutoScalingGroup, target.ContainerInstanceArn = other, "", ""
	res, err := run(t, w, mototest.Unique("case-prot-noasg"), false, map[string]any{"target": target})
	if err != nil {
		t.Fatal(err)
	}
	var sb handler.Standby
	remarshal(t, res.Outputs["standby"], &sb)
	if sb.Changed || sb.Note == "" {
		t.Errorf("standby %+v; want skipped with a note", sb)
	}
	if got := read(t, w, l, other, tg); !got.termination || !got.stop || got.lifecycle != "" {
		t.Errorf("other instance %+v", got)
	}
}

func remarshal(t *testing.T, in, out any) {
	t.Helper()
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
}
