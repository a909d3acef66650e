package flowmodel

import (
	"net/netip"
	"testing"
)

// The test VPC:
//
//	subnet-pub  10.0.0.0/24  rtb-public (0.0.0.0/0, ::/0 -> igw-1), acl-default; nat-1 at 10.0.0.10; eni-pub 10.0.0.20 (public 3.3.3.3)
//	subnet-app  10.0.1.0/24  rtb-private (0.0.0.0/0 -> nat-1), acl-app; eni-task 10.0.1.5, eni-peer 10.0.1.6
//	subnet-db   10.0.2.0/24  rtb-private, acl-default; eni-db 10.0.2.7, eni-vpce 10.0.2.50
//	subnet-lb   10.0.3.0/24  rtb-private, acl-default; eni-alb 10.0.3.11, eni-nlb 10.0.3.10
var (
	internet   = netip.MustParseAddr("198.51.100.7")
	internetV6 = netip.MustParseAddr("2001:db8::7")
)

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func ip(s string) netip.Addr    { return netip.MustParseAddr(s) }

func tcp(from, to int, cidr string) SGRule {
	return SGRule{Protocol: protoTCP, FromPort: from, ToPort: to, CIDR: pfx(cidr)}
}

func allowAll(rule int, egress bool, cidr string) NACLEntry {
	return NACLEntry{Rule: rule, Egress: egress, Protocol: protoAll, Allow: true, CIDR: pfx(cidr)}
}

func deny(rule int, egress bool, cidr string) NACLEntry {
	return NACLEntry{Rule: rule, Egress: egress, Protocol: protoAll, CIDR: pfx(cidr)}
}

func testNet() *Network {
	n := NewNetwork()
	n.VPCs["vpc-1"] = &VPC{ID: "vpc-1", CIDRs: []netip.Prefix{pfx("10.0.0.0/16")}, IPv6CIDRs: []netip.Prefix{pfx("2600:1f18::/56")},
		MainRouteTable: "rtb-private", DefaultNACL: "acl-default"}
	n.Subnets["subnet-pub"] = &Subnet{ID: "subnet-pub", VPC: "vpc-1", CIDR: pfx("10.0.0.0/24"), IPv6CIDR: pfx("2600:1f18::/64"),
		RouteTable: "rtb-public", NACLAssociation: "aclassoc-pub"}
	n.Subnets["subnet-app"] = &Subnet{ID: "subnet-app", VPC: "vpc-1", CIDR: pfx("10.0.1.0/24"), NACL: "acl-app", NACLAssociation: "aclassoc-app"}
	n.Subnets["subnet-db"] = &Subnet{ID: "subnet-db", VPC: "vpc-1", CIDR: pfx("10.0.2.0/24"), NACLAssociation: "aclassoc-db"}
	n.Subnets["subnet-lb"] = &Subnet{ID: "subnet-lb", VPC: "vpc-1", CIDR: pfx("10.0.3.0/24"), NACLAssociation: "aclassoc-lb"}
	n.RouteTables["rtb-public"] = &RouteTable{ID: "rtb-public", VPC: "vpc-1", Routes: []Route{
		{Dest: pfx("10.0.0.0/16"), Target: "local"},
		{Dest: pfx("0.0.0.0/0"), Target: "igw-1"},
		{Dest: pfx("::/0"), Target: "igw-1"},
	}}
	n.RouteTables["rtb-private"] = &RouteTable{ID: "rtb-private", VPC: "vpc-1", Routes: []Route{
		{Dest: pfx("10.0.0.0/16"), Target: "local"},
		{Dest: pfx("0.0.0.0/0"), Target: "nat-1"},
	}}
	n.NACLs["acl-default"] = &NACL{ID: "acl-default", VPC: "vpc-1", Default: true, Entries: []NACLEntry{
		allowAll(100, false, "0.0.0.0/0"), allowAll(100, true, "0.0.0.0/0"),
		allowAll(101, false, "::/0"), allowAll(101, true, "::/0"),
	}}
	n.NACLs["acl-app"] = &NACL{ID: "acl-app", VPC: "vpc-1", Entries: []NACLEntry{
		allowAll(100, false, "0.0.0.0/0"), allowAll(100, true, "0.0.0.0/0"),
	}}
	n.SecurityGroups["sg-task"] = &SecurityGroup{ID: "sg-task", VPC: "vpc-1",
		Egress: []SGRule{tcp(443, 443, "0.0.0.0/0"), tcp(443, 443, "::/0"), tcp(22, 22, "10.0.1.0/24"),
			{Protocol: protoTCP, FromPort: 5432, ToPort: 5432, Group: "sg-db"}},
		Ingress: []SGRule{{Protocol: protoTCP, FromPort: 8080, ToPort: 8080, Group: "sg-alb"}, tcp(8080, 8080, "10.0.3.0/24")}}
	n.SecurityGroups["sg-open"] = &SecurityGroup{ID: "sg-open", VPC: "vpc-1",
		Ingress: []SGRule{{Protocol: protoAll, FromPort: -1, ToPort: -1, CIDR: allV4}, {Protocol: protoAll, FromPort: -1, ToPort: -1, CIDR: allV6}},
		Egress:  []SGRule{{Protocol: protoAll, FromPort: -1, ToPort: -1, CIDR: allV4}, {Protocol: protoAll, FromPort: -1, ToPort: -1, CIDR: allV6}}}
	n.SecurityGroups["sg-quarantine"] = &SecurityGroup{ID: "sg-quarantine", VPC: "vpc-1"}
	n.SecurityGroups["sg-db"] = &SecurityGroup{ID: "sg-db", VPC: "vpc-1",
		Ingress: []SGRule{{Protocol: protoTCP, FromPort: 5432, ToPort: 5432, Group: "sg-task"}}}
	n.SecurityGroups["sg-peer"] = &SecurityGroup{ID: "sg-peer", VPC: "vpc-1",
		Ingress: []SGRule{tcp(22, 22, "10.0.1.0/24")}, Egress: []SGRule{{Protocol: protoAll, FromPort: -1, ToPort: -1, CIDR: allV4}}}
	n.SecurityGroups["sg-alb"] = &SecurityGroup{ID: "sg-alb", VPC: "vpc-1",
		Ingress: []SGRule{tcp(443, 443, "0.0.0.0/0")}, Egress: []SGRule{tcp(8080, 8080, "10.0.0.0/16")}}
	n.SecurityGroups["sg-vpce"] = &SecurityGroup{ID: "sg-vpce", VPC: "vpc-1", Ingress: []SGRule{tcp(443, 443, "10.0.0.0/16")}}
	eni := func(id, subnet, addr string, kind ENIKind, groups ...string) *ENI {
		e := &ENI{ID: id, Subnet: subnet, VPC: "vpc-1", Kind: kind, PrivateIPs: []netip.Addr{ip(addr)}, Groups: groups}
		n.ENIs[id] = e
		return e
	}
	eni("eni-task", "subnet-app", "10.0.1.5", KindInterface, "sg-task")
	eni("eni-peer", "subnet-app", "10.0.1.6", KindInterface, "sg-peer")
	eni("eni-db", "subnet-db", "10.0.2.7", KindInterface, "sg-db")
	eni("eni-vpce", "subnet-db", "10.0.2.50", KindInterfaceEndpoint, "sg-vpce")
	eni("eni-alb", "subnet-lb", "10.0.3.11", KindALB, "sg-alb")
	eni("eni-nlb", "subnet-lb", "10.0.3.10", KindNLB)
	eni("eni-nat", "subnet-pub", "10.0.0.10", KindNATGateway)
	pub := eni("eni-pub", "subnet-pub", "10.0.0.20", KindInterface, "sg-task")
	pub.PublicIP, pub.IPv6 = ip("3.3.3.3"), []netip.Addr{ip("2600:1f18::20")}
	n.NATGateways["nat-1"] = &NATGateway{ID: "nat-1", Subnet: "subnet-pub", VPC: "vpc-1", ENI: "eni-nat", PrivateIP: ip("10.0.0.10"), PublicIP: ip("54.0.0.10")}
	n.InternetGateways["igw-1"] = &InternetGateway{ID: "igw-1", VPC: "vpc-1"}
	return n
}

func toInternet(name, eni string, port int) Flow {
	return Flow{Name: name, Src: Endpoint{ENI: eni}, Dst: Endpoint{IP: internet}, Protocol: "tcp", DstPort: port}
}

func evalOK(t *testing.T, n *Network, f Flow) Verdict {
	t.Helper()
	v, err := n.Evaluate(f)
	if err != nil {
		t.Fatalf("Evaluate(%s): %v", f.Name, err)
	}
	return v
}
