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

// naclAPI reads a VPC's network ACLs and adds deny entries to them.
type naclAPI interface {
	DescribeNetworkAcls(ctx context.Context, in *ec2.DescribeNetworkAclsInput, opts ...func(*ec2.Options)) (*ec2.DescribeNetworkAclsOutput, error)
	CreateNetworkAclEntry(ctx context.Context, in *ec2.CreateNetworkAclEntryInput, opts ...func(*ec2.Options)) (*ec2.CreateNetworkAclEntryOutput, error)
}

// defaultRule is the number of the "*" rule every network ACL ends with in
// each direction; it cannot be changed and does not count as one's own.
const defaultRule = 32767

// naclEntry is one deny entry for a task address in one network ACL and
// direction (outputs.naclEntries). Inbound entries match the source,
// outbound entries the destination ("Network ACL rules" —
// https://docs.aws.amazon.com/vpc/latest/userguide/nacl-rules.html), so
// the pair cuts the task off from every subnet whose traffic crosses this
// ACL, established flows included: network ACLs are stateless ("Network ACL
// basics" — https://docs.aws.amazon.com/vpc/latest/userguide/nacl-basics.html).
type naclEntry struct {
	NetworkAclID string `json:"networkAclId"`
	VpcID        string `json:"vpcId"`
	Egress       bool   `json:"egress"`
	RuleNumber   int32  `json:"ruleNumber"`
	CidrBlock    string `json:"cidrBlock,omitempty"`
	Ipv6Block    string `json:"ipv6CidrBlock,omitempty"`
	Address      string `json:"address"`
	ENI          string `json:"networkInterfaceId"`
	// LowestAllow is the rule number of the ACL's first allow rule in that
	// direction and family, which this deny precedes.
	LowestAllow int32 `json:"lowestAllow"`
	// Existing says the deny was there already (an earlier run).
	Existing bool `json:"existing"`
	// Subnets are the subnets associated with the ACL.
	Subnets []string `json:"subnets"`

	taskArn string
}

// address is one task address to deny, with the ENI it belongs to.
type address struct {
	ip, eni, vpc string
	v6           bool
}

func (a address) cidr() string {
	if a.v6 {
		return a.ip + "/128"
	}
	return a.ip + "/32"
}

// planNACL plans, for every network ACL of the task's VPCs, an inbound and
// an outbound deny of every task address, each at a free rule number below
// the ACL's lowest allow rule of that direction and family: rules are
// evaluated in ascending order and the first match wins, so a deny after an
// allow never applies. Every ACL of the VPC, not only the task subnet's:
// traffic inside a subnet crosses no ACL, but a flow to another subnet
// crosses that subnet's ACL too, whose rules can name the task's private
// address (a NAT gateway's subnet sees it as the source of every outbound
// packet). The whole plan is made before anything is added, and any ACL
// without room fails it (PreconditionFailedError naming the ACL and why):
// a half-applied isolation would look complete.
// prefetched holds ACLs already read, by VPC.
func (h *Handler) planNACL(ctx context.Context, taskArn string, enis []eniInfo, quota int, prefetched map[string][]ec2types.NetworkAcl) ([]*naclEntry, error) {
	byVPC := map[string][]address{}
	var vpcs []string
	for _, e := range enis {
		vpc := aws.ToString(e.ni.VpcId)
		if _, ok := byVPC[vpc]; !ok {
			vpcs = append(vpcs, vpc)
		}
		v4, v6 := e.addresses()
		for _, ip := range v4 {
			byVPC[vpc] = append(byVPC[vpc], address{ip: ip, eni: e.id(), vpc: vpc})
		}
		for _, ip := range v6 {
			byVPC[vpc] = append(byVPC[vpc], address{ip: ip, eni: e.id(), vpc: vpc, v6: true})
		}
	}
	sort.Strings(vpcs)
	var out []*naclEntry
	var problems []string
	for _, vpc := range vpcs {
		if len(byVPC[vpc]) == 0 {
			problems = append(problems, fmt.Sprintf("the task's ENIs in %s report no private address to deny", vpc))
			continue
		}
		acls, ok := prefetched[vpc]
		if !ok {
			var err error
			if acls, err = h.vpcACLs(ctx, vpc); err != nil {
				return nil, err
			}
		}
		if len(acls) == 0 {
			problems = append(problems, vpc+" has no network ACL")
		}
		for _, acl := range acls {
			for _, egress := range []bool{false, true} {
				entries, errs := planDirection(acl, egress, byVPC[vpc], quota)
				problems = append(problems, errs...)
				for _, e := range entries {
					e.taskArn = taskArn
				}
				out = append(out, entries...)
			}
		}
	}
	if len(problems) > 0 {
		return nil, &contract.PreconditionFailedError{Reason: "cannot deny the task's addresses in every network ACL, so nothing was changed: " +
			strings.Join(problems, "; ")}
	}
	return out, nil
}

// vpcACLs lists the VPC's network ACLs in id order.
func (h *Handler) vpcACLs(ctx context.Context, vpc string) ([]ec2types.NetworkAcl, error) {
	var acls []ec2types.NetworkAcl
	pages := ec2.NewDescribeNetworkAclsPaginator(h.NACLs, &ec2.DescribeNetworkAclsInput{
		Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpc}}}})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, contract.AWSError("ec2:DescribeNetworkAcls of "+vpc, err)
		}
		acls = append(acls, page.NetworkAcls...)
	}
	sort.Slice(acls, func(i, j int) bool { return aws.ToString(acls[i].NetworkAclId) < aws.ToString(acls[j].NetworkAclId) })
	return acls, nil
}

// planDirection plans one ACL's entries of one direction. Rule numbers are
// unique per direction whatever the family; the quota counts each family
// apart, the default rule included.
func planDirection(acl ec2types.NetworkAcl, egress bool, addrs []address, quota int) ([]*naclEntry, []string) {
	id := aws.ToString(acl.NetworkAclId)
	dir := map[bool]string{false: "inbound", true: "outbound"}[egress]
	used := map[int32]bool{}
	for _, e := range acl.Entries {
		if aws.ToBool(e.Egress) == egress {
			used[aws.ToInt32(e.RuleNumber)] = true
		}
	}
	var subnets []string
	for _, as := range acl.Associations {
		subnets = append(subnets, aws.ToString(as.SubnetId))
	}
	sort.Strings(subnets)
	var out []*naclEntry
	var problems []string
	for _, v6 := range []bool{false, true} {
		var fam []address
		for _, a := range addrs {
			if a.v6 == v6 {
				fam = append(fam, a)
			}
		}
		if len(fam) == 0 {
			continue
		}
		family := map[bool]string{false: "IPv4", true: "IPv6"}[v6]
		var own []ec2types.NetworkAclEntry
		lowest := int32(0)
		for _, e := range acl.Entries {
			n := aws.ToInt32(e.RuleNumber)
			if aws.ToBool(e.Egress) != egress || (aws.ToString(e.Ipv6CidrBlock) != "") != v6 || n >= defaultRule {
				continue
			}
			own = append(own, e)
			if e.RuleAction == ec2types.RuleActionAllow && (lowest == 0 || n < lowest) {
				lowest = n
			}
		}
		if lowest == 0 {
			continue // no allow: the default rule already drops the task's traffic here
		}
		var need []address
		for _, a := range fam {
			if n, ok := existingDeny(own, a, lowest); ok {
				out = append(out, (&naclEntry{NetworkAclID: id, VpcID: a.vpc, Egress: egress, RuleNumber: n, Address: a.ip, ENI: a.eni,
					LowestAllow: lowest, Existing: true, Subnets: subnets}).withCIDR(a))
				continue
			}
			need = append(need, a)
		}
		if len(need) == 0 {
			continue
		}
		if len(own)+len(need)+1 > quota {
			problems = append(problems, fmt.Sprintf("network ACL %s has %d %s %s rules of its own: %d more would pass the quota of %d per direction and family (the default rule included)",
				id, len(own), dir, family, len(need), quota))
			continue
		}
		next := lowest - 1
		for _, a := range need {
			for next >= 1 && used[next] {
				next--
			}
			if next < 1 {
				problems = append(problems, fmt.Sprintf("network ACL %s has no free %s rule number below its lowest %s allow rule %d", id, dir, family, lowest))
				break
			}
			used[next] = true
			out = append(out, (&naclEntry{NetworkAclID: id, VpcID: a.vpc, Egress: egress, RuleNumber: next, Address: a.ip, ENI: a.eni,
				LowestAllow: lowest, Subnets: subnets}).withCIDR(a))
		}
	}
	return out, problems
}

func (e *naclEntry) withCIDR(a address) *naclEntry {
	if a.v6 {
		e.Ipv6Block = a.cidr()
	} else {
		e.CidrBlock = a.cidr()
	}
	return e
}

// existingDeny finds a deny of all traffic for the address ahead of the
// ACL's first allow (an earlier run's).
func existingDeny(own []ec2types.NetworkAclEntry, a address, lowest int32) (int32, bool) {
	for _, e := range own {
		n := aws.ToInt32(e.RuleNumber)
		cidr := aws.ToString(e.CidrBlock)
		if a.v6 {
			cidr = aws.ToString(e.Ipv6CidrBlock)
		}
		if e.RuleAction == ec2types.RuleActionDeny && aws.ToString(e.Protocol) == "-1" && cidr == a.cidr() && n < lowest {
			return n, true
		}
	}
	return 0, false
}

// addNACLEntries adds the planned entries that are not there yet, at once
// (each). A rule number taken meanwhile (another execution) is a
// RetryableError: the retry plans again from the ACLs as they are then.
// Of several failures the first in plan order is reported.
func (h *Handler) addNACLEntries(ctx context.Context, entries []*naclEntry) error {
	var missing []*naclEntry
	for _, e := range entries {
		if !e.Existing {
			missing = append(missing, e)
		}
	}
	return each(len(missing), func(i int) error { return h.addNACLEntry(ctx, missing[i]) })
}

func (h *Handler) addNACLEntry(ctx context.Context, e *naclEntry) error {
	in := &ec2.CreateNetworkAclEntryInput{NetworkAclId: aws.String(e.NetworkAclID), RuleNumber: aws.Int32(e.RuleNumber),
		Egress: aws.Bool(e.Egress), Protocol: aws.String("-1"), RuleAction: ec2types.RuleActionDeny}
	if e.Ipv6Block != "" {
		in.Ipv6CidrBlock = aws.String(e.Ipv6Block)
	} else {
		in.CidrBlock = aws.String(e.CidrBlock)
	}
	_, err := h.NACLs.CreateNetworkAclEntry(ctx, in)
	op := fmt.Sprintf("ec2:CreateNetworkAclEntry %s %s rule %d deny %s%s", e.NetworkAclID,
		map[bool]string{false: "ingress", true: "egress"}[e.Egress], e.RuleNumber, e.CidrBlock, e.Ipv6Block)
	switch apiCode(err) {
	case "":
		return nil
	case "NetworkAclEntryAlreadyExists":
		return &contract.RetryableError{Op: op, Err: err}
	case "NetworkAclEntryLimitExceeded":
		return &contract.PreconditionFailedError{Reason: op + ": the ACL's rule quota is lower than planned (set with.naclRuleQuota): " + err.Error()}
	}
	return contract.AWSError(op, err)
}
