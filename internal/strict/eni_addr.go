package strict

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

// ENI addressing fidelity (rule eni-address-in-subnet).
//
// moto 5.2.5 gives the ENIs it makes for other services a random address in
// 10.0.0.0/8 that is not in their subnet: ECS task ENIs
// (private_ip_address=random_private_ip(), ecs/models.py Task.__init__), the
// NAT gateway's ENI and interface endpoints' ENIs. An ENI made by
// CreateNetworkInterface without an address gets a random address of its
// subnet, which may be one of the five AWS reserves or another ENI's; only
// instances get addresses moto allocates in order (from base+4, skipping
// used ones). AWS places every ENI in its subnet: privateIpAddress is "The
// IPv4 address of the network interface within the subnet" (NetworkInterface
// — https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_NetworkInterface.html);
// "If you don't specify an IPv4 address, Amazon EC2 selects one for you from
// the subnet's IPv4 CIDR range" (CreateNetworkInterface —
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateNetworkInterface.html);
// and "Amazon Web Services reserves both the first four and the last IPv4
// address in each subnet's CIDR block. They're not available for your use."
// (CreateSubnet —
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSubnet.html;
// the five are listed in Subnet CIDR blocks —
// https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html).
//
// The layer therefore presents, for every ENI, a primary private address
// that is in its subnet, is none of the five reserved ones, and no other
// live ENI of the subnet presents. moto's address is kept when it already
// is such an address; otherwise the ENI gets one derived from its ID (see
// probe). The mapping is kept for the life of the layer process, so an
// address never changes while its ENI lives; after a restart it is derived
// again from moto's state (see merge), which gives the same answer unless a
// since-deleted ENI had held a slot a later ENI had to avoid.

// addrBook is the layer's record of presented addresses, per subnet.
type addrBook struct {
	mu      sync.Mutex
	subnets map[string]*subnetAddrs // region/subnet-id
	cidrs   map[string]netip.Prefix // region/subnet-id -> IPv4 CIDR (a subnet's CIDR never changes)
	ofENI   map[string]string       // ENI -> region/subnet-id
}

// subnetAddrs are the addresses of one subnet's ENIs.
type subnetAddrs struct {
	presented map[string]netip.Addr // live ENI -> presented primary address
	moto      map[string]netip.Addr // live ENI -> moto's primary address
	gone      map[string]netip.Addr // deleted ENI -> the last address presented for it
}

// motoENI is what moto says of one ENI of a subnet.
type motoENI struct {
	id      string
	primary netip.Addr
	others  []netip.Addr // secondary private addresses
}

func (b *addrBook) reset() {
	b.mu.Lock()
	b.subnets, b.cidrs, b.ofENI = nil, nil, nil
	b.mu.Unlock()
}

func subnetKey(region, subnet string) string { return region + "/" + subnet }

func (b *addrBook) subnet(key string) *subnetAddrs {
	if b.subnets == nil {
		b.subnets, b.ofENI = map[string]*subnetAddrs{}, map[string]string{}
	}
	s := b.subnets[key]
	if s == nil {
		s = &subnetAddrs{presented: map[string]netip.Addr{}, moto: map[string]netip.Addr{}, gone: map[string]netip.Addr{}}
		b.subnets[key] = s
	}
	return s
}

// reservedAddr reports whether a is one of the five addresses AWS reserves
// in cidr: the network address, the VPC router (+1), the DNS server (+2),
// the one reserved for future use (+3) and the broadcast address (Subnet
// CIDR blocks).
func reservedAddr(cidr netip.Prefix, a netip.Addr) bool {
	off, size, ok := offsetIn(cidr, a)
	return ok && (off < 4 || off == size-1)
}

// offsetIn returns a's offset in the IPv4 prefix and the prefix's size.
func offsetIn(cidr netip.Prefix, a netip.Addr) (off, size uint32, ok bool) {
	if !cidr.Addr().Is4() || !a.Is4() || !cidr.Contains(a) {
		return 0, 0, false
	}
	base := addrU32(cidr.Masked().Addr())
	return addrU32(a) - base, uint32(1) << (32 - cidr.Bits()), true
}

func addrU32(a netip.Addr) uint32 { b := a.As4(); return binary.BigEndian.Uint32(b[:]) }

func u32Addr(v uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	return netip.AddrFrom4(b)
}

func hash64(s string) uint64 {
	sum := sha256.Sum256([]byte(s))
	return binary.BigEndian.Uint64(sum[:8])
}

// probe derives an address for eni in cidr that is not taken: the ENI ID's
// hash picks a slot in the upper half of the subnet's usable range and the
// next free slot is taken (linear probing), then the whole usable range if
// the upper half is full. The upper half keeps clear of the addresses moto
// gives instances, which it allocates upwards from base+4.
func probe(eni string, cidr netip.Prefix, taken map[netip.Addr]bool) (netip.Addr, bool) {
	if !cidr.Addr().Is4() || cidr.Bits() > 28 {
		return netip.Addr{}, false
	}
	base := addrU32(cidr.Masked().Addr())
	size := uint32(1) << (32 - cidr.Bits())
	h := hash64(eni)
	for _, r := range [][2]uint32{{size / 2, size - 2}, {4, size - 2}} {
		n := r[1] - r[0] + 1
		start := uint32(h % uint64(n))
		for k := range n {
			a := u32Addr(base + r[0] + (start+k)%n)
			if !taken[a] {
				return a, true
			}
		}
	}
	return netip.Addr{}, false
}

// merge brings a subnet's record up to date with the ENIs moto lists in it
// now, in moto's order (the order moto created them: moto keeps its ENIs in
// an insertion-ordered dict): ENIs gone from moto keep their last address
// for display only; known ENIs keep theirs; each new ENI, in turn, keeps
// moto's address when it is in the subnet, not reserved and not taken, and
// otherwise gets probe's.
//
// Because the live layer assigns new ENIs in creation order too (each
// refresh lists every ENI of the subnet; those it has not seen were created
// after the ones it has), a new layer deriving every address at once from
// moto's list gets the same answer, unless an ENI deleted since held an
// address a later ENI had to avoid.
func (b *addrBook) merge(key string, cidr netip.Prefix, enis []motoENI) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cidrs == nil {
		b.cidrs = map[string]netip.Prefix{}
	}
	b.cidrs[key] = cidr
	s := b.subnet(key)
	live := map[string]bool{}
	for _, e := range enis {
		live[e.id] = true
	}
	for id, a := range s.presented {
		if !live[id] {
			s.gone[id] = a
			delete(s.presented, id)
			delete(s.moto, id)
		}
	}
	taken := map[netip.Addr]bool{}
	for _, a := range s.presented {
		taken[a] = true
	}
	for _, e := range enis {
		for _, a := range e.others {
			if cidr.Contains(a) {
				taken[a] = true
			}
		}
	}
	for _, e := range enis {
		b.ofENI[e.id] = key
		delete(s.gone, e.id)
		if _, known := s.presented[e.id]; known {
			continue
		}
		a := e.primary
		if !cidr.Contains(a) || reservedAddr(cidr, a) || taken[a] {
			var ok bool
			if a, ok = probe(e.id, cidr, taken); !ok {
				a = e.primary // the subnet is full: moto's address stands
			}
		}
		s.presented[e.id], s.moto[e.id] = a, e.primary
		taken[a] = true
	}
}

// lookup returns the address presented for eni in the subnet, live or gone.
func (b *addrBook) lookup(key, eni string) (netip.Addr, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.subnets[key]
	if s == nil {
		return netip.Addr{}, false
	}
	if a, ok := s.presented[eni]; ok {
		return a, true
	}
	a, ok := s.gone[eni]
	return a, ok
}

// forget marks eni deleted: its address is free, and shown only where the
// deleted ENI is still named (a stopped task's attachment).
func (b *addrBook) forget(eni string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.subnets[b.ofENI[eni]]
	if s == nil {
		return
	}
	if a, ok := s.presented[eni]; ok {
		s.gone[eni] = a
		delete(s.presented, eni)
		delete(s.moto, eni)
	}
}

// remember records the address shown for an ENI that moto no longer lists
// and the book never saw (a stopped task's ENI after a layer restart): the
// probe's answer among the live addresses, kept so that it stays stable.
func (b *addrBook) remember(key, eni string) (netip.Addr, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	cidr, ok := b.cidrs[key]
	if !ok {
		return netip.Addr{}, false
	}
	s := b.subnet(key)
	if a, ok := s.gone[eni]; ok {
		return a, true
	}
	taken := map[netip.Addr]bool{}
	for _, a := range s.presented {
		taken[a] = true
	}
	a, ok := probe(eni, cidr, taken)
	if ok {
		s.gone[eni] = a
		b.ofENI[eni] = key
	}
	return a, ok
}

// subnetOf returns the subnet key the book knows eni by.
func (b *addrBook) subnetOf(eni string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ofENI[eni]
}

// motoAddrsOf returns moto's addresses of the live ENIs of region presented
// at a, and whether any ENI is presented there.
func (b *addrBook) motoAddrsOf(region string, a netip.Addr) ([]netip.Addr, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []netip.Addr
	for key, s := range b.subnets {
		if !strings.HasPrefix(key, region+"/") {
			continue
		}
		for id, p := range s.presented {
			if p == a {
				out = append(out, s.moto[id])
			}
		}
	}
	return out, len(out) > 0
}

// presentedAddr returns the address shown as eni's primary private address.
// subnet may be "" when the caller does not know it. ok is false when the
// ENI is unknown to moto and to the book, or its subnet has no IPv4 CIDR.
func (l *Layer) presentedAddr(ctx context.Context, c caller, subnet, eni string) (netip.Addr, bool, error) {
	key := ""
	if subnet != "" {
		key = subnetKey(c.Region, subnet)
	} else if key = l.addrs.subnetOf(eni); key == "" {
		out, err := l.look.ec2(c).DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{eni}})
		if notFound(err) || (err == nil && len(out.NetworkInterfaces) == 0) {
			return netip.Addr{}, false, nil
		}
		if err != nil {
			return netip.Addr{}, false, err
		}
		subnet = aws.ToString(out.NetworkInterfaces[0].SubnetId)
		key = subnetKey(c.Region, subnet)
	}
	if a, ok := l.addrs.lookup(key, eni); ok {
		return a, true, nil
	}
	if subnet == "" {
		subnet = key[strings.IndexByte(key, '/')+1:]
	}
	if err := l.refreshSubnet(ctx, c, subnet); err != nil {
		return netip.Addr{}, false, err
	}
	if a, ok := l.addrs.lookup(key, eni); ok {
		return a, true, nil
	}
	a, ok := l.addrs.remember(key, eni)
	return a, ok, nil
}

// refreshSubnet reads the subnet's ENIs from moto and merges them into the
// book; one refresh of a subnet at a time.
func (l *Layer) refreshSubnet(ctx context.Context, c caller, subnet string) error {
	key := subnetKey(c.Region, subnet)
	defer l.locks.lock("addr " + key)()
	l.addrs.mu.Lock()
	cidr, ok := l.addrs.cidrs[key]
	l.addrs.mu.Unlock()
	api := l.look.ec2(c)
	if !ok {
		out, err := api.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{subnet}})
		if notFound(err) || (err == nil && len(out.Subnets) == 0) {
			return nil // moto answers for a subnet it does not have
		}
		if err != nil {
			return fmt.Errorf("strict: subnet %s: %w", subnet, err)
		}
		if cidr, err = netip.ParsePrefix(aws.ToString(out.Subnets[0].CidrBlock)); err != nil {
			return nil // an IPv6-only subnet: nothing to place
		}
	}
	var enis []motoENI
	in := &ec2.DescribeNetworkInterfacesInput{Filters: []ec2types.Filter{{Name: aws.String("subnet-id"), Values: []string{subnet}}}}
	for {
		out, err := api.DescribeNetworkInterfaces(ctx, in)
		if err != nil {
			return fmt.Errorf("strict: ENIs of %s: %w", subnet, err)
		}
		for _, ni := range out.NetworkInterfaces {
			e := motoENI{id: aws.ToString(ni.NetworkInterfaceId)}
			e.primary, _ = netip.ParseAddr(aws.ToString(ni.PrivateIpAddress))
			for _, pa := range ni.PrivateIpAddresses {
				if a, err := netip.ParseAddr(aws.ToString(pa.PrivateIpAddress)); err == nil && a != e.primary {
					e.others = append(e.others, a)
				}
			}
			enis = append(enis, e)
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	l.addrs.merge(key, cidr.Masked(), enis)
	return nil
}

// notFound reports whether err is an EC2 "does not exist" answer.
func notFound(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && strings.HasSuffix(api.ErrorCode(), ".NotFound")
}

// dnsName rewrites an EC2 private DNS name ("ip-10-1-2-3.ec2.internal")
// for address a, keeping its domain.
func dnsName(name string, a netip.Addr) string {
	if name == "" {
		return ""
	}
	host, domain, _ := strings.Cut(name, ".")
	if !strings.HasPrefix(host, "ip-") {
		return name
	}
	return "ip-" + strings.ReplaceAll(a.String(), ".", "-") + "." + domain
}

// presentAddrNode rewrites, in an EC2 XML element describing an ENI (a
// DescribeNetworkInterfaces item, an instance's network interface, a
// CreateNetworkInterface answer), moto's primary address to the presented
// one, with its DNS names.
func presentAddrNode(n *xnode, moto, shown netip.Addr) {
	if !moto.IsValid() || moto == shown {
		return
	}
	m := moto.String()
	if n.value("privateIpAddress") == m {
		n.set("privateIpAddress", shown.String())
		if n.child("privateDnsName") != nil {
			n.set("privateDnsName", dnsName(n.value("privateDnsName"), shown))
		}
	}
	for _, a := range n.items("privateIpAddressesSet") {
		if a.value("privateIpAddress") == m {
			a.set("privateIpAddress", shown.String())
			if a.child("privateDnsName") != nil {
				a.set("privateDnsName", dnsName(a.value("privateDnsName"), shown))
			}
		}
	}
}

// presentENINode rewrites the primary address of an ENI element.
func (l *Layer) presentENINode(ctx context.Context, c caller, n *xnode) error {
	eni := n.value("networkInterfaceId")
	moto, err := netip.ParseAddr(n.value("privateIpAddress"))
	if eni == "" || err != nil {
		return nil
	}
	shown, ok, err := l.presentedAddr(ctx, c, n.value("subnetId"), eni)
	if err != nil || !ok {
		return err
	}
	presentAddrNode(n, moto, shown)
	return nil
}
