package flowmodel

import (
	"maps"
	"net/netip"
	"slices"
)

// Network is the state of one or more VPCs: plain data keyed by resource ID,
// deep-copied by Clone so that a Change applied to a copy never touches the
// original.
type Network struct {
	VPCs             map[string]*VPC
	Subnets          map[string]*Subnet
	RouteTables      map[string]*RouteTable
	NACLs            map[string]*NACL
	SecurityGroups   map[string]*SecurityGroup
	ENIs             map[string]*ENI
	NATGateways      map[string]*NATGateway
	InternetGateways map[string]*InternetGateway // igw- and eigw-
	Endpoints        map[string]*VPCEndpoint     // VPC endpoints (vpce-)
	PrefixLists      map[string]*PrefixList      // managed prefix lists (pl-)
}

// VPC holds the address ranges the local route covers and the defaults a
// subnet falls back to when it has no explicit association.
type VPC struct {
	ID             string
	CIDRs          []netip.Prefix // IPv4; the first is the primary CIDR (DNS at its base+2)
	IPv6CIDRs      []netip.Prefix
	MainRouteTable string
	DefaultNACL    string
	// DNSDisabled is enableDnsSupport=false: the Route 53 Resolver at VPC+2
	// does not answer.
	DNSDisabled bool
}

// Subnet is where network ACLs apply: one ACL per subnet, crossed whenever a
// packet enters or leaves it.
type Subnet struct {
	ID, VPC    string
	CIDR       netip.Prefix
	IPv6CIDR   netip.Prefix // zero when the subnet has none
	RouteTable string       // "" uses the VPC's main route table
	NACL       string       // "" uses the VPC's default network ACL
	// NACLAssociation is the association ID ReplaceNetworkAclAssociation
	// names; it changes with every replacement.
	NACLAssociation string
}

// RouteTable is a set of routes; the subnet's table decides where a packet
// leaving the subnet goes.
type RouteTable struct {
	ID, VPC string
	Routes  []Route
}

// Route sends a destination (a CIDR, or the addresses of a prefix list) to a
// target: "local", igw-, nat-, eigw-, vpce-, tgw-, pcx-, vgw-, eni-, ...
type Route struct {
	Dest       netip.Prefix // zero when PrefixList is set
	PrefixList string
	Target     string
	Blackhole  bool // the target was deleted: the route drops what it matches
}

// NACL is a network ACL: numbered, ordered allow/deny entries per direction.
type NACL struct {
	ID, VPC string
	Default bool
	Entries []NACLEntry
}

// NACLEntry is one network ACL rule. The implicit final "*" rule (32767,
// deny) is applied by the model whether or not it is listed.
type NACLEntry struct {
	Rule     int
	Egress   bool
	Protocol int // IANA number, -1 for all
	Allow    bool
	CIDR     netip.Prefix // IPv4 or IPv6: an entry matches only its family
	FromPort int          // tcp/udp only
	ToPort   int
	ICMPType int // icmp/icmpv6 only, -1 for all
	ICMPCode int
}

// SecurityGroup is a set of allow rules; an ENI's groups are a union.
type SecurityGroup struct {
	ID, VPC, Name   string
	Ingress, Egress []SGRule
}

// SGRule allows one protocol and port range to or from exactly one peer:
// a CIDR, another security group (the peer ENI is a member), or a prefix
// list. An IpPermission with several ranges becomes several rules.
type SGRule struct {
	Protocol   int // IANA number, -1 for all
	FromPort   int // tcp/udp: ports; icmp: type; -1 for all
	ToPort     int // tcp/udp: ports; icmp: code; -1 for all
	CIDR       netip.Prefix
	Group      string
	PrefixList string
}

// ENIKind says what owns a network interface; some owners make every flow
// through them tracked, and some have no security groups at all.
type ENIKind string

// The kinds the model distinguishes.
const (
	KindInterface         ENIKind = "interface" // task, instance, anything else
	KindALB               ENIKind = "application_load_balancer"
	KindCLB               ENIKind = "classic_load_balancer"
	KindNLB               ENIKind = "network_load_balancer"
	KindGWLB              ENIKind = "gateway_load_balancer"
	KindGWLBEndpoint      ENIKind = "gateway_load_balancer_endpoint"
	KindNATGateway        ENIKind = "nat_gateway"
	KindInterfaceEndpoint ENIKind = "vpc_endpoint" // PrivateLink
	KindLambda            ENIKind = "lambda"
	KindTransitGateway    ENIKind = "transit_gateway"
)

// ENI is a network interface: a flow end. Down marks a stopped task or a
// deleted or detached interface; every flow on it ends.
type ENI struct {
	ID, Subnet, VPC string
	Kind            ENIKind
	PrivateIPs      []netip.Addr // the first is the primary
	PublicIP        netip.Addr   // zero when none
	IPv6            []netip.Addr
	Groups          []string
	Down            bool
	Instance        string // attached instance, if any
	DeviceIndex     int
	Attachment      string
}

// NATGateway translates the source of packets from other subnets to its own
// private IP (and, through the internet gateway, to its Elastic IP).
type NATGateway struct {
	ID, Subnet, VPC string
	ENI             string
	PrivateIP       netip.Addr
	PublicIP        netip.Addr
	Private         bool // connectivity type "private": the internet gateway drops its traffic
	Down            bool // deleted, deleting, failed or pending
}

// InternetGateway is an internet gateway or, with EgressOnly, an egress-only
// internet gateway (IPv6, outbound-initiated only).
type InternetGateway struct {
	ID, VPC    string // VPC is "" when detached
	EgressOnly bool
}

// VPCEndpoint is a gateway endpoint (reached through prefix-list routes) or
// an interface endpoint (reached at its ENIs' private IPs).
type VPCEndpoint struct {
	ID, VPC, Service string
	Gateway          bool
	ENIs             []string
	RouteTables      []string
}

// PrefixList is a managed prefix list: a name and the CIDRs it stands for.
type PrefixList struct {
	ID, Name string
	CIDRs    []netip.Prefix
}

// NewNetwork returns an empty Network with every map made.
func NewNetwork() *Network {
	return &Network{
		VPCs: map[string]*VPC{}, Subnets: map[string]*Subnet{}, RouteTables: map[string]*RouteTable{},
		NACLs: map[string]*NACL{}, SecurityGroups: map[string]*SecurityGroup{}, ENIs: map[string]*ENI{},
		NATGateways: map[string]*NATGateway{}, InternetGateways: map[string]*InternetGateway{},
		Endpoints: map[string]*VPCEndpoint{}, PrefixLists: map[string]*PrefixList{},
	}
}

// Clone returns a deep copy: no map, slice or struct is shared.
func (n *Network) Clone() *Network {
	return &Network{
		VPCs: cloneMap(n.VPCs, func(v VPC) VPC {
			v.CIDRs, v.IPv6CIDRs = slices.Clone(v.CIDRs), slices.Clone(v.IPv6CIDRs)
			return v
		}),
		Subnets:     cloneMap(n.Subnets, func(s Subnet) Subnet { return s }),
		RouteTables: cloneMap(n.RouteTables, func(r RouteTable) RouteTable { r.Routes = slices.Clone(r.Routes); return r }),
		NACLs:       cloneMap(n.NACLs, func(a NACL) NACL { a.Entries = slices.Clone(a.Entries); return a }),
		SecurityGroups: cloneMap(n.SecurityGroups, func(g SecurityGroup) SecurityGroup {
			g.Ingress, g.Egress = slices.Clone(g.Ingress), slices.Clone(g.Egress)
			return g
		}),
		ENIs: cloneMap(n.ENIs, func(e ENI) ENI {
			e.PrivateIPs, e.IPv6, e.Groups = slices.Clone(e.PrivateIPs), slices.Clone(e.IPv6), slices.Clone(e.Groups)
			return e
		}),
		NATGateways:      cloneMap(n.NATGateways, func(g NATGateway) NATGateway { return g }),
		InternetGateways: cloneMap(n.InternetGateways, func(g InternetGateway) InternetGateway { return g }),
		Endpoints: cloneMap(n.Endpoints, func(e VPCEndpoint) VPCEndpoint {
			e.ENIs, e.RouteTables = slices.Clone(e.ENIs), slices.Clone(e.RouteTables)
			return e
		}),
		PrefixLists: cloneMap(n.PrefixLists, func(p PrefixList) PrefixList { p.CIDRs = slices.Clone(p.CIDRs); return p }),
	}
}

func cloneMap[T any](m map[string]*T, deep func(T) T) map[string]*T {
	out := make(map[string]*T, len(m))
	for k, v := range maps.All(m) {
		c := deep(*v)
		out[k] = &c
	}
	return out
}

// subnetACL is the network ACL in force for a subnet: its explicit
// association, else the VPC's default ACL. "Each subnet in your VPC must be
// associated with a network ACL. If you don't explicitly associate a subnet
// with a network ACL, the subnet is automatically associated with the
// default network ACL." (Network ACL basics)
func (n *Network) subnetACL(s *Subnet) string {
	if s.NACL != "" {
		return s.NACL
	}
	if v := n.VPCs[s.VPC]; v != nil {
		return v.DefaultNACL
	}
	return ""
}

// subnetRouteTable is the subnet's explicit route table, else the VPC's main
// route table ("Subnets that are not explicitly associated with any route
// table are implicitly associated with the main route table", Configure
// route tables).
func (n *Network) subnetRouteTable(s *Subnet) string {
	if s.RouteTable != "" {
		return s.RouteTable
	}
	if v := n.VPCs[s.VPC]; v != nil {
		return v.MainRouteTable
	}
	return ""
}

// inVPC reports whether a is inside one of the VPC's CIDRs (the local route).
func (v *VPC) contains(a netip.Addr) bool {
	for _, p := range slices.Concat(v.CIDRs, v.IPv6CIDRs) {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// hasAddr reports whether a is one of the ENI's private, public or IPv6
// addresses.
func (e *ENI) hasAddr(a netip.Addr) bool {
	return slices.Contains(e.PrivateIPs, a) || slices.Contains(e.IPv6, a) || (e.PublicIP.IsValid() && e.PublicIP == a)
}

// eniByAddr finds the ENI whose private or IPv6 address is a; more than one
// (overlapping VPCs) is ambiguous and reported as none.
func (n *Network) eniByAddr(a netip.Addr) *ENI {
	var found *ENI
	for _, e := range n.ENIs {
		if slices.Contains(e.PrivateIPs, a) || slices.Contains(e.IPv6, a) {
			if found != nil {
				return nil
			}
			found = e
		}
	}
	return found
}

// isMember reports whether the ENI has group g.
func (e *ENI) isMember(g string) bool { return e != nil && slices.Contains(e.Groups, g) }
