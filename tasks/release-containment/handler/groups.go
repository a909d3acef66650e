package handler

import (
	"context"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/irflow/irflow/tasks/contract"
)

// tagQuarantine marks the groups isolate-network created (and the only
// groups this action's role may delete).
const tagQuarantine = "irflow:quarantine"

// KeptGroup is an irflow group the release left in place, and why.
type KeptGroup struct {
	GroupID string `json:"groupId"`
	Reason  string `json:"reason"`
}

// deleteGroups deletes irflow's quarantine and transit groups the ledger's
// security-group entries name once no ENI uses them (a refused ENI that
// someone moved off the group does not keep it). DeleteSecurityGroup fails with DependencyViolation
// while a group is on an ENI or referenced by another group (API
// reference, DeleteSecurityGroup); that leaves the group, with the reason.
func (r *run) deleteGroups(ctx context.Context) ([]string, []KeptGroup, error) {
	deleted, kept := []string{}, []KeptGroup{}
	for _, g := range slices.Sorted(maps.Keys(r.groups)) {
		if g == "" {
			continue
		}
		out, err := r.h.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{g}})
		switch {
		case apiCode(err) == "InvalidGroup.NotFound" || (err == nil && len(out.SecurityGroups) == 0):
			continue
		case err != nil:
			return nil, nil, contract.AWSError("ec2:DescribeSecurityGroups "+g, err)
		}
		if !hasTag(out.SecurityGroups[0].Tags, tagQuarantine) {
			kept = append(kept, KeptGroup{g, "not tagged " + tagQuarantine + ": not irflow's to delete"})
			continue
		}
		nis, err := r.h.EC2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{
			Filters: []ec2types.Filter{{Name: aws.String("group-id"), Values: []string{g}}}})
		if err != nil {
			return nil, nil, contract.AWSError("ec2:DescribeNetworkInterfaces group-id="+g, err)
		}
		switch {
		case len(nis.NetworkInterfaces) > 0 && !(r.dry && r.onlyReleasing(nis.NetworkInterfaces)):
			kept = append(kept, KeptGroup{g, "still on " + aws.ToString(nis.NetworkInterfaces[0].NetworkInterfaceId)})
			continue
		}
		if r.dry {
			deleted = append(deleted, g)
			continue
		}
		_, err = r.h.EC2.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(g)})
		switch apiCode(err) {
		case "":
			if err != nil {
				return nil, nil, contract.AWSError("ec2:DeleteSecurityGroup "+g, err)
			}
			deleted = append(deleted, g)
		case "InvalidGroup.NotFound":
		case "DependencyViolation":
			kept = append(kept, KeptGroup{g, "in use: " + err.Error()})
		default:
			return nil, nil, contract.AWSError("ec2:DeleteSecurityGroup "+g, err)
		}
	}
	return deleted, kept, nil
}

// onlyReleasing reports whether every ENI on a group is one a dry run
// would move off it.
func (r *run) onlyReleasing(nis []ec2types.NetworkInterface) bool {
	for _, ni := range nis {
		if !r.moving[aws.ToString(ni.NetworkInterfaceId)] {
			return false
		}
	}
	return true
}

func hasTag(tags []ec2types.Tag, key string) bool {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return true
		}
	}
	return false
}
