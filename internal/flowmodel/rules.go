package flowmodel

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// The all-addresses prefixes: rules naming them are what leaves a flow
// untracked.
var (
	allV4 = netip.PrefixFrom(netip.IPv4Unspecified(), 0)
	allV6 = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
)

// IANA protocol numbers the model gives meaning to.
const (
	protoAll    = -1
	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58
)

// ParseProtocol turns an EC2 protocol ("tcp", "udp", "icmp", "icmpv6",
// "all", "-1" or a number) into its IANA number, -1 meaning all.
func ParseProtocol(s string) (int, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "tcp":
		return protoTCP, nil
	case "udp":
		return protoUDP, nil
	case "icmp":
		return protoICMP, nil
	case "icmpv6":
		return protoICMPv6, nil
	case "-1", "all":
		return protoAll, nil
	}
	p, err := strconv.Atoi(s)
	if err != nil || p < 0 || p > 255 {
		return 0, fmt.Errorf("protocol %q: want tcp, udp, icmp, icmpv6, -1 or 0-255", s)
	}
	return p, nil
}

func protoName(p int) string {
	switch p {
	case protoAll:
		return "all"
	case protoTCP:
		return "tcp"
	case protoUDP:
		return "udp"
	case protoICMP:
		return "icmp"
	case protoICMPv6:
		return "icmpv6"
	}
	return strconv.Itoa(p)
}

// packet is one direction of a flow as a filter sees it. For ICMP the port
// fields hold the type and code.
type packet struct {
	src, dst         netip.Addr
	proto            int
	srcPort, dstPort int
}

func (p packet) icmp() bool { return p.proto == protoICMP || p.proto == protoICMPv6 }

// ports matches the packet against a tcp/udp port range or an ICMP
// type/code pair (-1 = any).
func (p packet) ports(from, to int) bool {
	if p.icmp() {
		return (from == -1 || from == p.dstPort) && (to == -1 || to == p.srcPort)
	}
	if p.proto != protoTCP && p.proto != protoUDP {
		return true
	}
	if from == -1 && to == -1 {
		return true
	}
	return from <= p.dstPort && p.dstPort <= to
}

// ruleProto says whether a rule's protocol covers the packet's. An "icmp"
// rule does not cover ICMPv6 nor the reverse: they are distinct protocols.
func ruleProto(rule, pkt int) bool { return rule == protoAll || rule == pkt }

// aclVerdict is the network ACL entry that decided a packet.
type aclVerdict struct {
	allow bool
	rule  int // 32767 for the "*" rule
	cidr  netip.Prefix
}

// evalACL applies a network ACL to a packet crossing the subnet boundary.
// "We evaluate the rules in order, starting with the lowest numbered rule
// ... If the traffic matches a rule, the rule is applied and we do not
// evaluate any additional rules." (Network ACL basics). Inbound rules match
// the packet's source and outbound rules its destination ("Source (inbound
// rules only)", "Destination (outbound rules only)", Network ACL rules); an
// IPv4 entry never matches an IPv6 packet nor the reverse. No match reaches
// the "*" rule, which denies.
func evalACL(a *NACL, egress bool, p packet) aclVerdict {
	addr := p.src
	if egress {
		addr = p.dst
	}
	entries := slices.Clone(a.Entries)
	slices.SortFunc(entries, func(x, y NACLEntry) int { return cmp.Compare(x.Rule, y.Rule) })
	for _, e := range entries {
		if e.Egress != egress || e.Rule >= 32767 || !e.CIDR.IsValid() {
			continue
		}
		if e.CIDR.Addr().Is4() != addr.Is4() || !e.CIDR.Contains(addr) || !ruleProto(e.Protocol, p.proto) {
			continue
		}
		if e.Protocol != protoAll {
			if p.icmp() {
				if !p.ports(e.ICMPType, e.ICMPCode) {
					continue
				}
			} else if (p.proto == protoTCP || p.proto == protoUDP) && !(e.FromPort <= p.dstPort && p.dstPort <= e.ToPort) {
				continue
			}
		}
		return aclVerdict{allow: e.Allow, rule: e.Rule, cidr: e.CIDR}
	}
	return aclVerdict{rule: 32767}
}

// sgMatch is the security-group rule that allowed a packet.
type sgMatch struct {
	group string
	rule  SGRule
}

// peer is the other end of a packet as one ENI's security groups see it.
type peer struct {
	addr netip.Addr
	eni  *ENI // set only for a peer inside the same VPC, reached by its private address
}

// sgAllows reports whether any rule of any of the ENI's groups allows the
// packet: rules are a union of allows ("Security groups ... allow rules
// only", Control traffic with security groups). Egress rules match the
// destination, ingress rules the source; a group reference matches when the
// peer ENI is a member, a prefix list when it contains the address.
func (n *Network) sgAllows(e *ENI, egress bool, p packet, other peer) (sgMatch, bool) {
	for _, g := range e.Groups {
		sg := n.SecurityGroups[g]
		if sg == nil {
			continue
		}
		rules := sg.Ingress
		if egress {
			rules = sg.Egress
		}
		for _, r := range rules {
			if ruleProto(r.Protocol, p.proto) && (r.Protocol == protoAll || p.ports(r.FromPort, r.ToPort)) && n.peerMatch(r, other) {
				return sgMatch{group: g, rule: r}, true
			}
		}
	}
	return sgMatch{}, false
}

func (n *Network) peerMatch(r SGRule, other peer) bool {
	switch {
	case r.CIDR.IsValid():
		return r.CIDR.Addr().Is4() == other.addr.Is4() && r.CIDR.Contains(other.addr)
	case r.Group != "":
		return other.eni.isMember(r.Group)
	case r.PrefixList != "":
		if pl := n.PrefixLists[r.PrefixList]; pl != nil {
			for _, c := range pl.CIDRs {
				if c.Addr().Is4() == other.addr.Is4() && c.Contains(other.addr) {
					return true
				}
			}
		}
	}
	return false
}

// untracked reports whether the ENI's current rules leave a flow untracked.
// "If a security group rule permits TCP or UDP flows for all traffic
// (0.0.0.0/0 or ::/0) and there is a corresponding rule in the other
// direction that permits all response traffic (0.0.0.0/0 or ::/0) for any
// port (0-65535), then that flow of traffic is not tracked, unless it is
// part of an automatically tracked connection." ... "ICMP traffic is always
// tracked." (Amazon EC2 security group connection tracking). The rule in the
// flow's own direction may name just the flow's port (the page's example: an
// inbound TCP 80 rule from 0.0.0.0/0 with all outbound allowed leaves port 80
// untracked); the response direction must allow every port. Both rules must
// be of the flow's address family.
func (n *Network) untracked(e *ENI, initiator bool, req packet) bool {
	if req.proto != protoTCP && req.proto != protoUDP {
		return false
	}
	all := allV4
	if !req.src.Is4() {
		all = allV6
	}
	reqDir, respDir := initiator, !initiator // egress when this ENI initiated
	var okReq, okResp bool
	for _, g := range e.Groups {
		sg := n.SecurityGroups[g]
		if sg == nil {
			continue
		}
		for _, dir := range []bool{reqDir, respDir} {
			rules := sg.Ingress
			if dir {
				rules = sg.Egress
			}
			for _, r := range rules {
				if r.CIDR != all || !ruleProto(r.Protocol, req.proto) {
					continue
				}
				allPorts := r.Protocol == protoAll || (r.FromPort <= 0 && r.ToPort >= 65535) || (r.FromPort == -1 && r.ToPort == -1)
				if dir == reqDir && (allPorts || (r.FromPort <= req.dstPort && req.dstPort <= r.ToPort)) {
					okReq = true
				}
				if dir == respDir && allPorts {
					okResp = true
				}
			}
		}
	}
	return okReq && okResp
}

func describeRule(m sgMatch, egress bool) string {
	dir := "ingress"
	if egress {
		dir = "egress"
	}
	r := m.rule
	peer := r.CIDR.String()
	switch {
	case r.Group != "":
		peer = "group " + r.Group
	case r.PrefixList != "":
		peer = "prefix list " + r.PrefixList
	}
	ports := ""
	if r.Protocol == protoTCP || r.Protocol == protoUDP {
		ports = fmt.Sprintf(" %d-%d", r.FromPort, r.ToPort)
	}
	return fmt.Sprintf("security group %s %s rule %s%s %s", m.group, dir, protoName(r.Protocol), ports, peer)
}
