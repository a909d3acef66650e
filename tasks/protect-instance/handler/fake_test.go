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
	"github.com/aws/smithy-go"
)

// fakeEC2 holds the two protection attributes.
type fakeEC2 struct {
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

// fakeASG holds the instance's group membership and protection.
type fakeASG struct {
	group     string
	protected bool
	sets      []*autoscaling.SetInstanceProtectionInput
	setErr    error
}

var _ asgAPI = (*fakeASG)(nil)

func (f *fakeASG) DescribeAutoScalingInstances(_ context.Context, in *autoscaling.DescribeAutoScalingInstancesInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingInstancesOutput, error) {
	if f.group == "" {
		return &autoscaling.DescribeAutoScalingInstancesOutput{}, nil
	}
	return &autoscaling.DescribeAutoScalingInstancesOutput{AutoScalingInstances: []asgtypes.AutoScalingInstanceDetails{
		{InstanceId: aws.String(in.InstanceIds[0]), AutoScalingGroupName: aws.String(f.group), ProtectedFromScaleIn: aws.Bool(f.protected)}}}, nil
}

func (f *fakeASG) SetInstanceProtection(_ context.Context, in *autoscaling.SetInstanceProtectionInput, _ ...func(*autoscaling.Options)) (*autoscaling.SetInstanceProtectionOutput, error) {
	f.sets = append(f.sets, in)
	if f.setErr != nil {
		return nil, f.setErr
	}
	f.protected = aws.ToBool(in.ProtectedFromScaleIn)
	return &autoscaling.SetInstanceProtectionOutput{}, nil
}

// fakeECS answers UpdateContainerInstancesState.
type fakeECS struct {
	updates []*ecs.UpdateContainerInstancesStateInput
	failure string
	err     error
}

var _ ecsAPI = (*fakeECS)(nil)

func (f *fakeECS) UpdateContainerInstancesState(_ context.Context, in *ecs.UpdateContainerInstancesStateInput, _ ...func(*ecs.Options)) (*ecs.UpdateContainerInstancesStateOutput, error) {
	f.updates = append(f.updates, in)
	if f.err != nil {
		return nil, f.err
	}
	if f.failure != "" {
		return &ecs.UpdateContainerInstancesStateOutput{Failures: []ecstypes.Failure{{Arn: aws.String(in.ContainerInstances[0]), Reason: aws.String(f.failure)}}}, nil
	}
	return &ecs.UpdateContainerInstancesStateOutput{ContainerInstances: []ecstypes.ContainerInstance{
		{ContainerInstanceArn: aws.String(in.ContainerInstances[0]), Status: aws.String(string(in.Status))}}}, nil
}

type apiErr struct{ code string }

func (e apiErr) Error() string                 { return e.code }
func (e apiErr) ErrorCode() string             { return e.code }
func (e apiErr) ErrorMessage() string          { return e.code + " message" }
func (e apiErr) ErrorFault() smithy.ErrorFault { return smithy.FaultClient }
