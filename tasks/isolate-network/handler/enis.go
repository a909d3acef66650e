package handler

import (
	"context"
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

// What isolation does to an ENI (outputs.enis[].treatment).
const (
	// treatNACL: the ENI is ECS's (an awsvpc task's, Fargate or EC2): its
	// groups cannot change, so network ACL entries deny its addresses.
	treatNACL = "nacl"
	// treatGroups: the instance's own ENI: moved through an all-traffic
	// group to the quarantine group.
	treatGroups = "security-groups"
	// untouchedECS and untouchedTrunk: ENIs on the instance that Amazon ECS
	// manages (other tasks' awsvpc ENIs, ENI trunking): the account may not
	// modify them, and they are not the target's.
	untouchedECS   = "untouched-ecs-managed"
	untouchedTrunk = "untouched-trunk"
)

// eniInfo is one ENI as described, with what isolation does to it.
type eniInfo struct {
	ni        ec2types.NetworkInterface
	treatment string
}

func (e eniInfo) id() string { return aws.ToString(e.ni.NetworkInterfaceId) }

// addresses are the ENI's private IPv4 and IPv6 addresses.
func (e eniInfo) addresses() (v4, v6 []string) {
	seen := map[string]bool{}
	add := func(list *[]string, ip string) {
		if ip != "" && !seen[ip] {
			seen[ip] = true
			*list = append(*list, ip)
		}
	}
	add(&v4, aws.ToString(e.ni.PrivateIpAddress))
	for _, a := range e.ni.PrivateIpAddresses {
		add(&v4, aws.ToString(a.PrivateIpAddress))
	}
	for _, a := range e.ni.Ipv6Addresses {
		add(&v6, aws.ToString(a.Ipv6Address))
	}
	return v4, v6
}

// publicIP is the ENI's public IPv4 address, if it has one.
func (e eniInfo) publicIP() string {
	if e.ni.Association != nil {
		return aws.ToString(e.ni.Association.PublicIp)
	}
	return ""
}

// untouchedPlan is the output of an ENI whose groups this run leaves alone.
func (e eniInfo) untouchedPlan() *eniPlan {
	ep := &eniPlan{ID: e.id(), VpcID: aws.ToString(e.ni.VpcId), SubnetID: aws.ToString(e.ni.SubnetId), Treatment: e.treatment}
	v4, v6 := e.addresses()
	ep.Addresses = append(v4, v6...)
	for _, g := range e.ni.Groups {
		ep.Groups = append(ep.Groups, aws.ToString(g.GroupId))
	}
	ep.Previous = ep.Groups
	switch e.treatment {
	case treatNACL:
		ep.Note = "ECS manages this ENI (its groups cannot be changed): network ACL entries deny its addresses"
	case untouchedECS:
		ep.Note = "another task's ENI that ECS manages (requester-managed): left alone"
	case untouchedTrunk:
		ep.Note = "ECS's trunk ENI (awsvpc ENI trunking): left alone"
	}
	return ep
}

// classify says what isolation does to an ENI of the instance. ECS creates
// and manages the ENIs of awsvpc tasks and of ENI trunking, and "Your
// account can't detach or modify the ENIs" (Amazon ECS task networking for
// the awsvpc network mode —
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-networking-awsvpc.html);
// EC2 marks them requester-managed, which accept tags and nothing else
// (Requester-managed network interfaces —
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/requester-managed-eni.html).
func classify(ni ec2types.NetworkInterface) string {
	switch {
	case ni.InterfaceType == ec2types.NetworkInterfaceTypeTrunk:
		return untouchedTrunk
	case ni.InterfaceType == ec2types.NetworkInterfaceTypeBranch, aws.ToBool(ni.RequesterManaged):
		return untouchedECS
	}
	return treatGroups
}

// loadENIs returns the ENIs isolation looks at, in id order: the task's
// own (awsvpc, always ECS's: network ACL entries) or every ENI attached to
// its instance (bridge/host: the instance's own are swapped, ECS's left
// alone).
func (h *Handler) loadENIs(ctx context.Context, t *incident.Target, scope string) ([]eniInfo, error) {
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
	var nis []ec2types.NetworkInterface
	pages := ec2.NewDescribeNetworkInterfacesPaginator(h.ENIs, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, contract.AWSError("ec2:DescribeNetworkInterfaces "+what, err)
		}
		nis = append(nis, page.NetworkInterfaces...)
	}
	if len(nis) == 0 || (scope == scopeTask && len(nis) < len(in.NetworkInterfaceIds)) {
		return nil, &contract.TargetNotFoundError{Resource: what, Reason: "no such network interface"}
	}
	sort.Slice(nis, func(i, j int) bool {
		return aws.ToString(nis[i].NetworkInterfaceId) < aws.ToString(nis[j].NetworkInterfaceId)
	})
	out := make([]eniInfo, 0, len(nis))
	seen := map[string]bool{}
	for _, ni := range nis {
		if seen[aws.ToString(ni.NetworkInterfaceId)] {
			continue
		}
		seen[aws.ToString(ni.NetworkInterfaceId)] = true
		treatment := treatNACL
		if scope == scopeInstance {
			treatment = classify(ni)
		}
		out = append(out, eniInfo{ni: ni, treatment: treatment})
	}
	return out, nil
}

func sortENIs(ps []*eniPlan) {
	sort.Slice(ps, func(i, j int) bool { return ps[i].ID < ps[j].ID })
}
