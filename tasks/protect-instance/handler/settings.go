package handler

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/ledger"
)

// Setting is what the action found and did for one protection attribute.
type Setting struct {
	Requested bool   `json:"requested"`
	Previous  *bool  `json:"previous,omitempty"`
	Enabled   bool   `json:"enabled"`
	Changed   bool   `json:"changed"`
	Note      string `json:"note,omitempty"`
}

// Drain is what the action did to the container instance.
type Drain struct {
	Requested            bool   `json:"requested"`
	ContainerInstanceArn string `json:"containerInstanceArn,omitempty"`
	Status               string `json:"status,omitempty"`
	PreviousStatus       string `json:"previousStatus,omitempty"`
	Changed              bool   `json:"changed"`
	Note                 string `json:"note,omitempty"`
}

// attribute plans turning on an instance protection attribute
// (disableApiTermination or disableApiStop) unless it is on already.
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
	in := &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(r.inst)}
	flag := "--no-disable-api-termination"
	if name == "disableApiStop" {
		in.DisableApiStop = &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}
		flag = "--no-disable-api-stop"
	} else {
		in.DisableApiTermination = &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}
	}
	e, err := r.entry(ledger.InstanceProtectionID(r.inst, name), ledger.KindInstanceProtection, r.inst,
		ledger.InstanceProtectionData{InstanceID: r.inst, Attribute: name, Previous: prev})
	return s, r.change(e, err, func(ctx context.Context) error {
		if _, err := r.h.EC2.ModifyInstanceAttribute(ctx, in); err != nil {
			return contract.AWSError("ec2:ModifyInstanceAttribute "+name+" "+r.inst, err)
		}
		return nil
	}, fmt.Sprintf("aws ec2 modify-instance-attribute --instance-id %s %s", r.inst, flag))
}

// drain plans setting the container instance to DRAINING unless it is.
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
	out, err := r.h.ECS.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String(cluster), ContainerInstances: []string{arn}})
	if err != nil {
		return d, contract.AWSError("ecs:DescribeContainerInstances "+arn, err)
	}
	if len(out.ContainerInstances) == 0 {
		return d, &contract.TargetNotFoundError{Resource: arn, Reason: "container instance is not registered in " + cluster}
	}
	ci := out.ContainerInstances[0]
	d.PreviousStatus, d.Status = aws.ToString(ci.Status), aws.ToString(ci.Status)
	if !ci.AgentConnected {
		d.Note = "the container instance's ECS agent is not connected: ECS accepts the drain but cannot stop its tasks until the agent reconnects"
	}
	if d.PreviousStatus == string(ecstypes.ContainerInstanceStatusDraining) {
		return d, nil
	}
	d.Changed, d.Status = true, string(ecstypes.ContainerInstanceStatusDraining)
	e, err := r.entry(ledger.DrainID(arn), ledger.KindDrain, arn, ledger.DrainData{Cluster: cluster, ContainerInstanceArn: arn, PreviousStatus: d.PreviousStatus})
	return d, r.change(e, err, func(ctx context.Context) error {
		out, err := r.h.ECS.UpdateContainerInstancesState(ctx, &ecs.UpdateContainerInstancesStateInput{
			Cluster: aws.String(cluster), ContainerInstances: []string{arn}, Status: ecstypes.ContainerInstanceStatusDraining})
		if err != nil {
			return contract.AWSError("ecs:UpdateContainerInstancesState "+arn, err)
		}
		for _, f := range out.Failures {
			reason := aws.ToString(f.Reason)
			if strings.EqualFold(reason, "MISSING") {
				return &contract.TargetNotFoundError{Resource: arn, Reason: "container instance is not registered in " + cluster}
			}
			return &contract.PreconditionFailedError{Reason: fmt.Sprintf("ecs:UpdateContainerInstancesState %s: %s %s", arn, reason, aws.ToString(f.Detail))}
		}
		return nil
	}, fmt.Sprintf("aws ecs update-container-instances-state --cluster %s --container-instances %s --status %s", cluster, arn, d.PreviousStatus))
}

func countOf(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
