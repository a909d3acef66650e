package flowmodel

import "fmt"

// planNAT follows a flow through a NAT gateway. "You create a public NAT
// gateway in a public subnet ... You route traffic from the NAT gateway to
// the internet gateway for the VPC" (NAT gateways). The NAT gateway has its
// own ENI and private IP in its own subnet and replaces the source with that
// private IP, which the internet gateway maps to the Elastic IP; the
// response is translated back and keeps the internet host as its source.
// So the request crosses the task subnet outbound (destination = internet
// host), the NAT subnet inbound (source = task) and the NAT subnet outbound
// (destination = internet host); the response crosses the NAT subnet
// inbound (source = internet host), the NAT subnet outbound (destination =
// task) and the task subnet inbound (source = internet host). A NAT gateway
// has no security groups; its flows are always tracked.
func (n *Network) planNAT(p *plan, ss *Subnet, id string) error {
	ng := n.NATGateways[id]
	if ng == nil || ng.Down {
		p.block("gateway", id, "NAT gateway %s is deleted or not available: dropped", id)
		return nil
	}
	if !p.req.dst.Is4() {
		return notModeled("IPv6 through NAT gateway %s (DNS64/NAT64)", id)
	}
	ns := n.Subnets[ng.Subnet]
	if ns == nil {
		return fmt.Errorf("flowmodel: NAT gateway %s names unknown subnet %s", id, ng.Subnet)
	}
	p.setAuto("NAT gateway " + id)
	p.gateways = append(p.gateways, id)
	to := p.req.dst
	if ns.ID != ss.ID {
		p.cross(false, ss, true, p.req)
		p.cross(false, ns, false, p.req)
	}
	rt, r, ok := n.routeOut(p, ns, "NAT subnet", to)
	if !ok {
		return nil
	}
	switch targetKind(r.Target) {
	case "igw":
		if ng.Private {
			p.block("gateway", r.Target, "NAT gateway %s is private: internet gateway %s drops its traffic", id, r.Target)
			return nil
		}
		if !n.gatewayUp(p, r.Target, ns.VPC, false) {
			return nil
		}
	case "tgw", "vgw", "pcx":
	case "nat", "local":
		p.block("route", rt, "route table %s (NAT subnet %s) sends %s to %s, not out of the VPC: dropped", rt, ns.ID, to, r.Target)
		return nil
	default:
		return notModeled("route target %s behind NAT gateway %s", r.Target, id)
	}
	p.gateways = append(p.gateways, r.Target)
	natReq := packet{ng.PrivateIP, to, p.req.proto, p.req.srcPort, p.req.dstPort}
	natResp := packet{to, ng.PrivateIP, p.resp.proto, p.resp.srcPort, p.resp.dstPort}
	p.cross(false, ns, true, natReq)
	p.cross(true, ns, false, natResp)
	if ns.ID != ss.ID {
		p.cross(true, ns, true, p.resp)
		p.cross(true, ss, false, p.resp)
	}
	return nil
}

// planInbound follows a flow that an address outside the modeled VPCs opens
// to an ENI. The destination subnet's route back to the source decides the
// gateway: an internet gateway needs the ENI's public IPv4 (or an IPv6
// address); a NAT gateway or an egress-only internet gateway admits no
// connection opened from outside ("external services can't initiate a
// connection with those instances", NAT gateways; "prevents the internet
// from initiating an IPv6 connection", Egress-only internet gateways).
func (n *Network) planInbound(p *plan) error {
	dst, from := p.dst, p.req.src
	ds := n.Subnets[dst.Subnet]
	if ds == nil {
		return fmt.Errorf("flowmodel: %s names unknown subnet %s", dst.ID, dst.Subnet)
	}
	rt, r, ok := n.lookupRoute(ds, from)
	switch {
	case !ok:
		p.block("route", rt, "route table %s (subnet %s) has no route back to %s: responses are dropped", rt, ds.ID, from)
		return nil
	case r.Blackhole:
		p.block("route", rt, "route table %s (subnet %s) sends responses for %s to deleted %s (blackhole)", rt, ds.ID, from, r.Target)
		return nil
	}
	p.route(true, rt, fmt.Sprintf("route table %s (subnet %s) sends responses for %s to %s by %s", rt, ds.ID, from, r.Target, routeDest(r)))
	// An IPv4 request must be addressed to the public IP to come through an
	// internet gateway, and to a private one to come through anything else.
	public := !p.req.dst.Is4() || p.req.dst == dst.PublicIP
	private := !p.req.dst.Is4() || p.req.dst != dst.PublicIP
	switch kind := targetKind(r.Target); kind {
	case "igw":
		if !n.gatewayUp(p, r.Target, dst.VPC, false) {
			return nil
		}
		if !public {
			p.block("gateway", r.Target, "%s is a private address: the internet cannot reach it through %s", p.req.dst, r.Target)
			return nil
		}
		if p.req.dst.Is4() {
			p.publicIGW = fmt.Sprintf("reached from the internet through %s at public IP %s", r.Target, dst.PublicIP)
		} else {
			p.publicIGW = fmt.Sprintf("reached from the internet through %s at IPv6 address %s", r.Target, p.req.dst)
		}
	case "nat":
		p.block("gateway", r.Target, "NAT gateway %s does not accept connections opened from outside the VPC", r.Target)
		return nil
	case "eigw":
		p.block("gateway", r.Target, "egress-only internet gateway %s does not accept connections opened from the internet", r.Target)
		return nil
	case "local":
		p.block("route", rt, "no network interface has address %s in %s", from, dst.VPC)
		return nil
	case "tgw", "pcx", "vgw":
		if !private {
			return notModeled("%s reached at its public address through %s", dst.ID, r.Target)
		}
		if kind == "tgw" {
			p.setAuto("transit gateway attachment " + r.Target)
		}
	default:
		return notModeled("connections from %s arriving through %s", from, r.Target)
	}
	p.gateways = append(p.gateways, r.Target)
	// The gateway delivers the request to the ENI's private address.
	in := p.req
	if in.dst == dst.PublicIP && len(dst.PrivateIPs) > 0 {
		in.dst = dst.PrivateIPs[0]
	}
	out := packet{in.dst, in.src, p.resp.proto, p.resp.srcPort, p.resp.dstPort}
	p.cross(false, ds, false, in)
	p.cross(true, ds, true, out)
	return nil
}
