package strict

import (
	"context"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// The other EC2 answers that carry an ENI's private address, rewritten to
// the address the layer presents (eni_addr.go), and the requests that name
// one.

// rewriteNATGateways presents the private address of each NAT gateway's
// ENI (natGatewayAddressSet.privateIp) in DescribeNatGateways and
// CreateNatGateway answers.
func (l *Layer) rewriteNATGateways(ctx context.Context, c caller, body []byte) ([]byte, error) {
	root, err := parseXML(body)
	if err != nil {
		return nil, err
	}
	gws := root.items("natGatewaySet")
	if g := root.child("natGateway"); g != nil {
		gws = append(gws, g)
	}
	for _, g := range gws {
		for _, a := range g.items("natGatewayAddressSet") {
			eni := a.value("networkInterfaceId")
			if eni == "" || a.value("privateIp") == "" {
				continue
			}
			shown, ok, err := l.presentedAddr(ctx, c, g.value("subnetId"), eni)
			if err != nil {
				return nil, err
			}
			if ok {
				a.set("privateIp", shown.String())
			}
		}
	}
	return root.bytes(), nil
}

// rewriteInstances presents the addresses of instances' ENIs, and the
// instance's own (its primary ENI's), in DescribeInstances and RunInstances
// answers, and the ENIs' own security groups, the instance's being its
// primary ENI's (eni_groups.go); a query filtered by address is filtered again on the addresses
// shown.
func (l *Layer) rewriteInstances(ctx context.Context, c caller, filters []addrFilter, body []byte) ([]byte, error) {
	root, err := parseXML(body)
	if err != nil {
		return nil, err
	}
	var nics []*xnode
	for _, set := range root.findAll("instancesSet") {
		for _, inst := range set.kids {
			if inst.name.Local == "item" {
				nics = append(nics, inst.items("networkInterfaceSet")...)
			}
		}
	}
	if err := l.presentGroups(ctx, c, nics, func(*xnode) bool { return true }); err != nil {
		return nil, err
	}
	for _, set := range root.findAll("instancesSet") {
		for _, inst := range set.kids {
			if inst.name.Local != "item" {
				continue
			}
			presentInstanceGroups(inst)
			for _, ni := range inst.items("networkInterfaceSet") {
				moto, _ := netip.ParseAddr(ni.value("privateIpAddress"))
				if err := l.presentENINode(ctx, c, ni); err != nil {
					return nil, err
				}
				if ni.child("attachment").value("deviceIndex") == "0" {
					if shown, err := netip.ParseAddr(ni.value("privateIpAddress")); err == nil {
						presentAddrNode(inst, moto, shown)
					}
				}
			}
		}
		if len(filters) > 0 {
			set.drop(func(k *xnode) bool {
				return k.name.Local == "item" && !matchAddrFilters(filters, "private-ip-address", []string{k.value("privateIpAddress")})
			})
		}
	}
	if len(filters) > 0 {
		if rs := root.child("reservationSet"); rs != nil {
			rs.drop(func(k *xnode) bool { return k.name.Local == "item" && len(k.items("instancesSet")) == 0 })
		}
	}
	return root.bytes(), nil
}

// rewriteAddresses presents the private address an Elastic IP is
// associated with (DescribeAddresses).
func (l *Layer) rewriteAddresses(ctx context.Context, c caller, body []byte) ([]byte, error) {
	root, err := parseXML(body)
	if err != nil {
		return nil, err
	}
	for _, a := range root.items("addressesSet") {
		eni := a.value("networkInterfaceId")
		if eni == "" || a.value("privateIpAddress") == "" {
			continue
		}
		shown, ok, err := l.presentedAddr(ctx, c, "", eni)
		if err != nil {
			return nil, err
		}
		if ok {
			a.set("privateIpAddress", shown.String())
		}
	}
	return root.bytes(), nil
}

// addrFilter is one Describe filter on a private address.
type addrFilter struct {
	name   string
	values map[string]bool
}

// addrFilterNames are the address filters the layer translates, by action:
// the ones moto 5.2.5 evaluates (it answers HTTP 500 to DescribeInstances'
// network-interface.addresses.private-ip-address and to private-dns-name).
var addrFilterNames = map[string][]string{
	"DescribeNetworkInterfaces": {"private-ip-address", "addresses.private-ip-address"},
	"DescribeInstances":         {"private-ip-address"},
}

// translateAddrFilters rewrites the address filters of a Describe request,
// which name the addresses the layer presents, to moto's addresses: each
// value becomes itself plus moto's address of every ENI presented at it.
// It returns the rewritten form (nil when nothing changed) and the filters
// as asked, which the answer is filtered on again after presentation
// (moto's own address of a moved ENI may match another value).
func (l *Layer) translateAddrFilters(ctx context.Context, c caller, op string, form url.Values) (url.Values, []addrFilter, error) {
	names := addrFilterNames[op]
	var filters []addrFilter
	var keys []string
	for k, v := range form {
		if strings.HasPrefix(k, "Filter.") && strings.HasSuffix(k, ".Name") && len(v) > 0 && slices.Contains(names, v[0]) {
			keys = append(keys, strings.TrimSuffix(k, "Name"))
		}
	}
	if len(keys) == 0 {
		return nil, nil, nil
	}
	sort.Strings(keys)
	var asked []netip.Addr
	for _, prefix := range keys {
		f := addrFilter{name: form.Get(prefix + "Name"), values: map[string]bool{}}
		for k, v := range form {
			if strings.HasPrefix(k, prefix+"Value.") {
				for _, s := range v {
					f.values[s] = true
					if a, err := netip.ParseAddr(s); err == nil {
						asked = append(asked, a)
					}
				}
			}
		}
		filters = append(filters, f)
	}
	if err := l.refreshSubnetsHolding(ctx, c, asked); err != nil {
		return nil, nil, err
	}
	out := url.Values{}
	for k, v := range form {
		out[k] = slices.Clone(v)
	}
	for i, prefix := range keys {
		for k := range out {
			if strings.HasPrefix(k, prefix+"Value.") {
				delete(out, k)
			}
		}
		var vals []string
		for s := range filters[i].values {
			vals = append(vals, s)
			if a, err := netip.ParseAddr(s); err == nil {
				motos, _ := l.addrs.motoAddrsOf(c.Region, a)
				for _, m := range motos {
					vals = append(vals, m.String())
				}
			}
		}
		slices.Sort(vals)
		for j, v := range slices.Compact(vals) {
			out.Set(fmt.Sprintf("%sValue.%d", prefix, j+1), v)
		}
	}
	return out, filters, nil
}

// refreshSubnetsHolding brings the book up to date for every subnet whose
// CIDR holds one of the addresses.
func (l *Layer) refreshSubnetsHolding(ctx context.Context, c caller, addrs []netip.Addr) error {
	if len(addrs) == 0 {
		return nil
	}
	in := &ec2.DescribeSubnetsInput{}
	for {
		out, err := l.look.ec2(c).DescribeSubnets(ctx, in)
		if err != nil {
			return fmt.Errorf("strict: subnets: %w", err)
		}
		for _, s := range out.Subnets {
			p, err := netip.ParsePrefix(aws.ToString(s.CidrBlock))
			if err != nil || !slices.ContainsFunc(addrs, p.Contains) {
				continue
			}
			if err := l.refreshSubnet(ctx, c, aws.ToString(s.SubnetId)); err != nil {
				return err
			}
		}
		if aws.ToString(out.NextToken) == "" {
			return nil
		}
		in.NextToken = out.NextToken
	}
}

// matchAddrFilters reports whether addresses (the field of filter name)
// satisfy every filter of that name.
func matchAddrFilters(filters []addrFilter, name string, addrs []string) bool {
	for _, f := range filters {
		if f.name != name {
			continue
		}
		if !slices.ContainsFunc(addrs, func(a string) bool { return f.values[a] }) {
			return false
		}
	}
	return true
}

// matchENIFilters checks an ENI item against the address filters:
// private-ip-address is the primary address, addresses.private-ip-address
// any of them.
func matchENIFilters(item *xnode, filters []addrFilter) bool {
	all := []string{item.value("privateIpAddress")}
	for _, a := range item.items("privateIpAddressesSet") {
		all = append(all, a.value("privateIpAddress"))
	}
	return matchAddrFilters(filters, "private-ip-address", all[:1]) && matchAddrFilters(filters, "addresses.private-ip-address", all)
}
