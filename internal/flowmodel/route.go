package flowmodel

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// lookupRoute picks the route a subnet's table uses for dst. "We direct
// traffic using the most specific route that matches the traffic. This is
// known as the longest prefix match." and "Routes to IPv4 and IPv6 addresses
// or CIDR blocks are independent of each other." With equal prefixes a CIDR
// (static) route wins over a prefix-list route ("Route priority", Configure
// route tables). "Every route table contains a local route for
// communication within the VPC": the local route for each VPC CIDR is
// assumed even when a hand-built table omits it.
func (n *Network) lookupRoute(s *Subnet, dst netip.Addr) (rt string, best Route, found bool) {
	rt = n.subnetRouteTable(s)
	var routes []Route
	if t := n.RouteTables[rt]; t != nil {
		routes = append(routes, t.Routes...)
	}
	if v := n.VPCs[s.VPC]; v != nil {
		for _, c := range append(append([]netip.Prefix{}, v.CIDRs...), v.IPv6CIDRs...) {
			routes = append(routes, Route{Dest: c, Target: "local"})
		}
	}
	bestLen, bestPL := -1, true
	for _, r := range routes {
		l, ok := n.routeMatch(r, dst)
		if !ok {
			continue
		}
		pl := r.PrefixList != ""
		if l > bestLen || (l == bestLen && bestPL && !pl) {
			best, bestLen, bestPL, found = r, l, pl, true
		}
	}
	return rt, best, found
}

// routeMatch returns the prefix length by which r covers dst.
func (n *Network) routeMatch(r Route, dst netip.Addr) (int, bool) {
	if r.PrefixList == "" {
		if r.Dest.IsValid() && r.Dest.Addr().Is4() == dst.Is4() && r.Dest.Contains(dst) {
			return r.Dest.Bits(), true
		}
		return 0, false
	}
	best := -1
	if pl := n.PrefixLists[r.PrefixList]; pl != nil {
		for _, c := range pl.CIDRs {
			if c.Addr().Is4() == dst.Is4() && c.Contains(dst) && c.Bits() > best {
				best = c.Bits()
			}
		}
	}
	return best, best >= 0
}

func routeDest(r Route) string {
	if r.PrefixList != "" {
		return "prefix list " + r.PrefixList
	}
	return r.Dest.String()
}

// Link-local and VPC-provided services. "Security groups do not filter
// traffic destined to and from the following: Amazon Domain Name Services
// (DNS), Amazon Dynamic Host Configuration Protocol (DHCP), Amazon EC2
// instance metadata, Amazon ECS task metadata endpoints, License activation
// for Windows instances, Amazon Time Sync Service, Reserved IP addresses
// used by the default VPC router." (Control traffic to your AWS resources
// using security groups), and "Network ACLs do not filter traffic destined
// to and from" the same list; "Network ACLs can't block DNS requests to or
// from the Route 53 Resolver (also known as the VPC+2 IP address or
// AmazonProvidedDNS)" (Network ACL basics). The ECS credentials endpoint
// is the task metadata address 169.254.170.2.
var serviceAddrs = map[netip.Addr]string{
	netip.MustParseAddr("169.254.169.254"): "instance metadata service",
	netip.MustParseAddr("fd00:ec2::254"):   "instance metadata service",
	netip.MustParseAddr("169.254.169.253"): "Route 53 Resolver",
	netip.MustParseAddr("fd00:ec2::253"):   "Route 53 Resolver",
	netip.MustParseAddr("169.254.169.123"): "Amazon Time Sync Service",
	netip.MustParseAddr("fd00:ec2::123"):   "Amazon Time Sync Service",
	netip.MustParseAddr("169.254.170.2"):   "ECS task metadata and credentials endpoint",
}

// service names the VPC-provided service at dst, if any: a fixed link-local
// address, the Route 53 Resolver at the primary CIDR's base plus two, or
// the subnet's VPC router at its base plus one.
func (n *Network) service(v *VPC, s *Subnet, dst netip.Addr) (string, bool) {
	if name, ok := serviceAddrs[dst]; ok {
		return name, true
	}
	if v != nil && len(v.CIDRs) > 0 && dst == v.CIDRs[0].Masked().Addr().Next().Next() {
		return "Route 53 Resolver at VPC+2", true
	}
	if s != nil && s.CIDR.IsValid() && dst == s.CIDR.Masked().Addr().Next() {
		return "VPC router at subnet+1", true
	}
	return "", false
}

// targetKind classifies a route target by its ID prefix.
func targetKind(t string) string {
	if t == "local" {
		return "local"
	}
	if i := strings.IndexByte(t, '-'); i > 0 {
		return t[:i]
	}
	return t
}

// ErrNotModeled is wrapped by every error about a flow or change that uses
// something the model does not represent: the caller gets an error rather
// than an invented verdict.
var ErrNotModeled = errors.New("flowmodel: not modeled")

func notModeled(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrNotModeled, fmt.Sprintf(format, a...))
}
