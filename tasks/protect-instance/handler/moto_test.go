package handler_test

import (
	"context"
	"encoding/json"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/protect-instance/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

func TestMain(m *testing.M) { mototest.Main(m) }

func run(t *testing.T, w *mototest.World, caseID string, dry bool, with map[string]any, extra map[string]any) (*contract.Result, error) {
	t.Helper()
	rt := &taskrt.Runtime{Action: "protect-instance", Handle: handler.New(w.Cfg, w.Env), Audit: taskrt.NewChain(w.Cfg, w.Env), Log: taskrt.NewLogger(io.Discard)}
	out, err := rt.Invoke(context.Background(), w.Payload("protect-instance", "protect", "EC2", caseID, dry, with, extra))
	if err != nil {
		return nil, err
	}
	var res contract.Result
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	return &res, nil
}

// state is the instance's protection as moto holds it.
type state struct {
	termination, stop, scaleIn bool
	ciStatus                   string
}

func read(t *testing.T, w *mototest.World, instanceID string) state {
	t.Helper()
	ctx := context.Background()
	c := ec2.NewFromConfig(w.Cfg)
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
	ai, err := autoscaling.NewFromConfig(w.Cfg).DescribeAutoScalingInstances(ctx, &autoscaling.DescribeAutoScalingInstancesInput{InstanceIds: []string{instanceID}})
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range ai.AutoScalingInstances {
		s.scaleIn = aws.ToBool(i.ProtectedFromScaleIn)
	}
	ci, err := ecs.NewFromConfig(w.Cfg).DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String(w.ClusterName), ContainerInstances: []string{w.ContainerInstanceArn}})
	if err != nil {
		t.Fatal(err)
	}
	s.ciStatus = aws.ToString(ci.ContainerInstances[0].Status)
	return s
}

func TestProtectTwiceAgainstMoto(t *testing.T) {
	w := mototest.Seed(t)
	if got := read(t, w, w.InstanceID); got != (state{ciStatus: "ACTIVE"}) {
		t.Fatalf("seeded world is already protected: %+v", got)
	}
	first, err := run(t, w, "case-prot-1", false, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := read(t, w, w.InstanceID), (state{true, true, true, "DRAINING"}); got != want {
		t.Errorf("after the first run moto holds %+v; want %+v", got, want)
	}
	second, err := run(t, w, "case-prot-1", false, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"terminationProtection", "stopProtection", "asgProtection"} {
		var a, b handler.Setting
		remarshal(t, first.Outputs[k], &a)
		remarshal(t, second.Outputs[k], &b)
		if !a.Changed || a.Previous == nil || *a.Previous || b.Changed || b.Previous == nil || !*b.Previous {
			t.Errorf("%s: first %+v, second %+v; want changed once, from false", k, a, b)
		}
	}
	var asg handler.Setting
	remarshal(t, first.Outputs["asgProtection"], &asg)
	if asg.AutoScalingGroup != w.ASGName {
		t.Errorf("group %q; want %q", asg.AutoScalingGroup, w.ASGName)
	}
	if len(second.Outputs["undo"].([]any)) != 1 {
		t.Errorf("second run undo %v; want only the (repeated, harmless) drain", second.Outputs["undo"])
	}
	mototest.VerifyAudit(t, w, "case-prot-1", 4)
}

func TestDryRunAgainstMoto(t *testing.T) {
	w := mototest.Seed(t)
	res, err := run(t, w, "case-prot-dry", true, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := read(t, w, w.InstanceID); got != (state{ciStatus: "ACTIVE"}) || res.Status != contract.StatusDryRun {
		t.Errorf("dry run %s left %+v; want nothing changed", res.Status, got)
	}
}

// TestInstanceOutsideAnyGroupAgainstMoto protects a second instance that no
// Auto Scaling group holds.
func TestInstanceOutsideAnyGroupAgainstMoto(t *testing.T) {
	w := mototest.Seed(t)
	c := ec2.NewFromConfig(w.Cfg)
	out, err := c.RunInstances(context.Background(), &ec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"),
		InstanceType: ec2types.InstanceTypeM6iLarge, MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(w.SubnetID)})
	if err != nil {
		t.Fatal(err)
	}
	other := aws.ToString(out.Instances[0].InstanceId)
	target := w.Target("EC2")
	target.InstanceID, target.AutoScalingGroup, target.ContainerInstanceArn = other, "", ""
	res, err := run(t, w, "case-prot-noasg", false, nil, map[string]any{"target": target})
	if err != nil {
		t.Fatal(err)
	}
	var asg handler.Setting
	remarshal(t, res.Outputs["asgProtection"], &asg)
	if asg.Enabled || asg.Note == "" {
		t.Errorf("asg %+v; want skipped with a note", asg)
	}
	if got := read(t, w, other); !got.termination || !got.stop || got.scaleIn {
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
