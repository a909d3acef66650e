package handler

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/irflow/irflow/tasks/contract"
)

// tagPrevious holds an ENI's groups from before its first isolation, comma
// separated. A tag value holds 256 characters and an ENI up to 16 groups, so
// beyond idsPerTag ids the list goes on in tagPrevious-2, -3, ...
const (
	tagPrevious = "irflow:previous-security-groups"
	idsPerTag   = 12
	maxTagParts = 4
)

// eniPlan is what happens to one ENI; its exported fields are the outputs
// (outputs.enis).
type eniPlan struct {
	ID        string   `json:"id"`
	VpcID     string   `json:"vpcId"`
	SubnetID  string   `json:"subnetId,omitempty"`
	Treatment string   `json:"treatment"`
	Addresses []string `json:"addresses,omitempty"`
	// Previous are the groups to restore: the ENI's groups before its first
	// isolation (nil when an ENI found isolated carries no record of them).
	Previous []string `json:"previousSecurityGroups"`
	Groups   []string `json:"securityGroups"`
	Changed  bool     `json:"changed"`
	// Recorded says Previous is (or, in a dry run, would be) on the ENI's tag.
	Recorded bool   `json:"previousRecorded"`
	Note     string `json:"note,omitempty"`

	write     bool     // the tag must be (re)written before the swap
	tagParts  []string // tagPrevious keys present on the ENI
	onTransit bool     // found on the transit group (a run cut short)
}

// planSwap designs each VPC's quarantine and transit groups and decides
// every instance ENI's previous groups.
func (h *Handler) planSwap(ctx context.Context, p *contract.Payload, pl *plan, nis []eniInfo, base string) error {
	vpcs := map[string]*groupPlan{}
	transit := map[string]*groupPlan{}
	for _, ni := range nis {
		vpc := aws.ToString(ni.ni.VpcId)
		if _, ok := vpcs[vpc]; ok {
			continue
		}
		// The transit group is looked up while the quarantine's rules are
		// worked out from the VPC's endpoints: they do not depend on each other.
		var tp, gp *groupPlan
		var q *quarantine
		err := each(2, func(i int) error {
			var err error
			if i == 1 {
				tp, err = h.planGroup(ctx, vpc, base+transitSuffix, variantTransit, allTraffic(), allTraffic())
				return err
			}
			if q, err = h.quarantineRules(ctx, pl, vpc, regionOf(p), base); err != nil {
				return err
			}
			gp, err = h.planGroup(ctx, vpc, q.name, q.variant, q.rules, nil)
			return err
		})
		if err != nil {
			return err
		}
		gp.S3 = q.s3
		vpcs[vpc] = gp
		pl.groups = append(pl.groups, gp)
		transit[vpc] = tp
		pl.transit = append(pl.transit, tp)
	}
	sort.Slice(pl.groups, func(i, j int) bool { return pl.groups[i].VpcID < pl.groups[j].VpcID })
	sort.Slice(pl.transit, func(i, j int) bool { return pl.transit[i].VpcID < pl.transit[j].VpcID })
	isQuarantine := func(g ec2types.GroupIdentifier) bool {
		n := aws.ToString(g.GroupName)
		return n == base || n == base+ssmSuffix || n == base+transitSuffix
	}
	for _, ni := range nis {
		vpc := aws.ToString(ni.ni.VpcId)
		q := vpcs[vpc].ref()
		ep := planENI(ni.ni, q, isQuarantine)
		ep.onTransit = ep.Changed && len(ni.ni.Groups) == 1 && aws.ToString(ni.ni.Groups[0].GroupName) == base+transitSuffix
		pl.enis = append(pl.enis, ep)
	}
	return nil
}

// planENI decides what the ENI's previous groups are. Quarantine groups of
// any variant never count as previous groups: an ENI already on one keeps
// the originals recorded on its tag.
func planENI(ni ec2types.NetworkInterface, quarantine string, isQuarantine func(ec2types.GroupIdentifier) bool) *eniPlan {
	ep := &eniPlan{ID: aws.ToString(ni.NetworkInterfaceId), VpcID: aws.ToString(ni.VpcId), SubnetID: aws.ToString(ni.SubnetId),
		Treatment: treatGroups, Groups: []string{quarantine}}
	v4, v6 := eniInfo{ni: ni}.addresses()
	ep.Addresses = append(v4, v6...)
	recorded, parts := readPrevious(ni.TagSet)
	ep.tagParts = parts
	var current, others []string
	for _, g := range ni.Groups {
		current = append(current, aws.ToString(g.GroupId))
		if !isQuarantine(g) {
			others = append(others, aws.ToString(g.GroupId))
		}
	}
	ep.Changed = len(current) != 1 || current[0] != quarantine
	switch {
	case len(others) < len(current) && len(recorded) > 0:
		// On a quarantine group already: the tag has the originals.
		ep.Previous, ep.Recorded = recorded, true
	case len(others) < len(current):
		// On a quarantine group with no record: report what else it has, if anything.
		ep.Previous = others
	default:
		ep.Previous, ep.Recorded, ep.write = current, true, true
	}
	return ep
}

// isolate records the ENI's previous groups on its tag, then moves it to
// the transit group (which allows all traffic both ways, so every flow on
// the ENI becomes untracked) and from there to the quarantine group alone,
// as AWS's AWSSupport-ContainEC2Instance runbook does. A tracked
// connection survives a group change ("If you remove a security group rule
// ... existing tracked connections are not interrupted"); an untracked one
// is judged by the new rules on its next packet (Amazon EC2 security group
// connection tracking —
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/security-group-connection-tracking.html).
// Tagging first means a run cut short leaves the originals recorded. A
// denied CreateTags does not stop the isolation: containment comes first
// and the outputs and the ledger keep the groups.
func (h *Handler) isolate(ctx context.Context, ep *eniPlan, transit, quarantine string) error {
	if !ep.Changed {
		return nil
	}
	steps := []string{transit, quarantine}
	if ep.onTransit {
		steps = steps[1:]
	}
	for _, g := range steps {
		_, err := h.ENIs.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{
			NetworkInterfaceId: aws.String(ep.ID), Groups: []string{g},
		})
		if err != nil {
			return contract.AWSError("ec2:ModifyNetworkInterfaceAttribute "+ep.ID+" groups="+g, err)
		}
	}
	return nil
}

// tagPrevious writes the ENI's original groups on its tag (before it
// moves: isolate) and sets the groups it will end with.
func (h *Handler) tagPrevious(ctx context.Context, ep *eniPlan, quarantine string) error {
	ep.Groups = []string{quarantine}
	if tags := previousTags(ep.Previous, ep.tagParts); ep.write && len(tags) > 0 {
		_, err := h.ENIs.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{ep.ID}, Tags: tags})
		switch {
		case denied(err):
			ep.Recorded = false
		case err != nil:
			return contract.AWSError("ec2:CreateTags "+tagPrevious+" on "+ep.ID, err)
		}
	}
	return nil
}

func partKey(i int) string {
	if i == 0 {
		return tagPrevious
	}
	return fmt.Sprintf("%s-%d", tagPrevious, i+1)
}

// readPrevious returns the recorded groups and the tag keys holding them.
func readPrevious(tags []ec2types.Tag) (ids, keys []string) {
	for i := 0; i < maxTagParts; i++ {
		v, ok := "", false
		for _, t := range tags {
			if aws.ToString(t.Key) == partKey(i) {
				v, ok = aws.ToString(t.Value), true
			}
		}
		if !ok {
			continue
		}
		keys = append(keys, partKey(i))
		for _, id := range strings.Split(v, ",") {
			if id = strings.TrimSpace(id); id != "" {
				ids = append(ids, id)
			}
		}
	}
	return ids, keys
}

// previousTags writes ids over as many tag keys as needed and blanks the
// keys a longer earlier list used (DeleteTags is not in irflow's policy).
func previousTags(ids, existing []string) []ec2types.Tag {
	var tags []ec2types.Tag
	used := map[string]bool{}
	for i := 0; i*idsPerTag < len(ids) && i < maxTagParts; i++ {
		end := min((i+1)*idsPerTag, len(ids))
		tags = append(tags, ec2types.Tag{Key: aws.String(partKey(i)), Value: aws.String(strings.Join(ids[i*idsPerTag:end], ","))})
		used[partKey(i)] = true
	}
	for _, k := range existing {
		if !used[k] {
			tags = append(tags, ec2types.Tag{Key: aws.String(k), Value: aws.String("")})
		}
	}
	return tags
}
