package handler

import (
	"context"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/ledger"
)

// maxTargetGroups bounds the scan: DescribeTargetHealth is one call per
// group of the instance's VPC.
const maxTargetGroups = 200

// TargetGroups is what the action found and did in the load balancers.
type TargetGroups struct {
	Requested bool `json:"requested"`
	// Scanned is how many target groups of the instance's VPC were read.
	Scanned      int            `json:"scanned"`
	Deregistered []Registration `json:"deregistered"`
	Note         string         `json:"note,omitempty"`
}

// Registration is one registration of the instance in a target group.
type Registration struct {
	TargetGroupArn   string `json:"targetGroupArn"`
	Port             int32  `json:"port,omitempty"`
	AvailabilityZone string `json:"availabilityZone,omitempty"`
	PreviousHealth   string `json:"previousHealth"`
}

// targets plans deregistering the instance from every instance-type target
// group of its VPC that holds it, on every port (bridge tasks register the
// instance once per dynamic host port). Groups of target type ip (awsvpc
// tasks) and lambda do not hold instances. A registration listed as unused
// (the group serves no load balancer yet) is deregistered too: it would be
// used once one is attached. Deregistering stops new requests at once and
// lets in-flight ones finish within the group's deregistration delay
// ("Deregister targets" — https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-register-targets.html).
func (r *run) targets(ctx context.Context, requested bool) (*TargetGroups, error) {
	tg := &TargetGroups{Requested: requested, Deregistered: []Registration{}}
	if !requested {
		tg.Note = "not requested: left as it is"
		return tg, nil
	}
	vpc := r.p.Target.VpcID
	var groups []elbtypes.TargetGroup
	pages := elb.NewDescribeTargetGroupsPaginator(r.h.ELB, &elb.DescribeTargetGroupsInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, contract.AWSError("elasticloadbalancing:DescribeTargetGroups", err)
		}
		for _, g := range page.TargetGroups {
			if g.TargetType == elbtypes.TargetTypeEnumInstance && (vpc == "" || aws.ToString(g.VpcId) == vpc) {
				groups = append(groups, g)
			}
		}
	}
	sort.Slice(groups, func(i, j int) bool {
		return aws.ToString(groups[i].TargetGroupArn) < aws.ToString(groups[j].TargetGroupArn)
	})
	if len(groups) > maxTargetGroups {
		tg.Note = fmt.Sprintf("%d instance target groups in the VPC: only the first %d were read", len(groups), maxTargetGroups)
		groups = groups[:maxTargetGroups]
	}
	for _, g := range groups {
		arn := aws.ToString(g.TargetGroupArn)
		h, err := r.h.ELB.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(arn)})
		if err != nil {
			return nil, contract.AWSError("elasticloadbalancing:DescribeTargetHealth "+arn, err)
		}
		tg.Scanned++
		ds := h.TargetHealthDescriptions
		sort.SliceStable(ds, func(i, j int) bool {
			return ds[i].Target != nil && ds[j].Target != nil && aws.ToInt32(ds[i].Target.Port) < aws.ToInt32(ds[j].Target.Port)
		})
		for _, d := range ds {
			if d.Target == nil || aws.ToString(d.Target.Id) != r.inst {
				continue
			}
			state := ""
			if d.TargetHealth != nil {
				state = string(d.TargetHealth.State)
			}
			if state == string(elbtypes.TargetHealthStateEnumDraining) {
				continue // deregistered already, on its way out
			}
			reg := Registration{TargetGroupArn: arn, Port: aws.ToInt32(d.Target.Port), AvailabilityZone: aws.ToString(d.Target.AvailabilityZone), PreviousHealth: state}
			if err := r.deregister(reg); err != nil {
				return nil, err
			}
			tg.Deregistered = append(tg.Deregistered, reg)
		}
	}
	return tg, nil
}

func (r *run) deregister(reg Registration) error {
	target := elbtypes.TargetDescription{Id: aws.String(r.inst)}
	if reg.Port != 0 {
		target.Port = aws.Int32(reg.Port)
	}
	e, err := r.entry(ledger.TargetGroupID(reg.TargetGroupArn, r.inst, reg.Port), ledger.KindTargetGroup, reg.TargetGroupArn,
		ledger.TargetGroupData{TargetGroupArn: reg.TargetGroupArn, TargetID: r.inst, Port: reg.Port, AvailabilityZone: reg.AvailabilityZone, PreviousHealth: reg.PreviousHealth})
	return r.change(e, err, func(ctx context.Context) error {
		if _, err := r.h.ELB.DeregisterTargets(ctx, &elb.DeregisterTargetsInput{TargetGroupArn: aws.String(reg.TargetGroupArn),
			Targets: []elbtypes.TargetDescription{target}}); err != nil {
			return contract.AWSError(fmt.Sprintf("elasticloadbalancing:DeregisterTargets %s %s:%d", reg.TargetGroupArn, r.inst, reg.Port), err)
		}
		return nil
	}, fmt.Sprintf("aws elbv2 register-targets --target-group-arn %s --targets Id=%s,Port=%d", reg.TargetGroupArn, r.inst, reg.Port))
}
