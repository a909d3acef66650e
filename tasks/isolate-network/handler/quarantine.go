package handler

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/irflow/irflow/tasks/contract"
)

// groupAPI finds, creates and tightens the groups irflow owns.
type groupAPI interface {
	DescribeSecurityGroups(ctx context.Context, in *ec2.DescribeSecurityGroupsInput, opts ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
	CreateSecurityGroup(ctx context.Context, in *ec2.CreateSecurityGroupInput, opts ...func(*ec2.Options)) (*ec2.CreateSecurityGroupOutput, error)
	AuthorizeSecurityGroupEgress(ctx context.Context, in *ec2.AuthorizeSecurityGroupEgressInput, opts ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupEgressOutput, error)
	AuthorizeSecurityGroupIngress(ctx context.Context, in *ec2.AuthorizeSecurityGroupIngressInput, opts ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupIngressOutput, error)
	RevokeSecurityGroupEgress(ctx context.Context, in *ec2.RevokeSecurityGroupEgressInput, opts ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupEgressOutput, error)
	RevokeSecurityGroupIngress(ctx context.Context, in *ec2.RevokeSecurityGroupIngressInput, opts ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupIngressOutput, error)
}

// Tags irflow puts on the groups it owns.
const (
	tagQuarantine = "irflow:quarantine"
	tagVariant    = "irflow:quarantine-variant"
)

// Group names and variants: "<name>" allows HTTPS to the VPC's ECS
// endpoints only; "<name>-ssm" also to its SSM and S3 endpoints;
// "<name>-transit" allows everything both ways, for the untracking step.
const (
	ssmSuffix      = "-ssm"
	transitSuffix  = "-transit"
	variantDenyAll = "deny-all"
	variantSSM     = "allow-ssm"
	variantTransit = "transit"
)

// allTraffic is every protocol to or from every address of both families:
// the rule that makes a flow untracked when it holds in both directions.
func allTraffic() []rule {
	return []rule{{Proto: "-1", CIDR: "0.0.0.0/0"}, {Proto: "-1", CIDRv6: "::/0"}}
}

// groupPlan is one group of a VPC irflow owns: the one found, or the one
// to create.
type groupPlan struct {
	VpcID     string `json:"vpcId"`
	GroupID   string `json:"groupId"` // "" until created
	GroupName string `json:"groupName"`
	Variant   string `json:"variant"`
	Created   bool   `json:"created"` // created by this run (or, in a dry run, would be)
	// Egress and Ingress are what the group allows once this run is done;
	// empty: nothing.
	Egress  []string `json:"egress"`
	Ingress []string `json:"ingress,omitempty"`
	// Tightened lists the rules this run revoked from an existing group
	// (left by an interrupted run or added by hand).
	Tightened []string `json:"tightened,omitempty"`
	S3        string   `json:"s3Endpoint,omitempty"`

	want, wantI       []rule
	haveEgress, haveI []rule
}

// ref is the group's id, or its name while it does not exist yet (a dry
// run's outputs name it).
func (gp *groupPlan) ref() string {
	if gp.GroupID != "" {
		return gp.GroupID
	}
	return gp.GroupName
}

// findGroup looks a group up by name. A group of that name that irflow did
// not tag is someone else's: irflow will not rewrite its rules.
func (h *Handler) findGroup(ctx context.Context, vpcID, name string) (*ec2types.SecurityGroup, error) {
	out, err := h.Groups.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{vpcID}},
		{Name: aws.String("group-name"), Values: []string{name}},
	}})
	if err != nil {
		return nil, contract.AWSError("ec2:DescribeSecurityGroups "+name+" in "+vpcID, err)
	}
	for i, g := range out.SecurityGroups {
		if aws.ToString(g.GroupName) != name || aws.ToString(g.VpcId) != vpcID {
			continue
		}
		if tagValue(g.Tags, tagQuarantine) != "true" {
			return nil, &contract.PreconditionFailedError{Reason: fmt.Sprintf(
				"security group %s (%s) in %s is not tagged %s=true: it is not irflow's; choose another quarantineGroupName",
				name, aws.ToString(g.GroupId), vpcID, tagQuarantine)}
		}
		return &out.SecurityGroups[i], nil
	}
	return nil, nil
}

// planGroup describes what a group is and must become: exactly the wanted
// egress and ingress rules.
func (h *Handler) planGroup(ctx context.Context, vpcID, name, variant string, want, wantI []rule) (*groupPlan, error) {
	g, err := h.findGroup(ctx, vpcID, name)
	if err != nil {
		return nil, err
	}
	gp := &groupPlan{VpcID: vpcID, GroupName: name, Variant: variant, want: want, wantI: wantI,
		Egress: ruleStrings(want), Ingress: ruleStrings(wantI)}
	if g == nil {
		gp.Created = true
		// A new group starts with allow-all IPv4 egress and no ingress.
		gp.haveEgress = []rule{{Proto: "-1", CIDR: "0.0.0.0/0"}}
		return gp, nil
	}
	gp.GroupID = aws.ToString(g.GroupId)
	gp.haveEgress, gp.haveI = explode(g.IpPermissionsEgress), explode(g.IpPermissions)
	_, removeI := diff(gp.haveI, wantI)
	_, remove := diff(gp.haveEgress, want)
	for _, r := range ruleStrings(removeI) {
		gp.Tightened = append(gp.Tightened, "ingress "+strings.Replace(r, " to ", " from ", 1))
	}
	for _, r := range ruleStrings(remove) {
		gp.Tightened = append(gp.Tightened, "egress "+r)
	}
	return gp, nil
}

// ensureGroup creates the group if needed and makes its rules exactly the
// plan's.
func (h *Handler) ensureGroup(ctx context.Context, gp *groupPlan) error {
	if gp.GroupID == "" {
		id, err := h.createGroup(ctx, gp)
		if err != nil {
			return err
		}
		gp.GroupID = id
	}
	// The four rule changes touch disjoint rules (diff), so they go at
	// once: the group is not on any ENI yet, and only the end state counts.
	addI, removeI := diff(gp.haveI, gp.wantI)
	add, remove := diff(gp.haveEgress, gp.want)
	id := aws.String(gp.GroupID)
	changes := []func() error{}
	if len(removeI) > 0 {
		changes = append(changes, func() error {
			_, err := h.Groups.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: id, IpPermissions: permissions(removeI)})
			if err != nil && apiCode(err) != "InvalidPermission.NotFound" {
				return contract.AWSError("ec2:RevokeSecurityGroupIngress "+gp.GroupID, err)
			}
			return nil
		})
	}
	if len(addI) > 0 {
		changes = append(changes, func() error {
			_, err := h.Groups.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: id, IpPermissions: permissions(addI)})
			if err != nil && apiCode(err) != "InvalidPermission.Duplicate" {
				return contract.AWSError("ec2:AuthorizeSecurityGroupIngress "+gp.GroupID, err)
			}
			return nil
		})
	}
	if len(remove) > 0 {
		changes = append(changes, func() error {
			_, err := h.Groups.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: id, IpPermissions: permissions(remove)})
			if err != nil && apiCode(err) != "InvalidPermission.NotFound" {
				return contract.AWSError("ec2:RevokeSecurityGroupEgress "+gp.GroupID, err)
			}
			return nil
		})
	}
	if len(add) > 0 {
		changes = append(changes, func() error {
			_, err := h.Groups.AuthorizeSecurityGroupEgress(ctx, &ec2.AuthorizeSecurityGroupEgressInput{GroupId: id, IpPermissions: permissions(add)})
			if err != nil && apiCode(err) != "InvalidPermission.Duplicate" {
				return contract.AWSError("ec2:AuthorizeSecurityGroupEgress "+gp.GroupID, err)
			}
			return nil
		})
	}
	return each(len(changes), func(i int) error { return changes[i]() })
}

// createGroup creates the tagged group. When a concurrent execution created
// it first, that group is used (and its rules re-asserted by the caller).
func (h *Handler) createGroup(ctx context.Context, gp *groupPlan) (string, error) {
	desc := "irflow quarantine (" + gp.Variant + "): no ingress; egress only to the VPC's ECS (and, -ssm, SSM and S3) endpoints"
	if gp.Variant == variantTransit {
		desc = "irflow transit (all traffic, both ways): ENIs pass through it so their flows become untracked before the quarantine"
	}
	out, err := h.Groups.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
		GroupName: aws.String(gp.GroupName), VpcId: aws.String(gp.VpcID), Description: aws.String(desc),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSecurityGroup, Tags: []ec2types.Tag{
			{Key: aws.String(tagQuarantine), Value: aws.String("true")},
			{Key: aws.String(tagVariant), Value: aws.String(gp.Variant)},
			{Key: aws.String("Name"), Value: aws.String(gp.GroupName)},
		}}},
	})
	if err == nil {
		return aws.ToString(out.GroupId), nil
	}
	if apiCode(err) != "InvalidGroup.Duplicate" {
		return "", contract.AWSError("ec2:CreateSecurityGroup "+gp.GroupName+" in "+gp.VpcID, err)
	}
	g, ferr := h.findGroup(ctx, gp.VpcID, gp.GroupName)
	if ferr != nil {
		return "", ferr
	}
	if g == nil {
		return "", &contract.RetryableError{Op: "ec2:CreateSecurityGroup " + gp.GroupName, Err: err}
	}
	gp.Created = false
	gp.haveEgress, gp.haveI = explode(g.IpPermissionsEgress), explode(g.IpPermissions)
	return aws.ToString(g.GroupId), nil
}

func tagValue(tags []ec2types.Tag, key string) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}
