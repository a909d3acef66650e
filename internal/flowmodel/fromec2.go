package flowmodel

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// EC2State is what the EC2 Describe calls return, every page concatenated:
// the element types of DescribeVpcs, DescribeSubnets, DescribeRouteTables,
// DescribeNetworkAcls, DescribeSecurityGroups, DescribeNetworkInterfaces,
// DescribeNatGateways, DescribeInternetGateways,
// DescribeEgressOnlyInternetGateways, DescribeVpcEndpoints,
// DescribePrefixLists (AWS service prefix lists, with their CIDRs) and
// DescribeManagedPrefixLists with GetManagedPrefixListEntries per list.
// Gather fills it through any client; a test can build it by hand.
type EC2State struct {
	VPCs                     []types.Vpc
	Subnets                  []types.Subnet
	RouteTables              []types.RouteTable
	NetworkACLs              []types.NetworkAcl
	SecurityGroups           []types.SecurityGroup
	NetworkInterfaces        []types.NetworkInterface
	NATGateways              []types.NatGateway
	InternetGateways         []types.InternetGateway
	EgressOnlyGateways       []types.EgressOnlyInternetGateway
	VPCEndpoints             []types.VpcEndpoint
	PrefixLists              []types.PrefixList
	ManagedPrefixLists       []types.ManagedPrefixList
	ManagedPrefixListEntries map[string][]types.PrefixListEntry // by prefix list ID
}

// FromEC2 builds a Network from Describe outputs. It tolerates what moto
// leaves out: a subnet with no explicit route-table association uses the
// VPC's main route table, a subnet no network ACL lists uses the default
// ACL, a VPC's local route is assumed, a NAT gateway whose ENI is not listed
// still has its private IP. An ENI whose status is "available" is not
// attached and carries no traffic: it is marked Down. Malformed addresses
// are errors, naming the resource.
func FromEC2(s EC2State) (*Network, error) {
	n := NewNetwork()
	b := &builder{n: n}
	each(s.VPCs, b.vpc)
	each(s.Subnets, b.subnet)
	each(s.RouteTables, b.routeTable)
	each(s.NetworkACLs, b.acl)
	each(s.SecurityGroups, b.group)
	each(s.NetworkInterfaces, b.eni)
	each(s.NATGateways, b.nat)
	for _, g := range s.InternetGateways {
		ig := &InternetGateway{ID: aws.ToString(g.InternetGatewayId), VPC: attachedVPC(g.Attachments)}
		n.InternetGateways[ig.ID] = ig
	}
	for _, g := range s.EgressOnlyGateways {
		ig := &InternetGateway{ID: aws.ToString(g.EgressOnlyInternetGatewayId), EgressOnly: true, VPC: attachedVPC(g.Attachments)}
		n.InternetGateways[ig.ID] = ig
	}
	for _, e := range s.VPCEndpoints {
		ep := &VPCEndpoint{ID: aws.ToString(e.VpcEndpointId), VPC: aws.ToString(e.VpcId), Service: aws.ToString(e.ServiceName),
			Gateway: e.VpcEndpointType == types.VpcEndpointTypeGateway, ENIs: e.NetworkInterfaceIds, RouteTables: e.RouteTableIds}
		n.Endpoints[ep.ID] = ep
		for _, id := range ep.ENIs {
			if x := n.ENIs[id]; x != nil && x.Kind == KindInterface {
				x.Kind = KindInterfaceEndpoint
			}
		}
	}
	for _, p := range s.PrefixLists {
		pl := &PrefixList{ID: aws.ToString(p.PrefixListId), Name: aws.ToString(p.PrefixListName)}
		for _, c := range p.Cidrs {
			pl.CIDRs = append(pl.CIDRs, b.prefix(c, pl.ID))
		}
		n.PrefixLists[pl.ID] = pl
	}
	for _, p := range s.ManagedPrefixLists {
		pl := &PrefixList{ID: aws.ToString(p.PrefixListId), Name: aws.ToString(p.PrefixListName)}
		for _, e := range s.ManagedPrefixListEntries[pl.ID] {
			pl.CIDRs = append(pl.CIDRs, b.prefix(aws.ToString(e.Cidr), pl.ID))
		}
		n.PrefixLists[pl.ID] = pl
	}
	return n, b.err
}

// builder keeps the first malformed value so that each conversion stays one
// line.
type builder struct {
	n   *Network
	err error
}

// each adds every resource of a kind to the network.
func each[T any](xs []T, add func(T)) {
	for _, x := range xs {
		add(x)
	}
}

// attachedVPC is the VPC an internet gateway (or an egress-only one) is
// attached to, "" when none. AWS reports an attached gateway as
// "available"; moto as "attached".
func attachedVPC(atts []types.InternetGatewayAttachment) string {
	vpc := ""
	for _, a := range atts {
		if st := string(a.State); st == "available" || st == "attached" || st == "" {
			vpc = aws.ToString(a.VpcId)
		}
	}
	return vpc
}

func (b *builder) prefix(s, where string) netip.Prefix {
	if s == "" {
		return netip.Prefix{}
	}
	p, err := netip.ParsePrefix(s)
	if err != nil && b.err == nil {
		b.err = fmt.Errorf("flowmodel: %s: %w", where, err)
	}
	return p.Masked()
}

func (b *builder) addr(s *string, where string) netip.Addr {
	if aws.ToString(s) == "" {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(*s)
	if err != nil && b.err == nil {
		b.err = fmt.Errorf("flowmodel: %s: %w", where, err)
	}
	return a
}

func (b *builder) vpc(v types.Vpc) {
	id := aws.ToString(v.VpcId)
	x := &VPC{ID: id}
	if c := aws.ToString(v.CidrBlock); c != "" {
		x.CIDRs = append(x.CIDRs, b.prefix(c, id))
	}
	for _, a := range v.CidrBlockAssociationSet {
		p := b.prefix(aws.ToString(a.CidrBlock), id)
		if p.IsValid() && (len(x.CIDRs) == 0 || x.CIDRs[0] != p) && (a.CidrBlockState == nil || a.CidrBlockState.State == types.VpcCidrBlockStateCodeAssociated) {
			x.CIDRs = append(x.CIDRs, p)
		}
	}
	for _, a := range v.Ipv6CidrBlockAssociationSet {
		if p := b.prefix(aws.ToString(a.Ipv6CidrBlock), id); p.IsValid() {
			x.IPv6CIDRs = append(x.IPv6CIDRs, p)
		}
	}
	b.n.VPCs[id] = x
}

func (b *builder) subnet(s types.Subnet) {
	id := aws.ToString(s.SubnetId)
	x := &Subnet{ID: id, VPC: aws.ToString(s.VpcId), CIDR: b.prefix(aws.ToString(s.CidrBlock), id)}
	for _, a := range s.Ipv6CidrBlockAssociationSet {
		x.IPv6CIDR = b.prefix(aws.ToString(a.Ipv6CidrBlock), id)
	}
	b.n.Subnets[id] = x
}

func (b *builder) routeTable(rt types.RouteTable) {
	id := aws.ToString(rt.RouteTableId)
	x := &RouteTable{ID: id, VPC: aws.ToString(rt.VpcId)}
	for _, a := range rt.Associations {
		if aws.ToBool(a.Main) {
			if v := b.n.VPCs[x.VPC]; v != nil {
				v.MainRouteTable = id
			}
		}
		if s := b.n.Subnets[aws.ToString(a.SubnetId)]; s != nil {
			s.RouteTable = id
		}
	}
	for _, r := range rt.Routes {
		route := Route{PrefixList: aws.ToString(r.DestinationPrefixListId), Blackhole: r.State == types.RouteStateBlackhole}
		if c := aws.ToString(r.DestinationCidrBlock); c != "" {
			route.Dest = b.prefix(c, id)
		} else if c := aws.ToString(r.DestinationIpv6CidrBlock); c != "" {
			route.Dest = b.prefix(c, id)
		}
		for _, t := range []*string{r.NatGatewayId, r.TransitGatewayId, r.VpcPeeringConnectionId, r.EgressOnlyInternetGatewayId,
			r.NetworkInterfaceId, r.InstanceId, r.LocalGatewayId, r.CarrierGatewayId, r.CoreNetworkArn, r.GatewayId} {
			if aws.ToString(t) != "" {
				route.Target = *t
				break
			}
		}
		x.Routes = append(x.Routes, route)
	}
	b.n.RouteTables[id] = x
}

func (b *builder) acl(a types.NetworkAcl) {
	id := aws.ToString(a.NetworkAclId)
	x := &NACL{ID: id, VPC: aws.ToString(a.VpcId), Default: aws.ToBool(a.IsDefault)}
	if v := b.n.VPCs[x.VPC]; v != nil && x.Default {
		v.DefaultNACL = id
	}
	for _, as := range a.Associations {
		if s := b.n.Subnets[aws.ToString(as.SubnetId)]; s != nil {
			s.NACL, s.NACLAssociation = id, aws.ToString(as.NetworkAclAssociationId)
		}
	}
	for _, e := range a.Entries {
		p, err := ParseProtocol(aws.ToString(e.Protocol))
		if err != nil && b.err == nil {
			b.err = fmt.Errorf("flowmodel: %s rule %d: %w", id, aws.ToInt32(e.RuleNumber), err)
		}
		en := NACLEntry{Rule: int(aws.ToInt32(e.RuleNumber)), Egress: aws.ToBool(e.Egress), Protocol: p,
			Allow: e.RuleAction == types.RuleActionAllow, ICMPType: -1, ICMPCode: -1}
		if c := aws.ToString(e.CidrBlock); c != "" {
			en.CIDR = b.prefix(c, id)
		} else {
			en.CIDR = b.prefix(aws.ToString(e.Ipv6CidrBlock), id)
		}
		if e.PortRange != nil {
			en.FromPort, en.ToPort = int(aws.ToInt32(e.PortRange.From)), int(aws.ToInt32(e.PortRange.To))
		} else {
			en.FromPort, en.ToPort = 0, 65535
		}
		if e.IcmpTypeCode != nil {
			en.ICMPType, en.ICMPCode = int(aws.ToInt32(e.IcmpTypeCode.Type)), int(aws.ToInt32(e.IcmpTypeCode.Code))
		}
		x.Entries = append(x.Entries, en)
	}
	b.n.NACLs[id] = x
}

func (b *builder) group(g types.SecurityGroup) {
	id := aws.ToString(g.GroupId)
	x := &SecurityGroup{ID: id, VPC: aws.ToString(g.VpcId), Name: aws.ToString(g.GroupName)}
	var err error
	if x.Ingress, err = RulesFromPermissions(g.IpPermissions); err != nil && b.err == nil {
		b.err = fmt.Errorf("flowmodel: %s ingress: %w", id, err)
	}
	if x.Egress, err = RulesFromPermissions(g.IpPermissionsEgress); err != nil && b.err == nil {
		b.err = fmt.Errorf("flowmodel: %s egress: %w", id, err)
	}
	b.n.SecurityGroups[id] = x
}

// RulesFromPermissions flattens EC2 IpPermissions into one SGRule per peer.
// A missing port range (protocol -1, or moto leaving it out) means all.
func RulesFromPermissions(perms []types.IpPermission) ([]SGRule, error) {
	var out []SGRule
	for _, p := range perms {
		proto, err := ParseProtocol(aws.ToString(p.IpProtocol))
		if err != nil {
			return nil, err
		}
		base := SGRule{Protocol: proto, FromPort: -1, ToPort: -1}
		if p.FromPort != nil {
			base.FromPort = int(*p.FromPort)
		}
		if p.ToPort != nil {
			base.ToPort = int(*p.ToPort)
		}
		if (proto == protoTCP || proto == protoUDP) && base.FromPort == -1 && base.ToPort == -1 {
			base.FromPort, base.ToPort = 0, 65535
		}
		add := func(r SGRule) { out = append(out, r) }
		for _, r := range p.IpRanges {
			c, err := netip.ParsePrefix(aws.ToString(r.CidrIp))
			if err != nil {
				return nil, err
			}
			r2 := base
			r2.CIDR = c.Masked()
			add(r2)
		}
		for _, r := range p.Ipv6Ranges {
			c, err := netip.ParsePrefix(aws.ToString(r.CidrIpv6))
			if err != nil {
				return nil, err
			}
			r2 := base
			r2.CIDR = c.Masked()
			add(r2)
		}
		for _, r := range p.PrefixListIds {
			r2 := base
			r2.PrefixList = aws.ToString(r.PrefixListId)
			add(r2)
		}
		for _, r := range p.UserIdGroupPairs {
			r2 := base
			r2.Group = aws.ToString(r.GroupId)
			if r2.Group == "" {
				return nil, fmt.Errorf("group reference by name %q only: not modeled", aws.ToString(r.GroupName))
			}
			add(r2)
		}
	}
	return out, nil
}

// eniKind maps an ENI's InterfaceType, and for load balancers its
// description ("ELB app/..." for an ALB, "ELB net/..." for an NLB, "ELB
// name" for a Classic Load Balancer), to the kind the model uses. A NAT
// gateway's ENI is "nat_gateway" in DescribeNetworkInterfaces answers,
// though the EC2 API model spells the value "natGateway": both count.
func eniKind(e types.NetworkInterface) ENIKind {
	switch e.InterfaceType {
	case "nat_gateway":
		return KindNATGateway
	case types.NetworkInterfaceTypeNetworkLoadBalancer:
		return KindNLB
	case types.NetworkInterfaceTypeGatewayLoadBalancer:
		return KindGWLB
	case types.NetworkInterfaceTypeGatewayLoadBalancerEndpoint:
		return KindGWLBEndpoint
	case types.NetworkInterfaceTypeNatGateway:
		return KindNATGateway
	case types.NetworkInterfaceTypeVpcEndpoint:
		return KindInterfaceEndpoint
	case types.NetworkInterfaceTypeLambda:
		return KindLambda
	case types.NetworkInterfaceTypeTransitGateway:
		return KindTransitGateway
	}
	d := aws.ToString(e.Description)
	switch {
	case strings.HasPrefix(d, "ELB app/"):
		return KindALB
	case strings.HasPrefix(d, "ELB net/"):
		return KindNLB
	case strings.HasPrefix(d, "ELB gwy/"):
		return KindGWLB
	case strings.HasPrefix(d, "ELB "):
		return KindCLB
	}
	return KindInterface
}

func (b *builder) eni(e types.NetworkInterface) {
	id := aws.ToString(e.NetworkInterfaceId)
	x := &ENI{ID: id, Subnet: aws.ToString(e.SubnetId), VPC: aws.ToString(e.VpcId), Kind: eniKind(e),
		Down: e.Status == types.NetworkInterfaceStatusAvailable}
	if p := b.addr(e.PrivateIpAddress, id); p.IsValid() {
		x.PrivateIPs = append(x.PrivateIPs, p)
	}
	for _, a := range e.PrivateIpAddresses {
		if p := b.addr(a.PrivateIpAddress, id); p.IsValid() && !x.hasAddr(p) {
			x.PrivateIPs = append(x.PrivateIPs, p)
		}
	}
	if e.Association != nil {
		x.PublicIP = b.addr(e.Association.PublicIp, id)
	}
	for _, a := range e.Ipv6Addresses {
		if p := b.addr(a.Ipv6Address, id); p.IsValid() {
			x.IPv6 = append(x.IPv6, p)
		}
	}
	for _, g := range e.Groups {
		x.Groups = append(x.Groups, aws.ToString(g.GroupId))
	}
	if a := e.Attachment; a != nil {
		x.Instance, x.Attachment, x.DeviceIndex = aws.ToString(a.InstanceId), aws.ToString(a.AttachmentId), int(aws.ToInt32(a.DeviceIndex))
	}
	b.n.ENIs[id] = x
}

func (b *builder) nat(g types.NatGateway) {
	id := aws.ToString(g.NatGatewayId)
	x := &NATGateway{ID: id, Subnet: aws.ToString(g.SubnetId), VPC: aws.ToString(g.VpcId),
		Private: g.ConnectivityType == types.ConnectivityTypePrivate, Down: g.State != types.NatGatewayStateAvailable}
	for _, a := range g.NatGatewayAddresses {
		if x.ENI == "" {
			x.ENI, x.PrivateIP, x.PublicIP = aws.ToString(a.NetworkInterfaceId), b.addr(a.PrivateIp, id), b.addr(a.PublicIp, id)
		}
	}
	b.n.NATGateways[id] = x
	if e := b.n.ENIs[x.ENI]; e != nil {
		e.Kind = KindNATGateway
	}
}
