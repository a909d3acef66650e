package handler

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/ledger"
)

// Standby is what the action found and did in the Auto Scaling group.
type Standby struct {
	Requested        bool   `json:"requested"`
	AutoScalingGroup string `json:"autoScalingGroup,omitempty"`
	PreviousState    string `json:"previousState,omitempty"`
	State            string `json:"state,omitempty"`
	Changed          bool   `json:"changed"`
	Note             string `json:"note,omitempty"`
}

// standby plans EnterStandby for an InService instance, keeping the
// group's desired capacity (ShouldDecrementDesiredCapacity false: the group
// launches a replacement, so the service keeps its capacity). An instance
// in no group, or in a lifecycle state EnterStandby refuses (Pending,
// Terminating, ...), is skipped with a note.
func (r *run) standby(ctx context.Context, requested bool) (Standby, error) {
	s := Standby{Requested: requested}
	if !requested {
		s.Note = "not requested: left as it is"
		return s, nil
	}
	out, err := r.h.ASG.DescribeAutoScalingInstances(ctx, &autoscaling.DescribeAutoScalingInstancesInput{InstanceIds: []string{r.inst}})
	if err != nil {
		return s, contract.AWSError("autoscaling:DescribeAutoScalingInstances "+r.inst, err)
	}
	if len(out.AutoScalingInstances) == 0 {
		s.Note = "the instance is in no Auto Scaling group: nothing to put in Standby"
		if g := r.p.Target.AutoScalingGroup; g != "" {
			s.Note = "the instance has left Auto Scaling group " + g + ": nothing to put in Standby"
		}
		return s, nil
	}
	ai := out.AutoScalingInstances[0]
	s.AutoScalingGroup = aws.ToString(ai.AutoScalingGroupName)
	s.PreviousState, s.State = aws.ToString(ai.LifecycleState), aws.ToString(ai.LifecycleState)
	switch s.PreviousState {
	case "Standby", "Pending:Wait", "Pending:Proceed", "EnteringStandby":
		return s, nil
	case "InService":
	default:
		s.Note = fmt.Sprintf("the instance is %s in %s: EnterStandby takes InService instances only", s.PreviousState, s.AutoScalingGroup)
		return s, nil
	}
	s.Changed, s.State = true, "Standby"
	group := s.AutoScalingGroup
	e, err := r.entry(ledger.StandbyID(r.inst), ledger.KindStandby, group,
		ledger.StandbyData{AutoScalingGroup: group, InstanceID: r.inst, PreviousState: s.PreviousState})
	return s, r.change(e, err, func(ctx context.Context) error {
		if _, err := r.h.ASG.EnterStandby(ctx, &autoscaling.EnterStandbyInput{AutoScalingGroupName: aws.String(group),
			InstanceIds: []string{r.inst}, ShouldDecrementDesiredCapacity: aws.Bool(false)}); err != nil {
			return contract.AWSError("autoscaling:EnterStandby "+r.inst+" in "+group, err)
		}
		return nil
	}, fmt.Sprintf("aws autoscaling exit-standby --auto-scaling-group-name %s --instance-ids %s", group, r.inst))
}
