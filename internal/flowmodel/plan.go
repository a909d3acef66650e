package flowmodel

import (
	"fmt"
	"net/netip"
	"strings"
)

// plan is the path of a flow worked out from routes and gateways: which
// subnet boundaries each direction crosses, which ENIs' security groups
// filter it, and what the path implies for connection tracking.
type plan struct {
	req, resp   packet // as the source sends the request and receives the response
	src, dst    *ENI   // nil for an end outside every modeled VPC
	srcPeer     peer   // the destination as the source's groups see it
	dstPeer     peer   // the source as the destination's groups see it
	crossings   []crossing
	gateways    []string // gateways traversed, in order; a change of these breaks an established flow
	autoTracked string   // why AWS always tracks this path, "" if it does not
	service     string   // a link-local or VPC-provided service: never filtered
	publicIGW   string   // how the flow reaches the internet by a public address
	sameSubnet  string   // both ends in this subnet: no network ACL between them
	hops        []Hop    // route decisions, in order
	blocked     *Hop     // set when routing alone drops the flow
}

// crossing is one subnet boundary a packet crosses; the subnet's network ACL
// judges it.
type crossing struct {
	resp   bool
	subnet *Subnet
	egress bool
	pkt    packet
}

func (p *plan) cross(resp bool, s *Subnet, egress bool, pkt packet) {
	p.crossings = append(p.crossings, crossing{resp: resp, subnet: s, egress: egress, pkt: pkt})
}

func (p *plan) block(check, res, format string, a ...any) {
	p.blocked = &Hop{Packet: "request", Check: check, Resource: res, Note: fmt.Sprintf(format, a...)}
}

func (p *plan) route(resp bool, rt, note string) {
	h := Hop{Packet: "request", Check: "route", Resource: rt, Allowed: true, Note: note}
	if resp {
		h.Packet = "response"
	}
	p.hops = append(p.hops, h)
}

// alwaysTracked is the list of "Automatically tracked connections" in
// "Amazon EC2 security group connection tracking": "Connections made
// through the following are automatically tracked, even if the security
// group configuration does not otherwise require tracking": egress-only
// internet gateways, Gateway Load Balancers, Global Accelerator
// accelerators, NAT gateways, Network Firewall firewall endpoints, Network
// Load Balancers, AWS PrivateLink (interface VPC endpoints), AWS Lambda
// (Hyperplane ENIs), transit gateway attachments, DynamoDB gateway
// endpoints. (Older editions list Gateway Load Balancers and transit
// gateway attachments, newer ones Lambda and DynamoDB; the union is kept,
// which errs towards "tracked", i.e. towards a flow surviving containment.)
var alwaysTracked = map[ENIKind]string{
	KindNLB:               "Network Load Balancer",
	KindGWLB:              "Gateway Load Balancer",
	KindGWLBEndpoint:      "Gateway Load Balancer endpoint (PrivateLink)",
	KindInterfaceEndpoint: "interface VPC endpoint (PrivateLink)",
	KindLambda:            "Lambda Hyperplane ENI",
	KindTransitGateway:    "transit gateway attachment",
	KindNATGateway:        "NAT gateway",
}

// plan resolves the flow's ends and follows the routes between them.
func (n *Network) plan(f Flow) (*plan, error) {
	proto, err := ParseProtocol(f.Protocol)
	if err != nil || proto == protoAll {
		return nil, fmt.Errorf("flow %q: protocol %q: want tcp, udp, icmp, icmpv6 or a protocol number", f.Name, f.Protocol)
	}
	p := &plan{}
	src, srcIP, srcDown, err := n.resolve(f.Src, f.Dst.IP)
	if err != nil {
		return nil, fmt.Errorf("flow %q: %w", f.Name, err)
	}
	dst, dstIP, dstDown, err := n.resolve(f.Dst, srcIP)
	if err != nil {
		return nil, fmt.Errorf("flow %q: %w", f.Name, err)
	}
	for _, d := range []string{srcDown, dstDown} {
		if d != "" {
			p.block("endpoint", d, "endpoint %s stopped/deleted: every flow on it has ended", d)
			return p, nil
		}
	}
	// A connection from outside reaches an ENI at its public IPv4 address
	// unless the flow names another.
	if src == nil && dst != nil && !f.Dst.IP.IsValid() && srcIP.Is4() && dst.PublicIP.IsValid() {
		dstIP = dst.PublicIP
	}
	if !srcIP.IsValid() || !dstIP.IsValid() {
		return nil, fmt.Errorf("flow %q: each end needs an ENI or an IP address", f.Name)
	}
	if src == nil && dst == nil {
		return nil, fmt.Errorf("flow %q: neither end is inside a modeled VPC", f.Name)
	}
	if srcIP.Is4() != dstIP.Is4() {
		return nil, fmt.Errorf("flow %q: %s and %s are of different address families", f.Name, srcIP, dstIP)
	}
	if (proto == protoICMP && !srcIP.Is4()) || (proto == protoICMPv6 && srcIP.Is4()) {
		return nil, fmt.Errorf("flow %q: %s does not carry %s traffic", f.Name, protoName(proto), map[bool]string{true: "IPv4", false: "IPv6"}[srcIP.Is4()])
	}
	p.src, p.dst = src, dst
	p.req, p.resp, err = packets(f, proto, srcIP, dstIP)
	if err != nil {
		return nil, err
	}
	p.srcPeer, p.dstPeer = peer{addr: dstIP}, peer{addr: srcIP}
	for _, e := range []*ENI{src, dst} {
		if e != nil && alwaysTracked[e.Kind] != "" && p.autoTracked == "" {
			p.autoTracked = alwaysTracked[e.Kind] + " " + e.ID
		}
	}
	switch {
	case src != nil && dst != nil:
		err = n.planInside(p)
	case src != nil:
		err = n.planOutbound(p)
	default:
		err = n.planInbound(p)
	}
	return p, err
}

// resolve finds the ENI and address of a flow end. An address inside a
// modeled VPC without an ENI ID is looked up among the ENIs' addresses.
// down is the ENI ID when the ENI is gone or down.
func (n *Network) resolve(ep Endpoint, other netip.Addr) (e *ENI, ip netip.Addr, down string, err error) {
	ip = ep.IP
	if ep.ENI == "" {
		if !ip.IsValid() {
			return nil, ip, "", nil
		}
		if e = n.eniByAddr(ip); e == nil {
			return nil, ip, "", nil
		}
	} else if e = n.ENIs[ep.ENI]; e == nil {
		return nil, ip, ep.ENI, nil
	}
	if e.Down {
		return nil, ip, e.ID, nil
	}
	if ip.IsValid() && !e.hasAddr(ip) {
		return nil, ip, "", fmt.Errorf("%s is not an address of %s", ip, e.ID)
	}
	if !ip.IsValid() {
		if other.IsValid() && !other.Is4() && len(e.IPv6) > 0 {
			ip = e.IPv6[0]
		} else if len(e.PrivateIPs) > 0 {
			ip = e.PrivateIPs[0]
		}
	}
	return e, ip, "", nil
}

// DefaultEphemeralPort is the source port of a flow that names none: inside
// Linux's default range (32768-60999) and the IANA dynamic range, and inside
// 1024-65535, the ports a NAT gateway uses.
const DefaultEphemeralPort = 50000

// packets builds the request and response packets. ICMP flows are echo
// request and reply (ping): type 8/0 for IPv4, 128/129 for ICMPv6, code 0,
// carried in the port fields (dstPort = type, srcPort = code).
func packets(f Flow, proto int, src, dst netip.Addr) (req, resp packet, err error) {
	switch proto {
	case protoICMP:
		return packet{src, dst, proto, 0, 8}, packet{dst, src, proto, 0, 0}, nil
	case protoICMPv6:
		return packet{src, dst, proto, 0, 128}, packet{dst, src, proto, 0, 129}, nil
	case protoTCP, protoUDP:
		if f.DstPort < 1 || f.DstPort > 65535 || f.SrcPort < 0 || f.SrcPort > 65535 {
			return req, resp, fmt.Errorf("flow %q: ports %d -> %d out of range", f.Name, f.SrcPort, f.DstPort)
		}
		sp := f.SrcPort
		if sp == 0 {
			sp = DefaultEphemeralPort
		}
		return packet{src, dst, proto, sp, f.DstPort}, packet{dst, src, proto, f.DstPort, sp}, nil
	}
	return packet{src, dst, proto, 0, 0}, packet{dst, src, proto, 0, 0}, nil
}

// planInside follows a flow between two ENIs of one VPC: the local route,
// and a network ACL on each side only when the subnets differ ("We evaluate
// the network ACL rules when traffic enters and leaves the subnet, not as it
// is routed within a subnet", Network ACL basics).
func (n *Network) planInside(p *plan) error {
	src, dst := p.src, p.dst
	if src.VPC != dst.VPC {
		return notModeled("flow between %s (%s) and %s (%s): cross-VPC paths (peering, transit gateway) between modeled ENIs", src.ID, src.VPC, dst.ID, dst.VPC)
	}
	if dst.PublicIP.IsValid() && p.req.dst == dst.PublicIP {
		return notModeled("%s reaching %s at its public address (hairpin through the internet gateway)", src.ID, dst.ID)
	}
	p.srcPeer.eni, p.dstPeer.eni = dst, src
	ss, ds := n.Subnets[src.Subnet], n.Subnets[dst.Subnet]
	if ss == nil || ds == nil {
		return fmt.Errorf("flowmodel: %s or %s names an unknown subnet", src.ID, dst.ID)
	}
	for _, leg := range []struct {
		from *Subnet
		to   netip.Addr
		resp bool
	}{{ss, p.req.dst, false}, {ds, p.req.src, true}} {
		rt, r, ok := n.lookupRoute(leg.from, leg.to)
		if !ok || r.Target != "local" {
			return notModeled("route table %s sends %s to %q instead of the local route", rt, leg.to, r.Target)
		}
		p.route(leg.resp, rt, fmt.Sprintf("route table %s (subnet %s) delivers %s by the local route", rt, leg.from.ID, leg.to))
	}
	if ss.ID == ds.ID {
		p.sameSubnet = ss.ID
		return nil
	}
	p.cross(false, ss, true, p.req)
	p.cross(false, ds, false, p.req)
	p.cross(true, ds, true, p.resp)
	p.cross(true, ss, false, p.resp)
	return nil
}

// routeOut is the route the request takes out of subnet s (where names it
// in the hops: "subnet", "NAT subnet") towards to; none, or a blackhole,
// drops the request and blocks the plan (ok false).
func (n *Network) routeOut(p *plan, s *Subnet, where string, to netip.Addr) (rt string, r Route, ok bool) {
	rt, r, ok = n.lookupRoute(s, to)
	switch {
	case !ok:
		p.block("route", rt, "route table %s (%s %s) has no route to %s: dropped", rt, where, s.ID, to)
		return rt, r, false
	case r.Blackhole:
		p.block("route", rt, "route table %s (%s %s) sends %s to deleted %s (blackhole): dropped", rt, where, s.ID, to, r.Target)
		return rt, r, false
	}
	p.route(false, rt, fmt.Sprintf("route table %s (%s %s) sends %s to %s by %s", rt, where, s.ID, to, r.Target, routeDest(r)))
	return rt, r, true
}

// planOutbound follows a flow from an ENI to an address outside every
// modeled VPC, through whatever gateway the source subnet's route picks.
func (n *Network) planOutbound(p *plan) error {
	src, to := p.src, p.req.dst
	ss := n.Subnets[src.Subnet]
	if ss == nil {
		return fmt.Errorf("flowmodel: %s names unknown subnet %s", src.ID, src.Subnet)
	}
	if name, ok := n.service(n.VPCs[src.VPC], ss, to); ok {
		if v := n.VPCs[src.VPC]; v != nil && v.DNSDisabled && strings.Contains(name, "Resolver") {
			p.block("service", src.VPC, "the Route 53 Resolver does not answer: enableDnsSupport is false in %s", src.VPC)
			return nil
		}
		p.service = fmt.Sprintf("%s %s", name, to)
		return nil
	}
	rt, r, ok := n.routeOut(p, ss, "subnet", to)
	if !ok {
		return nil
	}
	kind := targetKind(r.Target)
	switch kind {
	case "local":
		p.block("route", rt, "no network interface has address %s in %s: dropped", to, src.VPC)
		return nil
	case "nat":
		return n.planNAT(p, ss, r.Target)
	case "igw", "eigw":
		if !n.gatewayUp(p, r.Target, src.VPC, kind == "eigw") {
			return nil
		}
		if kind == "eigw" && to.Is4() {
			p.block("gateway", r.Target, "egress-only internet gateway %s carries IPv6 only", r.Target)
			return nil
		}
		if kind == "igw" && to.Is4() {
			if !src.PublicIP.IsValid() {
				p.block("gateway", r.Target, "%s has no public IPv4 address: internet gateway %s cannot translate %s", src.ID, r.Target, p.req.src)
				return nil
			}
			p.publicIGW = fmt.Sprintf("reaches the internet through %s with public IP %s", r.Target, src.PublicIP)
		} else if kind == "igw" {
			p.publicIGW = fmt.Sprintf("reaches the internet through %s with its IPv6 address %s", r.Target, p.req.src)
		}
		if kind == "eigw" {
			p.setAuto("egress-only internet gateway " + r.Target)
		}
	case "vpce":
		ep := n.Endpoints[r.Target]
		if ep == nil || !ep.Gateway {
			return notModeled("route target %s is not a known gateway endpoint", r.Target)
		}
		if strings.Contains(ep.Service, "dynamodb") {
			p.setAuto("DynamoDB gateway endpoint " + r.Target)
		}
	case "tgw":
		p.setAuto("transit gateway attachment " + r.Target)
	case "pcx", "vgw":
	default:
		return notModeled("route target %s (%s)", r.Target, kind)
	}
	p.gateways = append(p.gateways, r.Target)
	p.cross(false, ss, true, p.req)
	p.cross(true, ss, false, p.resp)
	return nil
}

func (p *plan) setAuto(why string) {
	if p.autoTracked == "" {
		p.autoTracked = why
	}
}

// gatewayUp checks that an internet or egress-only gateway exists and is
// attached to the VPC; otherwise the route is a blackhole.
func (n *Network) gatewayUp(p *plan, id, vpc string, egressOnly bool) bool {
	g := n.InternetGateways[id]
	if g == nil || g.VPC != vpc || g.EgressOnly != egressOnly {
		p.block("gateway", id, "gateway %s is not attached to %s: dropped", id, vpc)
		return false
	}
	return true
}
