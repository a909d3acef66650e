package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/tasks/catalog"
	"github.com/irflow/irflow/tasks/contract"
)

// TestDryRunLeavesTheWorldUnchanged runs every mutating action with
// dryRun: true, through the task runtime as its Lambda does, on both
// launch types it supports, against a seeded moto world, and compares a
// snapshot of everything an action could change before and after: ECS
// tasks, services and container instances (status, desired count, tags),
// EC2 security groups and their rules, ENI groups, instance protection
// attributes, snapshots, flow logs and tags, the task role's inline
// policies, Auto Scaling scale-in protection and SSM commands.
func TestDryRunLeavesTheWorldUnchanged(t *testing.T) {
	w := mototest.Seed(t)
	ctx := context.Background()
	addSSMEndpoints(t, w)
	env := w.Env
	env.AVMLURL = "https://tools.example.com/avml"
	env.AVMLSha256 = strings.Repeat("ab", 32)
	logOutput = io.Discard
	hs := Handlers(ctx, w.Cfg, env)
	before := snapshotWorld(t, w)
	ran := 0
	for _, a := range catalog.All() {
		if !a.Mutating {
			continue
		}
		for _, lt := range a.LaunchTypes {
			if (a.Name == "scale-service" || a.Name == "pin-service") && lt == catalog.EC2 {
				// The seeded EC2 task is standalone: scale-service and
				// pin-service refuse it with PreconditionFailed before any
				// call (their own tests cover that); the Fargate task is a
				// service's.
				continue
			}
			with := map[string]any{}
			extra := map[string]any{}
			switch a.Name {
			case "isolate-network":
				with["allowSsm"] = lt == catalog.EC2 // both variants of the plan
			case "capture-traffic":
				with["mode"] = "tcpdump"
			case "pin-service":
				// The seeded service has one revision, its image by tag: no
				// rollback target, so the fallback is what a dry run plans.
				with["fallback"] = "scale-to-zero"
			}
			if a.Async {
				extra["mode"] = "start"
				extra["timeoutSeconds"] = 3600
			}
			caseID := mototest.Unique("dry")
			out, err := hs[a.Name](ctx, w.Payload(a.Name, "dry", lt, caseID, true, with, extra))
			if err != nil {
				t.Errorf("%s on %s, dry run: %v", a.Name, lt, err)
				continue
			}
			var res contract.Result
			if err := json.Unmarshal(out, &res); err != nil || res.Status != contract.StatusDryRun && res.Status != contract.StatusSkipped {
				t.Errorf("%s on %s, dry run: status %q (%s)", a.Name, lt, res.Status, out)
			}
			ran++
		}
	}
	if ran < 12 {
		t.Fatalf("only %d dry runs", ran)
	}
	after := snapshotWorld(t, w)
	for _, k := range slices.Sorted(maps.Keys(union(before, after))) {
		if before[k] != after[k] {
			t.Errorf("dry runs changed %s:\nbefore: %s\nafter:  %s", k, before[k], after[k])
		}
	}
}

// addSSMEndpoints gives the world's VPC the endpoints isolate-network's
// allowSsm plan needs, so the dry run plans it fully.
func addSSMEndpoints(t *testing.T, w *mototest.World) {
	t.Helper()
	c := ec2.NewFromConfig(w.Cfg)
	for _, svc := range []string{"ssm", "ssmmessages", "ec2messages"} {
		if _, err := c.CreateVpcEndpoint(context.Background(), &ec2.CreateVpcEndpointInput{VpcId: aws.String(w.VpcID),
			ServiceName: aws.String("com.amazonaws.us-east-1." + svc), VpcEndpointType: ec2types.VpcEndpointTypeInterface,
			SubnetIds: []string{w.SubnetID}, PrivateDnsEnabled: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
	}
}

// snapshotWorld reads everything a mutating action could change, as text
// by resource.
func snapshotWorld(t *testing.T, w *mototest.World) map[string]string {
	t.Helper()
	ctx := context.Background()
	snap := map[string]string{}
	put := func(k string, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		snap[k] = string(b)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	e := ecs.NewFromConfig(w.Cfg)
	tasks, err := e.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(w.ClusterArn), Tasks: []string{w.FargateTaskArn, w.EC2TaskArn},
		Include: []ecstypes.TaskField{ecstypes.TaskFieldTags}})
	must(err)
	for _, task := range tasks.Tasks {
		tags, err := e.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: task.TaskArn})
		must(err)
		put("ecs task "+aws.ToString(task.TaskArn), []any{aws.ToString(task.LastStatus), aws.ToString(task.DesiredStatus), aws.ToString(task.StoppedReason), tags.Tags})
	}
	svcs, err := e.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(w.ClusterArn), Services: []string{w.ServiceName},
		Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags}})
	must(err)
	for _, s := range svcs.Services {
		put("ecs service "+aws.ToString(s.ServiceName), []any{s.DesiredCount, aws.ToString(s.Status), aws.ToString(s.TaskDefinition), s.Tags})
	}
	cis, err := e.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String(w.ClusterArn), ContainerInstances: []string{w.ContainerInstanceArn}})
	must(err)
	for _, ci := range cis.ContainerInstances {
		put("ecs container instance "+aws.ToString(ci.ContainerInstanceArn), []any{aws.ToString(ci.Status), ci.Tags})
	}

	c := ec2.NewFromConfig(w.Cfg)
	vpc := []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{w.VpcID}}}
	sgs, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: vpc})
	must(err)
	for _, g := range sgs.SecurityGroups {
		put("ec2 security group "+aws.ToString(g.GroupName), []any{aws.ToString(g.GroupId), g.IpPermissions, g.IpPermissionsEgress, g.Tags})
	}
	put("ec2 security groups in the VPC", len(sgs.SecurityGroups))
	enis, err := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: vpc})
	must(err)
	for _, ni := range enis.NetworkInterfaces {
		var groups []string
		for _, g := range ni.Groups {
			groups = append(groups, aws.ToString(g.GroupId))
		}
		sort.Strings(groups)
		put("ec2 eni "+aws.ToString(ni.NetworkInterfaceId), []any{groups, ni.TagSet})
	}
	for _, attr := range []ec2types.InstanceAttributeName{ec2types.InstanceAttributeNameDisableApiTermination, ec2types.InstanceAttributeNameDisableApiStop} {
		out, err := c.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(w.InstanceID), Attribute: attr})
		must(err)
		put(fmt.Sprintf("ec2 instance %s %s", w.InstanceID, attr), []any{out.DisableApiTermination, out.DisableApiStop})
	}
	snaps, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, Filters: []ec2types.Filter{{Name: aws.String("volume-id"), Values: w.VolumeIDs}}})
	must(err)
	put("ec2 snapshots of the instance's volumes", len(snaps.Snapshots))
	var resources []string
	resources = append(resources, w.InstanceID, w.InstanceENI, w.FargateENI)
	resources = append(resources, w.VolumeIDs...)
	fls, err := c.DescribeFlowLogs(ctx, &ec2.DescribeFlowLogsInput{Filter: []ec2types.Filter{{Name: aws.String("resource-id"), Values: resources}}})
	must(err)
	put("ec2 flow logs", len(fls.FlowLogs))
	tags, err := c.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []ec2types.Filter{{Name: aws.String("resource-id"), Values: resources}}})
	must(err)
	put("ec2 tags", tags.Tags)

	r := iam.NewFromConfig(w.Cfg)
	pols, err := r.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(w.TaskRoleName)})
	must(err)
	for _, p := range pols.PolicyNames {
		doc, err := r.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(w.TaskRoleName), PolicyName: aws.String(p)})
		must(err)
		put("iam role policy "+p, aws.ToString(doc.PolicyDocument))
	}
	put("iam role policies", pols.PolicyNames)

	asg, err := autoscaling.NewFromConfig(w.Cfg).DescribeAutoScalingInstances(ctx, &autoscaling.DescribeAutoScalingInstancesInput{InstanceIds: []string{w.InstanceID}})
	must(err)
	for _, i := range asg.AutoScalingInstances {
		put("asg instance "+aws.ToString(i.InstanceId), []any{aws.ToBool(i.ProtectedFromScaleIn), aws.ToString(i.LifecycleState)})
	}
	cmds, err := ssm.NewFromConfig(w.Cfg).ListCommands(ctx, &ssm.ListCommandsInput{InstanceId: aws.String(w.InstanceID)})
	must(err)
	put("ssm commands on the instance", len(cmds.Commands))
	return snap
}

// union is every key of a and b (values of b win); the loop compares values itself.
func union(a, b map[string]string) map[string]string {
	out := maps.Clone(a)
	maps.Copy(out, b)
	return out
}
