package handler_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/stricttest"
	"github.com/irflow/irflow/tasks/contract"
	isolate "github.com/irflow/irflow/tasks/isolate-network/handler"
	protect "github.com/irflow/irflow/tasks/protect-instance/handler"
	"github.com/irflow/irflow/tasks/release-containment/handler"
	revoke "github.com/irflow/irflow/tasks/revoke-task-role-sessions/handler"
	scale "github.com/irflow/irflow/tasks/scale-service/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

func TestMain(m *testing.M) { stricttest.Main(m) }

// contain runs the real containment handlers of a case on the world:
// isolate both tasks (the EC2 task's instance ENI swapped to the
// quarantine group, the Fargate task's addresses denied in the ACLs),
// protect the instance, revoke the task role's sessions for the EC2 task,
// and scale the Fargate task's service to zero. It returns the target
// group protect-instance took the instance out of.
func contain(t *testing.T, w *mototest.World, caseID string) string {
	t.Helper()
	ctx := context.Background()
	c := elb.NewFromConfig(w.Cfg)
	tg, err := c.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String(mototest.Unique("tg")), Protocol: elbtypes.ProtocolEnumHttp,
		Port: aws.Int32(8080), VpcId: aws.String(w.VpcID), TargetType: elbtypes.TargetTypeEnumInstance})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(tg.TargetGroups[0].TargetGroupArn)
	if _, err := c.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(arn),
		Targets: []elbtypes.TargetDescription{{Id: aws.String(w.InstanceID), Port: aws.Int32(8080)}}}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		action, step, lt string
		h                taskrt.HandlerFunc
	}{
		{"isolate-network", "isolate", "EC2", isolate.New(w.Cfg, w.Env)},
		{"isolate-network", "isolate-fargate", "FARGATE", isolate.New(w.Cfg, w.Env)},
		{"protect-instance", "protect", "EC2", protect.New(w.Cfg, w.Env)},
		{"revoke-task-role-sessions", "revoke", "EC2", revoke.New(w.Cfg, w.Env)},
		{"scale-service", "scale", "FARGATE", scale.New(w.Cfg, w.Env)},
	}
	for _, s := range steps {
		r, err := mototest.Run(t, w, s.action, s.h, w.Payload(s.action, s.step, s.lt, caseID, false, nil, nil))
		if err != nil || r.Status != contract.StatusOK {
			t.Fatalf("%s: %v %+v", s.step, err, r)
		}
	}
	return arn
}

func release(t *testing.T, w *mototest.World, caseID string, dry bool) *contract.Result {
	t.Helper()
	r, err := mototest.Run(t, w, "release-containment", handler.New(w.Cfg, w.Env), w.Payload("release-containment", "release", "EC2", caseID, dry, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// restored reads the world back from moto past the strict layer and lists
// what is not as it was before containment.
func restored(t *testing.T, w *mototest.World, l *stricttest.Layer, tg string, wantDesired int32) []string {
	t.Helper()
	ctx := context.Background()
	var bad []string
	e := ec2.NewFromConfig(l.Direct)
	// The ENI's groups as AWS shows them: through the strict layer (moto
	// adds the instance's launch groups to its primary ENI's: eni_groups.go).
	ni, err := ec2.NewFromConfig(w.Cfg).DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{w.InstanceENI}})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range ni.NetworkInterfaces[0].Groups {
		if aws.ToString(g.GroupId) != w.AppSG {
			bad = append(bad, "instance ENI groups "+aws.ToString(g.GroupId))
		}
	}
	acls, err := e.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{w.VpcID}}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range acls.NetworkAcls {
		for _, en := range a.Entries {
			if en.RuleAction == ec2types.RuleActionDeny && aws.ToInt32(en.RuleNumber) != 32767 {
				bad = append(bad, "deny entry in "+aws.ToString(a.NetworkAclId)+" "+aws.ToString(en.CidrBlock))
			}
		}
	}
	sgs, err := e.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{w.VpcID}}, {Name: aws.String("tag-key"), Values: []string{"irflow:quarantine"}}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range sgs.SecurityGroups {
		bad = append(bad, "irflow group "+aws.ToString(g.GroupName)+" left")
	}
	pols, err := iam.NewFromConfig(l.Direct).ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(w.TaskRoleName)})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pols.PolicyNames {
		bad = append(bad, "inline policy "+p+" on the task role")
	}
	for _, a := range []ec2types.InstanceAttributeName{ec2types.InstanceAttributeNameDisableApiTermination, ec2types.InstanceAttributeNameDisableApiStop} {
		out, err := e.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(w.InstanceID), Attribute: a})
		if err != nil {
			t.Fatal(err)
		}
		if (out.DisableApiTermination != nil && aws.ToBool(out.DisableApiTermination.Value)) || (out.DisableApiStop != nil && aws.ToBool(out.DisableApiStop.Value)) {
			bad = append(bad, string(a)+" still on")
		}
	}
	ai, err := autoscaling.NewFromConfig(l.Direct).DescribeAutoScalingInstances(ctx, &autoscaling.DescribeAutoScalingInstancesInput{InstanceIds: []string{w.InstanceID}})
	if err != nil {
		t.Fatal(err)
	}
	if st := aws.ToString(ai.AutoScalingInstances[0].LifecycleState); st != "InService" {
		bad = append(bad, "instance "+st)
	}
	h, err := elb.NewFromConfig(l.Direct).DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.TargetHealthDescriptions) != 1 {
		bad = append(bad, "instance not in its target group")
	}
	c := ecs.NewFromConfig(l.Direct)
	ci, err := c.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String(w.ClusterName), ContainerInstances: []string{w.ContainerInstanceArn}})
	if err != nil {
		t.Fatal(err)
	}
	if st := aws.ToString(ci.ContainerInstances[0].Status); st != "ACTIVE" {
		bad = append(bad, "container instance "+st)
	}
	svc, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(w.ClusterName), Services: []string{w.ServiceName}})
	if err != nil {
		t.Fatal(err)
	}
	if n := svc.Services[0].DesiredCount; n != wantDesired {
		bad = append(bad, "service desired count "+string(rune('0'+n)))
	}
	return bad
}

func desired(t *testing.T, w *mototest.World) int32 {
	t.Helper()
	svc, err := ecs.NewFromConfig(w.Cfg).DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String(w.ClusterName), Services: []string{w.ServiceName}})
	if err != nil {
		t.Fatal(err)
	}
	return svc.Services[0].DesiredCount
}

// TestMotoReleaseTwice: contain with the real handlers, release, read the
// world back from moto: original groups, no irflow deny or group, no
// irflow policy, the instance in service and ACTIVE, the service's count
// back. A dry run before changes nothing; a second release changes
// nothing and says "already released".
func TestMotoReleaseTwice(t *testing.T) {
	w, l := stricttest.SeedLedger(t)
	before := desired(t, w)
	caseID := mototest.Unique("case-rel")
	tg := contain(t, w, caseID)
	if bad := restored(t, w, l, tg, before); len(bad) < 6 {
		t.Fatalf("containment left too much in place: only %v differ", bad)
	}
	dry := release(t, w, caseID, true)
	if dry.Status != contract.StatusDryRun || dry.Outputs["releaseStatus"] != handler.Released || desired(t, w) != 0 {
		t.Errorf("dry run: %s %v %q", dry.Status, dry.Outputs["releaseStatus"], dry.Summary)
	}
	first := release(t, w, caseID, false)
	if first.Outputs["releaseStatus"] != handler.Released || first.Outputs["refused"] != float64(0) {
		t.Errorf("first release: %v %s", first.Outputs["releaseStatus"], first.Summary)
	}
	if bad := restored(t, w, l, tg, before); len(bad) > 0 {
		t.Errorf("after release moto still holds: %s", strings.Join(bad, "; "))
	}
	second := release(t, w, caseID, false)
	if second.Outputs["released"] != float64(0) || !strings.HasPrefix(second.Summary, "already released") || second.Outputs["releaseStatus"] != handler.Released {
		t.Errorf("second release: %v %q", second.Outputs["releaseStatus"], second.Summary)
	}
	if bad := restored(t, w, l, tg, before); len(bad) > 0 {
		t.Errorf("after the second release moto holds: %s", strings.Join(bad, "; "))
	}
	l.NoRefusals(t)
	mototest.VerifyAudit(t, w, caseID, 2*(5+3))
}

// TestMotoReleaseHandChangedENI: someone put other groups on the isolated
// instance ENI: that entry is refused with the reason, everything else is
// released, PARTIALLY_RELEASED.
func TestMotoReleaseHandChangedENI(t *testing.T) {
	w, l := stricttest.SeedLedger(t)
	before := desired(t, w)
	caseID := mototest.Unique("case-relp")
	tg := contain(t, w, caseID)
	ctx := context.Background()
	e := ec2.NewFromConfig(l.Direct)
	sg, err := e.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(mototest.Unique("hand")), Description: aws.String("by hand"), VpcId: aws.String(w.VpcID)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(w.InstanceENI), Groups: []string{aws.ToString(sg.GroupId)}}); err != nil {
		t.Fatal(err)
	}
	r := release(t, w, caseID, false)
	if r.Outputs["releaseStatus"] != handler.PartiallyReleased || r.Outputs["refused"] != float64(1) ||
		!strings.Contains(r.Summary, "ENI "+w.InstanceENI+" has groups ") || !strings.Contains(r.Summary, aws.ToString(sg.GroupId)) ||
		!strings.Contains(r.Summary, "changed since isolation") {
		t.Errorf("release: %v %q", r.Outputs["releaseStatus"], r.Summary)
	}
	bad := restored(t, w, l, tg, before)
	if len(bad) != 1 || !strings.HasPrefix(bad[0], "instance ENI groups ") || !strings.Contains(bad[0], aws.ToString(sg.GroupId)) {
		t.Errorf("after a partial release moto differs in %v; want only the hand-changed ENI", bad)
	}
	again := release(t, w, caseID, false)
	if again.Outputs["releaseStatus"] != handler.PartiallyReleased || again.Outputs["released"] != float64(0) {
		t.Errorf("second release: %v %q", again.Outputs["releaseStatus"], again.Summary)
	}
}
