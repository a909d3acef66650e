package handler

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
)

// calls records every mutating call and ledger append, in order.
type calls []string

// fakeEC2 holds the two protection attributes.
type fakeEC2 struct {
	log       *calls
	attrs     map[string]bool
	describes int
	modifies  []*ec2.ModifyInstanceAttributeInput
	descErr   error
	modErr    error
}

var _ ec2API = (*fakeEC2)(nil)

func (f *fakeEC2) DescribeInstanceAttribute(_ context.Context, in *ec2.DescribeInstanceAttributeInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstanceAttributeOutput, error) {
	f.describes++
	if f.descErr != nil {
		return nil, f.descErr
	}
	v := &ec2types.AttributeBooleanValue{Value: aws.Bool(f.attrs[string(in.Attribute)])}
	out := &ec2.DescribeInstanceAttributeOutput{InstanceId: in.InstanceId}
	if in.Attribute == ec2types.InstanceAttributeNameDisableApiStop {
		out.DisableApiStop = v
	} else {
		out.DisableApiTermination = v
	}
	return out, nil
}

func (f *fakeEC2) ModifyInstanceAttribute(_ context.Context, in *ec2.ModifyInstanceAttributeInput, _ ...func(*ec2.Options)) (*ec2.ModifyInstanceAttributeOutput, error) {
	*f.log = append(*f.log, "ModifyInstanceAttribute")
	f.modifies = append(f.modifies, in)
	if f.modErr != nil {
		return nil, f.modErr
	}
	if in.DisableApiStop != nil {
		f.attrs["disableApiStop"] = aws.ToBool(in.DisableApiStop.Value)
	}
	if in.DisableApiTermination != nil {
		f.attrs["disableApiTermination"] = aws.ToBool(in.DisableApiTermination.Value)
	}
	return &ec2.ModifyInstanceAttributeOutput{}, nil
}

// fakeASG holds the instance's group membership and lifecycle state.
type fakeASG struct {
	log      *calls
	group    string
	state    string
	standbys []*autoscaling.EnterStandbyInput
	err      error
}

var _ asgAPI = (*fakeASG)(nil)

func (f *fakeASG) DescribeAutoScalingInstances(_ context.Context, in *autoscaling.DescribeAutoScalingInstancesInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingInstancesOutput, error) {
	if f.group == "" {
		return &autoscaling.DescribeAutoScalingInstancesOutput{}, nil
	}
	return &autoscaling.DescribeAutoScalingInstancesOutput{AutoScalingInstances: []asgtypes.AutoScalingInstanceDetails{
		{InstanceId: aws.String(in.InstanceIds[0]), AutoScalingGroupName: aws.String(f.group), LifecycleState: aws.String(f.state)}}}, nil
}

func (f *fakeASG) EnterStandby(_ context.Context, in *autoscaling.EnterStandbyInput, _ ...func(*autoscaling.Options)) (*autoscaling.EnterStandbyOutput, error) {
	*f.log = append(*f.log, "EnterStandby")
	f.standbys = append(f.standbys, in)
	if f.err != nil {
		return nil, f.err
	}
	f.state = "Standby"
	return &autoscaling.EnterStandbyOutput{}, nil
}

// fakeELB holds target groups and their registrations ("id:port" -> health).
type fakeELB struct {
	log     *calls
	groups  []elbtypes.TargetGroup
	targets map[string]map[string]elbtypes.TargetHealthDescription
	derefs  []*elb.DeregisterTargetsInput
}

var _ elbAPI = (*fakeELB)(nil)

func (f *fakeELB) DescribeTargetGroups(context.Context, *elb.DescribeTargetGroupsInput, ...func(*elb.Options)) (*elb.DescribeTargetGroupsOutput, error) {
	return &elb.DescribeTargetGroupsOutput{TargetGroups: f.groups}, nil
}

func (f *fakeELB) DescribeTargetHealth(_ context.Context, in *elb.DescribeTargetHealthInput, _ ...func(*elb.Options)) (*elb.DescribeTargetHealthOutput, error) {
	out := &elb.DescribeTargetHealthOutput{}
	for _, d := range f.targets[aws.ToString(in.TargetGroupArn)] {
		out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, d)
	}
	return out, nil
}

func (f *fakeELB) DeregisterTargets(_ context.Context, in *elb.DeregisterTargetsInput, _ ...func(*elb.Options)) (*elb.DeregisterTargetsOutput, error) {
	*f.log = append(*f.log, "DeregisterTargets")
	f.derefs = append(f.derefs, in)
	for _, t := range in.Targets {
		delete(f.targets[aws.ToString(in.TargetGroupArn)], aws.ToString(t.Id)+":"+itoa(aws.ToInt32(t.Port)))
	}
	return &elb.DeregisterTargetsOutput{}, nil
}

func (f *fakeELB) register(arn, vpc string, kind elbtypes.TargetTypeEnum, id string, port int32, state elbtypes.TargetHealthStateEnum) {
	found := false
	for _, g := range f.groups {
		found = found || aws.ToString(g.TargetGroupArn) == arn
	}
	if !found {
		f.groups = append(f.groups, elbtypes.TargetGroup{TargetGroupArn: aws.String(arn), VpcId: aws.String(vpc), TargetType: kind})
	}
	if f.targets[arn] == nil {
		f.targets[arn] = map[string]elbtypes.TargetHealthDescription{}
	}
	f.targets[arn][id+":"+itoa(port)] = elbtypes.TargetHealthDescription{Target: &elbtypes.TargetDescription{Id: aws.String(id), Port: aws.Int32(port)},
		TargetHealth: &elbtypes.TargetHealth{State: state}}
}

func itoa(n int32) string {
	b := []byte{}
	if n == 0 {
		return "0"
	}
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// fakeECS answers for the container instance.
type fakeECS struct {
	log       *calls
	status    string
	connected bool
	updates   []*ecs.UpdateContainerInstancesStateInput
	failure   string
	err       error
}

var _ ecsAPI = (*fakeECS)(nil)

func (f *fakeECS) DescribeContainerInstances(_ context.Context, in *ecs.DescribeContainerInstancesInput, _ ...func(*ecs.Options)) (*ecs.DescribeContainerInstancesOutput, error) {
	if f.status == "" {
		return &ecs.DescribeContainerInstancesOutput{Failures: []ecstypes.Failure{{Arn: aws.String(in.ContainerInstances[0]), Reason: aws.String("MISSING")}}}, nil
	}
	return &ecs.DescribeContainerInstancesOutput{ContainerInstances: []ecstypes.ContainerInstance{
		{ContainerInstanceArn: aws.String(in.ContainerInstances[0]), Status: aws.String(f.status), AgentConnected: f.connected}}}, nil
}

func (f *fakeECS) UpdateContainerInstancesState(_ context.Context, in *ecs.UpdateContainerInstancesStateInput, _ ...func(*ecs.Options)) (*ecs.UpdateContainerInstancesStateOutput, error) {
	*f.log = append(*f.log, "UpdateContainerInstancesState")
	f.updates = append(f.updates, in)
	if f.err != nil {
		return nil, f.err
	}
	if f.failure != "" {
		return &ecs.UpdateContainerInstancesStateOutput{Failures: []ecstypes.Failure{{Arn: aws.String(in.ContainerInstances[0]), Reason: aws.String(f.failure)}}}, nil
	}
	f.status = string(in.Status)
	return &ecs.UpdateContainerInstancesStateOutput{ContainerInstances: []ecstypes.ContainerInstance{
		{ContainerInstanceArn: aws.String(in.ContainerInstances[0]), Status: aws.String(string(in.Status))}}}, nil
}

func apiErr(code string) error {
	return &smithy.GenericAPIError{Code: code, Message: code + " message"}
}
