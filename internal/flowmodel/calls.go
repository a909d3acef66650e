package flowmodel

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Call is one EC2 Query-protocol request the server accepted: the
// form-encoded parameters as the SDK sends them, and the XML response.
type Call struct {
	Action   string // "" takes Params' Action
	Params   url.Values
	Response []byte
	At       time.Time
}

// noEffect are mutating EC2 actions that change nothing the model
// represents: tags, snapshots and images, flow logs and traffic mirroring
// (they observe, they do not filter), rule descriptions, termination and
// stop protection.
var noEffect = map[string]bool{
	"CreateTags": true, "DeleteTags": true, "CreateSnapshot": true, "CreateSnapshots": true, "CreateImage": true,
	"CreateFlowLogs": true, "DeleteFlowLogs": true,
	"CreateTrafficMirrorTarget": true, "CreateTrafficMirrorFilter": true, "CreateTrafficMirrorFilterRule": true,
	"CreateTrafficMirrorSession": true, "DeleteTrafficMirrorTarget": true, "DeleteTrafficMirrorFilter": true,
	"DeleteTrafficMirrorFilterRule": true, "DeleteTrafficMirrorSession": true, "ModifyTrafficMirrorSession": true,
	"UpdateSecurityGroupRuleDescriptionsIngress": true, "UpdateSecurityGroupRuleDescriptionsEgress": true,
}

// ChangesFromCalls turns accepted EC2 requests, in order, into Changes.
// Read-only actions (Describe*, Get*, List*), dry runs and the noEffect
// actions yield nothing; every other action either maps to a Change or is an
// error naming it, so that nothing affecting groups, ACLs, ENIs or routes is
// silently ignored. Parameter names are the SDK's EC2 Query serialization
// (aws-sdk-go-v2/service/ec2 serializers.go), e.g.
// IpPermissions.1.IpRanges.1.CidrIp, SecurityGroupId.1, PortRange.From.
func ChangesFromCalls(calls []Call) ([]Change, error) {
	var out []Change
	for i, c := range calls {
		action := c.Action
		if action == "" {
			action = c.Params.Get("Action")
		}
		if c.Params.Get("DryRun") == "true" {
			continue
		}
		ch, err := changeFromCall(action, c.Params, c.Response)
		if err != nil {
			return nil, fmt.Errorf("flowmodel: call %d (%s): %w", i, action, err)
		}
		out = append(out, ch...)
	}
	return out, nil
}

func changeFromCall(action string, p url.Values, resp []byte) ([]Change, error) {
	for _, pre := range []string{"Describe", "Get", "List"} {
		if strings.HasPrefix(action, pre) {
			return nil, nil
		}
	}
	if noEffect[action] {
		return nil, nil
	}
	req := func(k string) (string, error) {
		if v := p.Get(k); v != "" {
			return v, nil
		}
		return "", fmt.Errorf("missing %s", k)
	}
	switch action {
	case "ModifyNetworkInterfaceAttribute":
		if err := onlyKeys(p, "NetworkInterfaceId", "SecurityGroupId.", "Description.", "Attachment.", "ConnectionTrackingSpecification.", "EnaSrdSpecification.", "SourceDestCheck."); err != nil {
			return nil, err
		}
		groups := indexed(p, "SecurityGroupId")
		if len(groups) == 0 {
			return nil, nil
		}
		eni, err := req("NetworkInterfaceId")
		return []Change{SetENIGroups{ENI: eni, Groups: groups}}, err
	case "ModifyInstanceAttribute":
		if p.Get("Attribute") == "groupSet" {
			return nil, notModeled("ModifyInstanceAttribute Attribute=groupSet: use GroupId.N")
		}
		groups := indexed(p, "GroupId")
		if len(groups) == 0 {
			return nil, nil // termination/stop protection, instance type, user data...: no effect on flows
		}
		inst, err := req("InstanceId")
		return []Change{SetInstanceGroups{Instance: inst, Groups: groups}}, err
	case "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress":
		return sgRuleCall(action, p)
	case "CreateSecurityGroup":
		id, err := xmlText(resp, "groupId")
		return []Change{CreateGroup{ID: id, VPC: p.Get("VpcId"), Name: p.Get("GroupName")}}, err
	case "DeleteSecurityGroup":
		id, err := req("GroupId")
		if err != nil {
			return nil, notModeled("DeleteSecurityGroup by GroupName only")
		}
		return []Change{DeleteGroup{ID: id}}, nil
	case "CreateNetworkAcl":
		id, err := xmlText(resp, "networkAclId")
		return []Change{CreateNACL{ID: id, VPC: p.Get("VpcId")}}, err
	case "DeleteNetworkAcl":
		id, err := req("NetworkAclId")
		return []Change{DeleteNACL{ID: id}}, err
	case "CreateNetworkAclEntry", "ReplaceNetworkAclEntry":
		acl, err := req("NetworkAclId")
		if err != nil {
			return nil, err
		}
		e, err := aclEntry(p)
		if action == "CreateNetworkAclEntry" {
			return []Change{CreateNACLEntry{ACL: acl, Entry: e}}, err
		}
		return []Change{ReplaceNACLEntry{ACL: acl, Entry: e}}, err
	case "DeleteNetworkAclEntry":
		acl, err := req("NetworkAclId")
		if err != nil {
			return nil, err
		}
		rule, err := strconv.Atoi(p.Get("RuleNumber"))
		return []Change{DeleteNACLEntry{ACL: acl, Rule: rule, Egress: p.Get("Egress") == "true"}}, err
	case "ReplaceNetworkAclAssociation":
		assoc, err := req("AssociationId")
		if err != nil {
			return nil, err
		}
		acl, err := req("NetworkAclId")
		if err != nil {
			return nil, err
		}
		newID, err := xmlText(resp, "newAssociationId")
		return []Change{ReplaceNACLAssociation{Association: assoc, ACL: acl, NewAssociation: newID}}, err
	case "DeleteNetworkInterface":
		id, err := req("NetworkInterfaceId")
		return []Change{ENIDown{ENI: id}}, err
	case "DetachNetworkInterface":
		id, err := req("AttachmentId")
		return []Change{DetachENI{Attachment: id}}, err
	case "StopInstances", "TerminateInstances":
		var out []Change
		for _, id := range indexed(p, "InstanceId") {
			out = append(out, InstanceDown{Instance: id})
		}
		return out, nil
	case "DeleteNatGateway":
		id, err := req("NatGatewayId")
		return []Change{DeleteNATGateway{ID: id}}, err
	case "CreateVpcEndpoint":
		// The SDK's default endpoint type is Gateway, which adds prefix-list
		// routes to route tables: not followed. An interface endpoint adds
		// ENIs and changes no existing path.
		if p.Get("VpcEndpointType") != "Interface" {
			return nil, notModeled("CreateVpcEndpoint of type %q (gateway endpoints add routes)", p.Get("VpcEndpointType"))
		}
		id, err := xmlText(resp, "vpcEndpointId")
		return []Change{AddInterfaceEndpoint{ID: id, VPC: p.Get("VpcId"), Service: p.Get("ServiceName")}}, err
	case "ModifyVpcAttribute":
		if v := p.Get("EnableDnsSupport.Value"); v != "" {
			vpc, err := req("VpcId")
			return []Change{SetVPCDNS{VPC: vpc, Enabled: v == "true"}}, err
		}
		return nil, nil // EnableDnsHostnames and usage metrics change no flow
	}
	return nil, notModeled("EC2 action %s changes state the model would have to follow; take a new FromEC2 snapshot after it instead", action)
}

// onlyKeys refuses parameters that change something the model represents
// but the mapping does not follow (a public IP, a primary IPv6 address).
func onlyKeys(p url.Values, allowed ...string) error {
	for k := range p {
		if k == "Action" || k == "Version" || k == "DryRun" {
			continue
		}
		ok := slices.ContainsFunc(allowed, func(a string) bool { return k == a || (strings.HasSuffix(a, ".") && strings.HasPrefix(k, a)) })
		if !ok {
			return notModeled("parameter %s", k)
		}
	}
	return nil
}

// indexed returns prefix.1, prefix.2, ... in index order.
func indexed(p url.Values, prefix string) []string {
	type kv struct {
		i int
		v string
	}
	var items []kv
	for k, v := range p {
		rest, ok := strings.CutPrefix(k, prefix+".")
		if !ok || strings.Contains(rest, ".") {
			continue
		}
		if i, err := strconv.Atoi(rest); err == nil && len(v) > 0 {
			items = append(items, kv{i, v[0]})
		}
	}
	slices.SortFunc(items, func(a, b kv) int { return a.i - b.i })
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.v
	}
	return out
}

// sgRuleCall maps Authorize/Revoke Ingress/Egress. The SDK sends
// IpPermissions.N.{IpProtocol,FromPort,ToPort}, .IpRanges.M.CidrIp,
// .Ipv6Ranges.M.CidrIpv6, .PrefixListIds.M.PrefixListId and
// .Groups.M.GroupId; ingress also has the legacy top-level
// IpProtocol/FromPort/ToPort/CidrIp.
func sgRuleCall(action string, p url.Values) ([]Change, error) {
	group := p.Get("GroupId")
	if group == "" {
		return nil, notModeled("%s by GroupName only", action)
	}
	if len(indexed(p, "SecurityGroupRuleId")) > 0 {
		return nil, notModeled("%s by SecurityGroupRuleId: DescribeSecurityGroups gives no rule IDs", action)
	}
	if p.Get("SourceSecurityGroupName") != "" {
		return nil, notModeled("%s with SourceSecurityGroupName", action)
	}
	var perms []types.IpPermission
	for n := 1; ; n++ {
		pre := fmt.Sprintf("IpPermissions.%d.", n)
		if !hasPrefix(p, pre) {
			break
		}
		perm := types.IpPermission{IpProtocol: aws.String(p.Get(pre + "IpProtocol"))}
		var err error
		if perm.FromPort, err = optInt(p, pre+"FromPort"); err != nil {
			return nil, err
		}
		if perm.ToPort, err = optInt(p, pre+"ToPort"); err != nil {
			return nil, err
		}
		for m := 1; hasPrefix(p, fmt.Sprintf("%sIpRanges.%d.", pre, m)); m++ {
			perm.IpRanges = append(perm.IpRanges, types.IpRange{CidrIp: aws.String(p.Get(fmt.Sprintf("%sIpRanges.%d.CidrIp", pre, m)))})
		}
		for m := 1; hasPrefix(p, fmt.Sprintf("%sIpv6Ranges.%d.", pre, m)); m++ {
			perm.Ipv6Ranges = append(perm.Ipv6Ranges, types.Ipv6Range{CidrIpv6: aws.String(p.Get(fmt.Sprintf("%sIpv6Ranges.%d.CidrIpv6", pre, m)))})
		}
		for m := 1; hasPrefix(p, fmt.Sprintf("%sPrefixListIds.%d.", pre, m)); m++ {
			perm.PrefixListIds = append(perm.PrefixListIds, types.PrefixListId{PrefixListId: aws.String(p.Get(fmt.Sprintf("%sPrefixListIds.%d.PrefixListId", pre, m)))})
		}
		for m := 1; hasPrefix(p, fmt.Sprintf("%sGroups.%d.", pre, m)); m++ {
			k := fmt.Sprintf("%sGroups.%d.", pre, m)
			perm.UserIdGroupPairs = append(perm.UserIdGroupPairs, types.UserIdGroupPair{GroupId: aws.String(p.Get(k + "GroupId")), GroupName: aws.String(p.Get(k + "GroupName"))})
		}
		perms = append(perms, perm)
	}
	if proto := p.Get("IpProtocol"); proto != "" {
		perm := types.IpPermission{IpProtocol: aws.String(proto)}
		var err error
		if perm.FromPort, err = optInt(p, "FromPort"); err != nil {
			return nil, err
		}
		if perm.ToPort, err = optInt(p, "ToPort"); err != nil {
			return nil, err
		}
		if c := p.Get("CidrIp"); c != "" {
			perm.IpRanges = []types.IpRange{{CidrIp: aws.String(c)}}
		}
		perms = append(perms, perm)
	}
	rules, err := RulesFromPermissions(perms)
	if err != nil {
		return nil, err
	}
	if len(rules) == 0 {
		return nil, fmt.Errorf("no rule in the request")
	}
	egress := strings.HasSuffix(action, "Egress")
	if strings.HasPrefix(action, "Authorize") {
		return []Change{Authorize{Group: group, Egress: egress, Rules: rules}}, nil
	}
	return []Change{Revoke{Group: group, Egress: egress, Rules: rules}}, nil
}

func hasPrefix(p url.Values, pre string) bool {
	for k := range p {
		if strings.HasPrefix(k, pre) {
			return true
		}
	}
	return false
}

func optInt(p url.Values, k string) (*int32, error) {
	v := p.Get(k)
	if v == "" {
		return nil, nil
	}
	i, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("%s=%q: %w", k, v, err)
	}
	return aws.Int32(int32(i)), nil
}

// aclEntry reads CreateNetworkAclEntry/ReplaceNetworkAclEntry parameters:
// RuleNumber, Protocol, RuleAction, Egress, CidrBlock or Ipv6CidrBlock,
// PortRange.From/To, Icmp.Type/Code.
func aclEntry(p url.Values) (NACLEntry, error) {
	e := NACLEntry{Egress: p.Get("Egress") == "true", Allow: p.Get("RuleAction") == "allow", ICMPType: -1, ICMPCode: -1, FromPort: 0, ToPort: 65535}
	var err error
	if e.Rule, err = strconv.Atoi(p.Get("RuleNumber")); err != nil {
		return e, fmt.Errorf("RuleNumber: %w", err)
	}
	if e.Protocol, err = ParseProtocol(p.Get("Protocol")); err != nil {
		return e, err
	}
	c := p.Get("CidrBlock")
	if c == "" {
		c = p.Get("Ipv6CidrBlock")
	}
	b := &builder{}
	if e.CIDR = b.prefix(c, "CidrBlock"); b.err != nil || !e.CIDR.IsValid() {
		return e, fmt.Errorf("CidrBlock/Ipv6CidrBlock %q", c)
	}
	for k, dst := range map[string]*int{"PortRange.From": &e.FromPort, "PortRange.To": &e.ToPort, "Icmp.Type": &e.ICMPType, "Icmp.Code": &e.ICMPCode} {
		if v := p.Get(k); v != "" {
			if *dst, err = strconv.Atoi(v); err != nil {
				return e, fmt.Errorf("%s: %w", k, err)
			}
		}
	}
	return e, nil
}

// xmlText returns the text of the first element named name in an EC2 XML
// response.
func xmlText(resp []byte, name string) (string, error) {
	d := xml.NewDecoder(bytes.NewReader(resp))
	for {
		tok, err := d.Token()
		if err != nil {
			return "", fmt.Errorf("response has no <%s>", name)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == name {
			var s string
			if err := d.DecodeElement(&s, &se); err != nil {
				return "", err
			}
			return strings.TrimSpace(s), nil
		}
	}
}
