package handler

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/tasks/contract"
)

// attribute turns on an instance protection attribute (disableApiTermination
// or disableApiStop) unless it is on already.
func (r *run) attribute(ctx context.Context, name string, requested bool) (Setting, error) {
	s := Setting{Requested: requested}
	if !requested {
		s.Note = "not requested: left as it is"
		return s, nil
	}
	out, err := r.h.EC2.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{
		InstanceId: aws.String(r.inst), Attribute: ec2types.InstanceAttributeName(name)})
	if err != nil {
		return s, contract.AWSError("ec2:DescribeInstanceAttribute "+name+" "+r.inst, err)
	}
	v := out.DisableApiTermination
	if name == "disableApiStop" {
		v = out.DisableApiStop
	}
	prev := v != nil && aws.ToBool(v.Value)
	s.Previous, s.Enabled = aws.Bool(prev), true
	if prev {
		return s, nil
	}
	s.Changed = true
	if r.dry {
		return s, nil
	}
	in := &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(r.inst)}
	flag := "--no-disable-api-termination"
	if name == "disableApiStop" {
		in.DisableApiStop = &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}
		flag = "--no-disable-api-stop"
	} else {
		in.DisableApiTermination = &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}
	}
	if _, err := r.h.EC2.ModifyInstanceAttribute(ctx, in); err != nil {
		return s, contract.AWSError("ec2:ModifyInstanceAttribute "+name+" "+r.inst, err)
	}
	r.undo = append(r.undo, fmt.Sprintf("aws ec2 modify-instance-attribute --instance-id %s %s", r.inst, flag))
	return s, nil
}

// scaleIn protects the instance from its Auto Scaling group's scale-in. The
// group comes from DescribeAutoScalingInstances, which also gives the
// current protection; an instance in no group is skipped.
func (r *run) scaleIn(ctx context.Context, requested bool) (Setting, error) {
	s := Setting{Requested: requested}
	if !requested {
		s.Note = "not requested: left as it is"
		return s, nil
	}
	out, err := r.h.ASG.DescribeAutoScalingInstances(ctx, &autoscaling.DescribeAutoScalingInstancesInput{InstanceIds: []string{r.inst}})
	if err != nil {
		return s, contract.AWSError("autoscaling:DescribeAutoScalingInstances "+r.inst, err)
	}
	if len(out.AutoScalingInstances) == 0 {
		s.Note = "the instance is in no Auto Scaling group: nothing to protect from scale-in"
		if g := r.p.Target.AutoScalingGroup; g != "" {
			s.Note = "the instance has left Auto Scaling group " + g + ": nothing to protect from scale-in"
		}
		return s, nil
	}
	ai := out.AutoScalingInstances[0]
	s.AutoScalingGroup = aws.ToString(ai.AutoScalingGroupName)
	prev := aws.ToBool(ai.ProtectedFromScaleIn)
	s.Previous, s.Enabled = aws.Bool(prev), true
	if g := r.p.Target.AutoScalingGroup; g != "" && g != s.AutoScalingGroup {
		s.Note = "resolve-target saw group " + g + "; the instance is now in " + s.AutoScalingGroup
	}
	if prev {
		return s, nil
	}
	s.Changed = true
	if r.dry {
		return s, nil
	}
	if _, err := r.h.ASG.SetInstanceProtection(ctx, &autoscaling.SetInstanceProtectionInput{
		AutoScalingGroupName: aws.String(s.AutoScalingGroup), InstanceIds: []string{r.inst}, ProtectedFromScaleIn: aws.Bool(true)}); err != nil {
		return s, contract.AWSError("autoscaling:SetInstanceProtection "+s.AutoScalingGroup, err)
	}
	r.undo = append(r.undo, fmt.Sprintf("aws autoscaling set-instance-protection --auto-scaling-group-name %s --instance-ids %s --no-protected-from-scale-in",
		s.AutoScalingGroup, r.inst))
	return s, nil
}

// drain sets the container instance to DRAINING. Setting it twice is
// harmless, and this action's role cannot read the state first, so the
// previous state is unknown.
func (r *run) drain(ctx context.Context, requested bool) (Drain, error) {
	d := Drain{Requested: requested}
	if !requested {
		d.Note = "not requested: left as it is"
		return d, nil
	}
	arn, cluster := r.p.Target.ContainerInstanceArn, r.p.Target.ClusterArn
	if arn == "" || cluster == "" {
		d.Note = "resolve-target found no container instance or cluster: nothing to drain"
		return d, nil
	}
	d.ContainerInstanceArn = arn
	d.PreviousStatus = "unknown (this action may not call ecs:DescribeContainerInstances); normally ACTIVE"
	if r.dry {
		d.Status = "DRAINING (would be set)"
		return d, nil
	}
	out, err := r.h.ECS.UpdateContainerInstancesState(ctx, &ecs.UpdateContainerInstancesStateInput{
		Cluster: aws.String(cluster), ContainerInstances: []string{arn}, Status: ecstypes.ContainerInstanceStatusDraining})
	if err != nil {
		return d, contract.AWSError("ecs:UpdateContainerInstancesState "+arn, err)
	}
	for _, f := range out.Failures {
		reason := aws.ToString(f.Reason)
		if strings.EqualFold(reason, "MISSING") {
			return d, &contract.TargetNotFoundError{Resource: arn, Reason: "container instance is not registered in " + cluster}
		}
		return d, &contract.PreconditionFailedError{Reason: fmt.Sprintf("ecs:UpdateContainerInstancesState %s: %s %s", arn, reason, aws.ToString(f.Detail))}
	}
	d.Status = string(ecstypes.ContainerInstanceStatusDraining)
	for _, ci := range out.ContainerInstances {
		if aws.ToString(ci.ContainerInstanceArn) == arn && aws.ToString(ci.Status) != "" {
			d.Status = aws.ToString(ci.Status)
		}
	}
	r.undo = append(r.undo, fmt.Sprintf("aws ecs update-container-instances-state --cluster %s --container-instances %s --status ACTIVE", cluster, arn))
	return d, nil
}
