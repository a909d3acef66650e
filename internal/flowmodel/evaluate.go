package flowmodel

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Endpoint is one end of a flow: an ENI (its primary private address unless
// IP names another of its addresses, such as its public IP for a connection
// from the internet), or, with ENI empty, an address. An address that
// belongs to a modeled ENI is resolved to that ENI; any other is outside
// every modeled VPC (an internet host, an on-premises host).
type Endpoint struct {
	ENI string
	IP  netip.Addr
}

// Flow is one connection: Src opens it to Dst. Protocol is tcp, udp, icmp,
// icmpv6 or an IANA number; ICMP flows are echo request and reply. SrcPort 0
// means DefaultEphemeralPort.
type Flow struct {
	Name             string
	Src, Dst         Endpoint
	Protocol         string
	DstPort, SrcPort int
}

// Hop is one decision on a flow's path, in the order a packet meets it.
type Hop struct {
	Packet   string // "request" or "response"
	Check    string // "endpoint", "path", "service", "route", "gateway", "network ACL", "security group"
	Resource string // the ID that decided: eni-, rtb-, acl-, sg-, nat-, igw-, ...
	Allowed  bool
	Note     string // one sentence
}

// Verdict is the model's answer for a flow.
type Verdict struct {
	Allowed bool
	// Tracked is true when the flow is allowed and every
	// security-group-filtered ENI on the path tracks it, so that a later rule
	// or group change does not cut it there. It is false for a blocked flow
	// and when no ENI filters the flow (a VPC service).
	Tracked bool
	// Reason names the rule, group, ACL entry or gateway that decided.
	Reason string
	Path   []Hop
}

// flowState is what an established flow carries from one change to the
// next: whether each ENI tracks it, and the gateways it went through.
type flowState struct {
	tracked  map[string]bool
	gateways string
}

// result is a verdict with what Replay needs to carry the flow on.
type result struct {
	Verdict
	plan    *plan
	tracked map[string]bool // ENI -> tracks the flow after this evaluation
	held    []string        // ENIs whose rules no longer allow the request: only tracking keeps it
}

// Evaluate judges a NEW connection on the network as it is now.
func (n *Network) Evaluate(f Flow) (Verdict, error) {
	r, err := n.evaluate(f, nil)
	return r.Verdict, err
}

func (n *Network) evaluate(f Flow, st *flowState) (result, error) {
	p, err := n.plan(f)
	if err != nil {
		return result{}, err
	}
	res := result{plan: p, tracked: map[string]bool{}}
	res.Path = append(res.Path, p.hops...)
	deny := func(h Hop) (result, error) {
		res.Path = append(res.Path, h)
		res.Reason, res.Tracked = h.Note, false
		return res, nil
	}
	if p.blocked != nil {
		return deny(*p.blocked)
	}
	if st != nil && st.gateways != strings.Join(p.gateways, ">") {
		return deny(Hop{Packet: "request", Check: "path", Note: fmt.Sprintf("the path changed from %s to %s: the remote end sees another address or gateway and the connection breaks", orNone(st.gateways), orNone(strings.Join(p.gateways, ">")))})
	}
	if p.service != "" {
		res.Allowed = true
		res.Reason = "link-local: not filtered by security groups or network ACLs (" + p.service + ")"
		res.Path = append(res.Path, Hop{Packet: "request", Check: "service", Allowed: true, Note: res.Reason})
		return res, nil
	}
	res.Tracked = true
	filtered := 0
	// Request: the source's egress rules, the subnet boundaries, the
	// destination's ingress rules.
	if sgFiltered(p.src) {
		filtered++
		if h, ok := n.sgRequest(&res, st, p.src, true, p.req, p.srcPeer); !ok {
			return deny(h)
		}
	}
	for _, c := range p.crossings {
		if c.resp {
			continue
		}
		if h, ok := n.aclHop(c); !ok {
			return deny(h)
		} else {
			res.Path = append(res.Path, h)
		}
	}
	if sgFiltered(p.dst) {
		filtered++
		if h, ok := n.sgRequest(&res, st, p.dst, false, p.req, p.dstPeer); !ok {
			return deny(h)
		}
	}
	// Response: the destination's egress side, the boundaries back, the
	// source's ingress side.
	if sgFiltered(p.dst) {
		if h, ok := n.sgResponse(&res, p.dst, false, p.resp, p.dstPeer); !ok {
			return deny(h)
		}
	}
	for _, c := range p.crossings {
		if !c.resp {
			continue
		}
		if h, ok := n.aclHop(c); !ok {
			return deny(h)
		} else {
			res.Path = append(res.Path, h)
		}
	}
	if sgFiltered(p.src) {
		if h, ok := n.sgResponse(&res, p.src, true, p.resp, p.srcPeer); !ok {
			return deny(h)
		}
	}
	res.Allowed = true
	for _, t := range res.tracked {
		res.Tracked = res.Tracked && t
	}
	if filtered == 0 {
		res.Tracked = false
	}
	res.Reason = summary(p, res)
	return res, nil
}

func orNone(s string) string {
	if s == "" {
		return "no gateway"
	}
	return s
}

// sgFiltered says whether an ENI's security groups filter its traffic. NAT
// gateways and transit gateway attachments have none, and a Network or
// Gateway Load Balancer without groups filters nothing; every other ENI has
// at least one group, and an empty set allows nothing.
func sgFiltered(e *ENI) bool {
	if e == nil {
		return false
	}
	switch e.Kind {
	case KindNATGateway, KindTransitGateway:
		return false
	case KindNLB, KindGWLB, KindGWLBEndpoint:
		return len(e.Groups) > 0
	}
	return true
}

// sgRequest checks the request packet at one ENI and settles whether that
// ENI tracks the flow. initiator is true at the source (egress rules decide
// the request), false at the destination (ingress rules). A flow the ENI
// already tracks passes whatever the rules say now: "When you change a
// security group rule, its tracked connections are not immediately
// interrupted. The security group continues to allow packets until existing
// connections time out." (Amazon EC2 security group connection tracking).
// Time is not modeled, so a tracked flow is taken not to idle out.
func (n *Network) sgRequest(res *result, st *flowState, e *ENI, initiator bool, req packet, other peer) (Hop, bool) {
	egress := initiator
	h := Hop{Packet: "request", Check: "security group", Resource: e.ID}
	wasTracked := st != nil && st.tracked[e.ID]
	m, ok := n.sgAllows(e, egress, req, other)
	switch {
	case ok:
		h.Resource, h.Allowed = m.group, true
		h.Note = fmt.Sprintf("%s of %s allows %s", describeRule(m, egress), e.ID, pktText(req, egress))
	case wasTracked:
		h.Allowed = true
		h.Note = fmt.Sprintf("no rule of %s's groups %v allows %s now, but the connection is tracked on %s and survives the change", e.ID, e.Groups, pktText(req, egress), e.ID)
		res.held = append(res.held, e.ID)
	default:
		dir := "egress"
		if !egress {
			dir = "ingress"
		}
		h.Note = fmt.Sprintf("no %s rule of %s's security groups %v allows %s", dir, e.ID, e.Groups, pktText(req, egress))
		return h, false
	}
	res.Path = append(res.Path, h)
	switch {
	case wasTracked:
		res.tracked[e.ID] = true
	case res.plan.autoTracked != "":
		res.tracked[e.ID] = true
	default:
		res.tracked[e.ID] = !n.untracked(e, initiator, req)
	}
	return h, true
}

// sgResponse checks the response packet at one ENI: a tracked flow's
// response is allowed by the tracking; an untracked flow's "response traffic
// ... is allowed based on the inbound or outbound rule that permits the
// response traffic, not based on tracking information" (Amazon EC2 security
// group connection tracking), so it is judged by the rules in force.
// initiator is true at the source, whose ingress rules see the response.
func (n *Network) sgResponse(res *result, e *ENI, initiator bool, resp packet, other peer) (Hop, bool) {
	h := Hop{Packet: "response", Check: "security group", Resource: e.ID, Allowed: true}
	egress := !initiator
	why := "untracked"
	if res.plan.autoTracked != "" {
		why = "automatically tracked: " + res.plan.autoTracked
	}
	if res.tracked[e.ID] {
		if res.plan.autoTracked != "" {
			h.Note = fmt.Sprintf("response allowed by connection tracking on %s (%s)", e.ID, why)
		} else {
			h.Note = fmt.Sprintf("response allowed by connection tracking on %s", e.ID)
		}
		res.Path = append(res.Path, h)
		return h, true
	}
	m, ok := n.sgAllows(e, egress, resp, other)
	if !ok {
		h.Allowed = false
		h.Note = fmt.Sprintf("the flow is %s on %s and no rule of its groups %v allows the response %s", why, e.ID, e.Groups, pktText(resp, egress))
		return h, false
	}
	h.Resource = m.group
	h.Note = fmt.Sprintf("untracked on %s: response allowed by %s", e.ID, describeRule(m, egress))
	res.Path = append(res.Path, h)
	return h, true
}

// aclHop judges one subnet-boundary crossing with the subnet's network ACL.
// "NACLs are stateless" and are evaluated "when traffic enters and leaves
// the subnet" (Network ACL basics): every packet of every flow, request and
// response, new or established.
func (n *Network) aclHop(c crossing) (Hop, bool) {
	id := n.subnetACL(c.subnet)
	dir := "inbound"
	if c.egress {
		dir = "outbound"
	}
	h := Hop{Packet: "request", Check: "network ACL", Resource: id}
	if c.resp {
		h.Packet = "response"
	}
	a := n.NACLs[id]
	if a == nil {
		h.Note = fmt.Sprintf("subnet %s has no network ACL in the model (%q): the * rule denies", c.subnet.ID, id)
		return h, false
	}
	v := evalACL(a, c.egress, c.pkt)
	addr := c.pkt.src
	if c.egress {
		addr = c.pkt.dst
	}
	rule, what := fmt.Sprint(v.rule), v.cidr.String()
	if v.rule == 32767 {
		rule, what = "* (32767)", "everything not matched by a lower rule"
	}
	verb := "denies"
	if v.allow {
		verb = "allows"
	}
	h.Allowed = v.allow
	h.Note = fmt.Sprintf("network ACL %s (subnet %s, %s) rule %s %s %s [%s %s %s]", id, c.subnet.ID, dir, rule, verb, what, protoName(c.pkt.proto), map[bool]string{true: "to", false: "from"}[c.egress], addr)
	return h, v.allow
}

func pktText(p packet, egress bool) string {
	if egress {
		return fmt.Sprintf("%s to %s", portText(p), p.dst)
	}
	return fmt.Sprintf("%s from %s", portText(p), p.src)
}

func portText(p packet) string {
	switch {
	case p.icmp():
		return fmt.Sprintf("%s type %d", protoName(p.proto), p.dstPort)
	case p.proto == protoTCP || p.proto == protoUDP:
		return fmt.Sprintf("%s/%d", protoName(p.proto), p.dstPort)
	}
	return "protocol " + protoName(p.proto)
}

func summary(p *plan, r result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "allowed: %s to %s %s", p.req.src, p.req.dst, portText(p.req))
	if len(p.gateways) > 0 {
		fmt.Fprintf(&b, " through %s", strings.Join(p.gateways, " and "))
	}
	if p.sameSubnet != "" {
		fmt.Fprintf(&b, " within subnet %s (no network ACL)", p.sameSubnet)
	}
	switch {
	case r.Tracked && p.autoTracked != "":
		fmt.Fprintf(&b, "; tracked (automatically: %s)", p.autoTracked)
	case r.Tracked:
		b.WriteString("; tracked")
	default:
		var un []string
		for id, t := range r.tracked {
			if !t {
				un = append(un, id)
			}
		}
		slices.Sort(un)
		if len(un) > 0 {
			fmt.Fprintf(&b, "; untracked on %s (its groups allow all addresses both ways)", strings.Join(un, ", "))
		}
	}
	return b.String()
}
