package handler

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/irflow/irflow/tasks/ledger"
)

// world is one fake account: every API the release calls, in memory, with
// the list of changing calls made.
type world struct {
	enis       map[string][]string // ENI -> groups
	acls       map[string][]ec2types.NetworkAclEntry
	groups     map[string]bool   // irflow-tagged groups that exist
	attrs      map[string]bool   // instance:attribute -> value
	asg        map[string]string // instance -> lifecycle state
	ci         map[string]string // container instance -> status
	services   map[string]int32  // service ARN -> desired count
	revisions  map[string]string // service ARN -> task definition
	policies   map[string]string // role/policy -> document
	registered []string
	calls      []string
	ledger     *ledger.Ledger
}

func apiErr(code string) error { return &smithy.GenericAPIError{Code: code, Message: code} }

func (w *world) call(f string, a ...any) { w.calls = append(w.calls, fmt.Sprintf(f, a...)) }

func (w *world) DescribeNetworkInterfaces(_ context.Context, in *ec2.DescribeNetworkInterfacesInput, _ ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error) {
	out := &ec2.DescribeNetworkInterfacesOutput{}
	if len(in.Filters) > 0 {
		g := in.Filters[0].Values[0]
		for id, gs := range w.enis {
			for _, x := range gs {
				if x == g {
					out.NetworkInterfaces = append(out.NetworkInterfaces, ec2types.NetworkInterface{NetworkInterfaceId: aws.String(id)})
				}
			}
		}
		return out, nil
	}
	gs, ok := w.enis[in.NetworkInterfaceIds[0]]
	if !ok {
		return nil, apiErr("InvalidNetworkInterfaceID.NotFound")
	}
	ni := ec2types.NetworkInterface{NetworkInterfaceId: aws.String(in.NetworkInterfaceIds[0])}
	for _, g := range gs {
		ni.Groups = append(ni.Groups, ec2types.GroupIdentifier{GroupId: aws.String(g)})
	}
	out.NetworkInterfaces = []ec2types.NetworkInterface{ni}
	return out, nil
}

func (w *world) ModifyNetworkInterfaceAttribute(_ context.Context, in *ec2.ModifyNetworkInterfaceAttributeInput, _ ...func(*ec2.Options)) (*ec2.ModifyNetworkInterfaceAttributeOutput, error) {
	w.call("ModifyNetworkInterfaceAttribute %s %s", *in.NetworkInterfaceId, strings.Join(in.Groups, ","))
	w.enis[*in.NetworkInterfaceId] = in.Groups
	return &ec2.ModifyNetworkInterfaceAttributeOutput{}, nil
}

func (w *world) DescribeNetworkAcls(_ context.Context, in *ec2.DescribeNetworkAclsInput, _ ...func(*ec2.Options)) (*ec2.DescribeNetworkAclsOutput, error) {
	es, ok := w.acls[in.NetworkAclIds[0]]
	if !ok {
		return nil, apiErr("InvalidNetworkAclID.NotFound")
	}
	return &ec2.DescribeNetworkAclsOutput{NetworkAcls: []ec2types.NetworkAcl{{NetworkAclId: aws.String(in.NetworkAclIds[0]), Entries: es}}}, nil
}

func (w *world) DeleteNetworkAclEntry(_ context.Context, in *ec2.DeleteNetworkAclEntryInput, _ ...func(*ec2.Options)) (*ec2.DeleteNetworkAclEntryOutput, error) {
	w.call("DeleteNetworkAclEntry %s %t %d", *in.NetworkAclId, *in.Egress, *in.RuleNumber)
	var keep []ec2types.NetworkAclEntry
	for _, e := range w.acls[*in.NetworkAclId] {
		if !(*e.Egress == *in.Egress && *e.RuleNumber == *in.RuleNumber) {
			keep = append(keep, e)
		}
	}
	w.acls[*in.NetworkAclId] = keep
	return &ec2.DeleteNetworkAclEntryOutput{}, nil
}

func (w *world) DescribeSecurityGroups(_ context.Context, in *ec2.DescribeSecurityGroupsInput, _ ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error) {
	if !w.groups[in.GroupIds[0]] {
		return nil, apiErr("InvalidGroup.NotFound")
	}
	return &ec2.DescribeSecurityGroupsOutput{SecurityGroups: []ec2types.SecurityGroup{{GroupId: aws.String(in.GroupIds[0]),
		Tags: []ec2types.Tag{{Key: aws.String(tagQuarantine), Value: aws.String("deny-all")}}}}}, nil
}

func (w *world) DeleteSecurityGroup(_ context.Context, in *ec2.DeleteSecurityGroupInput, _ ...func(*ec2.Options)) (*ec2.DeleteSecurityGroupOutput, error) {
	w.call("DeleteSecurityGroup %s", *in.GroupId)
	delete(w.groups, *in.GroupId)
	return &ec2.DeleteSecurityGroupOutput{}, nil
}

func (w *world) DescribeInstanceAttribute(_ context.Context, in *ec2.DescribeInstanceAttributeInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstanceAttributeOutput, error) {
	v := &ec2types.AttributeBooleanValue{Value: aws.Bool(w.attrs[*in.InstanceId+":"+string(in.Attribute)])}
	return &ec2.DescribeInstanceAttributeOutput{DisableApiTermination: v, DisableApiStop: v}, nil
}

func (w *world) ModifyInstanceAttribute(_ context.Context, in *ec2.ModifyInstanceAttributeInput, _ ...func(*ec2.Options)) (*ec2.ModifyInstanceAttributeOutput, error) {
	if in.DisableApiTermination != nil {
		w.call("ModifyInstanceAttribute %s disableApiTermination=%t", *in.InstanceId, *in.DisableApiTermination.Value)
		w.attrs[*in.InstanceId+":disableApiTermination"] = *in.DisableApiTermination.Value
	}
	if in.DisableApiStop != nil {
		w.call("ModifyInstanceAttribute %s disableApiStop=%t", *in.InstanceId, *in.DisableApiStop.Value)
		w.attrs[*in.InstanceId+":disableApiStop"] = *in.DisableApiStop.Value
	}
	return &ec2.ModifyInstanceAttributeOutput{}, nil
}

func (w *world) DescribeAutoScalingInstances(_ context.Context, in *autoscaling.DescribeAutoScalingInstancesInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingInstancesOutput, error) {
	st, ok := w.asg[in.InstanceIds[0]]
	if !ok {
		return &autoscaling.DescribeAutoScalingInstancesOutput{}, nil
	}
	return &autoscaling.DescribeAutoScalingInstancesOutput{AutoScalingInstances: []asgtypes.AutoScalingInstanceDetails{{
		InstanceId: aws.String(in.InstanceIds[0]), AutoScalingGroupName: aws.String("asg"), LifecycleState: aws.String(st)}}}, nil
}

func (w *world) ExitStandby(_ context.Context, in *autoscaling.ExitStandbyInput, _ ...func(*autoscaling.Options)) (*autoscaling.ExitStandbyOutput, error) {
	w.call("ExitStandby %s %s", *in.AutoScalingGroupName, in.InstanceIds[0])
	w.asg[in.InstanceIds[0]] = "InService"
	return &autoscaling.ExitStandbyOutput{}, nil
}

func (w *world) RegisterTargets(_ context.Context, in *elbv2.RegisterTargetsInput, _ ...func(*elbv2.Options)) (*elbv2.RegisterTargetsOutput, error) {
	w.call("RegisterTargets %s %s:%d", *in.TargetGroupArn, *in.Targets[0].Id, aws.ToInt32(in.Targets[0].Port))
	return &elbv2.RegisterTargetsOutput{}, nil
}

func (w *world) DescribeContainerInstances(_ context.Context, in *ecs.DescribeContainerInstancesInput, _ ...func(*ecs.Options)) (*ecs.DescribeContainerInstancesOutput, error) {
	st, ok := w.ci[in.ContainerInstances[0]]
	if !ok {
		return &ecs.DescribeContainerInstancesOutput{}, nil
	}
	return &ecs.DescribeContainerInstancesOutput{ContainerInstances: []ecstypes.ContainerInstance{{Status: aws.String(st)}}}, nil
}

func (w *world) UpdateContainerInstancesState(_ context.Context, in *ecs.UpdateContainerInstancesStateInput, _ ...func(*ecs.Options)) (*ecs.UpdateContainerInstancesStateOutput, error) {
	w.call("UpdateContainerInstancesState %s %s", in.ContainerInstances[0], in.Status)
	w.ci[in.ContainerInstances[0]] = string(in.Status)
	return &ecs.UpdateContainerInstancesStateOutput{}, nil
}

func (w *world) DescribeServices(_ context.Context, in *ecs.DescribeServicesInput, _ ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	n, ok := w.services[in.Services[0]]
	if !ok {
		return &ecs.DescribeServicesOutput{}, nil
	}
	return &ecs.DescribeServicesOutput{Services: []ecstypes.Service{{ServiceArn: aws.String(in.Services[0]), Status: aws.String("ACTIVE"), DesiredCount: n, RunningCount: n,
		TaskDefinition: aws.String(w.revisions[in.Services[0]])}}}, nil
}

func (w *world) UpdateService(_ context.Context, in *ecs.UpdateServiceInput, _ ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error) {
	if in.TaskDefinition != nil {
		w.call("UpdateService %s %s", *in.Service, *in.TaskDefinition)
		w.revisions[*in.Service] = *in.TaskDefinition
		return &ecs.UpdateServiceOutput{}, nil
	}
	w.call("UpdateService %s %d", *in.Service, *in.DesiredCount)
	w.services[*in.Service] = *in.DesiredCount
	return &ecs.UpdateServiceOutput{}, nil
}

func (w *world) DescribeTasks(context.Context, *ecs.DescribeTasksInput, ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error) {
	return &ecs.DescribeTasksOutput{}, nil
}

func (w *world) GetRolePolicy(_ context.Context, in *iam.GetRolePolicyInput, _ ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error) {
	doc, ok := w.policies[*in.RoleName+"/"+*in.PolicyName]
	if !ok {
		return nil, apiErr("NoSuchEntity")
	}
	return &iam.GetRolePolicyOutput{PolicyDocument: aws.String(doc)}, nil
}

func (w *world) PutRolePolicy(_ context.Context, in *iam.PutRolePolicyInput, _ ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error) {
	w.call("PutRolePolicy %s %s %s", *in.RoleName, *in.PolicyName, *in.PolicyDocument)
	w.policies[*in.RoleName+"/"+*in.PolicyName] = *in.PolicyDocument
	return &iam.PutRolePolicyOutput{}, nil
}

func (w *world) DeleteRolePolicy(_ context.Context, in *iam.DeleteRolePolicyInput, _ ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error) {
	w.call("DeleteRolePolicy %s %s", *in.RoleName, *in.PolicyName)
	delete(w.policies, *in.RoleName+"/"+*in.PolicyName)
	return &iam.DeleteRolePolicyOutput{}, nil
}

func (w *world) Read(context.Context, string) (*ledger.Ledger, error) {
	cp := *w.ledger
	cp.Entries = append([]ledger.Entry(nil), w.ledger.Entries...)
	return &cp, nil
}

func (w *world) MarkRemoved(_ context.Context, _, step string, ids ...string) (*ledger.Ledger, error) {
	sort.Strings(ids)
	w.call("MarkRemoved %s %s", step, strings.Join(ids, ","))
	for i := range w.ledger.Entries {
		for _, id := range ids {
			if w.ledger.Entries[i].ID == id && !w.ledger.Entries[i].Removed() {
				w.ledger.Entries[i].RemovedAt, w.ledger.Entries[i].RemovedBy = "2026-01-01T00:00:00Z", step
			}
		}
	}
	return w.ledger, nil
}
