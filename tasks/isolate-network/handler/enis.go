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
	"github.com/irflow/irflow/tasks/incident"
)

// eniAPI reads network interfaces, records their groups and re-points them.
type eniAPI interface {
	DescribeNetworkInterfaces(ctx context.Context, in *ec2.DescribeNetworkInterfacesInput, opts ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error)
	CreateTags(ctx context.Context, in *ec2.CreateTagsInput, opts ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error)
	ModifyNetworkInterfaceAttribute(ctx context.Context, in *ec2.ModifyNetworkInterfaceAttributeInput, opts ...func(*ec2.Options)) (*ec2.ModifyNetworkInterfaceAttributeOutput, error)
}

// tagPrevious holds an ENI's groups from before its first isolation, comma
// separated. A tag value holds 256 characters and an ENI up to 16 groups, so
// beyond idsPerTag ids the list goes on in tagPrevious-2, -3, ...
const (
	tagPrevious = "irflow:previous-security-groups"
	idsPerTag   = 12
	maxTagParts = 4
)

// eniPlan is what happens to one ENI; its exported fields are the outputs.
type eniPlan struct {
	ID    string `json:"id"`
	VpcID string `json:"vpcId"`
	// Previous are the groups to restore: the ENI's groups before its first
	// isolation (nil when an ENI found isolated carries no record of them).
	Previous []string `json:"previousSecurityGroups"`
	Groups   []string `json:"securityGroups"`
	Changed  bool     `json:"changed"`
	// Recorded says Previous is (or, in a dry run, would be) on the ENI's tag.
	Recorded bool `json:"previousRecorded"`

	write    bool     // the tag must be (re)written before the swap
	tagParts []string // tagPrevious keys present on the ENI
}

// loadENIs returns the ENIs to isolate: the task's own (awsvpc) or every ENI
// attached to its instance (bridge/host), in id order.
func (h *Handler) loadENIs(ctx context.Context, t *incident.Target, scope string) ([]ec2types.NetworkInterface, error) {
	in := &ec2.DescribeNetworkInterfacesInput{}
	what := ""
	if scope == scopeTask {
		seen := map[string]bool{}
		for _, e := range t.ENIs {
			if e.ID != "" && !seen[e.ID] {
				seen[e.ID] = true
				in.NetworkInterfaceIds = append(in.NetworkInterfaceIds, e.ID)
			}
		}
		if len(in.NetworkInterfaceIds) == 0 {
			return nil, &contract.PreconditionFailedError{Reason: "the awsvpc task has no ENI in the target (stopped before resolve-target?)"}
		}
		what = "task ENIs " + strings.Join(in.NetworkInterfaceIds, ",")
	} else {
		if t.InstanceID == "" {
			return nil, &contract.PreconditionFailedError{Reason: "the " + t.NetworkMode + " task has no container instance in the target: nothing to isolate"}
		}
		in.Filters = []ec2types.Filter{{Name: aws.String("attachment.instance-id"), Values: []string{t.InstanceID}}}
		what = "ENIs of instance " + t.InstanceID
	}
	var out []ec2types.NetworkInterface
	pages := ec2.NewDescribeNetworkInterfacesPaginator(h.ENIs, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, contract.AWSError("ec2:DescribeNetworkInterfaces "+what, err)
		}
		out = append(out, page.NetworkInterfaces...)
	}
	if len(out) == 0 || (scope == scopeTask && len(out) < len(in.NetworkInterfaceIds)) {
		return nil, &contract.TargetNotFoundError{Resource: what, Reason: "no such network interface"}
	}
	sort.Slice(out, func(i, j int) bool {
		return aws.ToString(out[i].NetworkInterfaceId) < aws.ToString(out[j].NetworkInterfaceId)
	})
	return out, nil
}

// planENI decides what the ENI's previous groups are. Quarantine groups of
// either variant never count as previous groups: an ENI already on one keeps
// the originals recorded on its tag.
func planENI(ni ec2types.NetworkInterface, quarantine string, isQuarantine func(ec2types.GroupIdentifier) bool) *eniPlan {
	ep := &eniPlan{ID: aws.ToString(ni.NetworkInterfaceId), VpcID: aws.ToString(ni.VpcId), Groups: []string{quarantine}}
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

// isolate records the ENI's previous groups on its tag, then puts it on the
// quarantine group alone. Tagging first means a run cut short between the
// two calls leaves the originals recorded. A denied CreateTags does not stop
// the isolation: containment comes first and the outputs keep the groups.
func (h *Handler) isolate(ctx context.Context, ep *eniPlan, quarantine string) error {
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
	if !ep.Changed {
		return nil
	}
	_, err := h.ENIs.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{
		NetworkInterfaceId: aws.String(ep.ID), Groups: []string{quarantine},
	})
	if err != nil {
		return contract.AWSError("ec2:ModifyNetworkInterfaceAttribute "+ep.ID+" groups="+quarantine, err)
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
