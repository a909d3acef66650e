package strict

import (
	"context"
	"net/netip"
	"strings"
)

// assignPublicIp (rule ecs-assign-public-ip). "assignPublicIp: Whether the
// task's elastic network interface receives a public IP address."
// (AwsVpcConfiguration —
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_AwsVpcConfiguration.html);
// "When using a public subnet, you can optionally assign a public IP address
// to the task's ENI." (Amazon ECS task networking options for Fargate —
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-networking.html).
// moto 5.2.5 ignores the setting. Such an address is Amazon's, not an
// Elastic IP of the account: the ENI's association has the public IP, its
// DNS name and ipOwnerId "amazon", and no allocation or association ID
// (NetworkInterfaceAssociation: "ipOwnerId: The ID of the Elastic IP address
// owner" —
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_NetworkInterfaceAssociation.html;
// "amazon" is what published answers show for Amazon-provided addresses).

// publicIPv4Range is where the layer takes tasks' public addresses from: a
// public block (outside RFC 1918, RFC 6598 shared space and the RFC 5737
// documentation ranges, which the test worlds use for internet hosts).
// Each task ENI gets the address its ENI ID hashes to: the same after a
// layer restart; two ENIs of the 2^21 addresses may collide (about 1 in
// 400 for a hundred public tasks).
var publicIPv4Range = netip.MustParsePrefix("44.192.0.0/11")

// publicAddr is the public IPv4 address of a task ENI.
func publicAddr(eni string) netip.Addr {
	size := uint64(1) << (32 - publicIPv4Range.Bits())
	v := addrU32(publicIPv4Range.Addr()) + uint32(hash64("public "+eni)%size)
	switch v & 0xff { // keep clear of .0 and .255, which look like network and broadcast addresses
	case 0:
		v++
	case 0xff:
		v--
	}
	return u32Addr(v)
}

// publicDNSName is the public DNS name EC2 gives an address: us-east-1 uses
// compute-1.amazonaws.com, other regions <region>.compute.amazonaws.com.
func publicDNSName(region string, a netip.Addr) string {
	host := "ec2-" + strings.ReplaceAll(a.String(), ".", "-")
	if region == "us-east-1" {
		return host + ".compute-1.amazonaws.com"
	}
	return host + "." + region + ".compute.amazonaws.com"
}

// publicIPOf returns the public address of a task ENI started with
// assignPublicIp ENABLED. The layer learns the setting from RunTask and
// StartTask requests; for a service's task (group "service:<name>") it reads
// the service's network configuration, which survives a layer restart. A
// standalone task's setting is lost on restart. Tasks on container
// instances get none: ECS offers public addresses to Fargate tasks.
func (l *Layer) publicIPOf(ctx context.Context, c caller, eni string, t *taskInfo) (netip.Addr, bool, error) {
	on, known := l.tasks.publicKnown(eni)
	if !known {
		if t == nil || t.onEC2() {
			return netip.Addr{}, false, nil
		}
		if name, ok := strings.CutPrefix(t.Group, "service:"); ok {
			out, err := l.look.ecs(ctx, c, "DescribeServices", map[string]any{"cluster": t.ClusterArn, "services": []string{name}})
			if err != nil {
				return netip.Addr{}, false, err
			}
			for _, s := range objs(out, "services") {
				nc, _ := s["networkConfiguration"].(map[string]any)
				vpc, _ := nc["awsvpcConfiguration"].(map[string]any)
				on = str(vpc, "assignPublicIp") == "ENABLED"
			}
		}
		l.tasks.setPublic(eni, on)
	}
	if !on {
		return netip.Addr{}, false, nil
	}
	return publicAddr(eni), true, nil
}

// presentPublicNode gives an ENI element without an association the task's
// public address, on the ENI and on its primary private address.
func (l *Layer) presentPublicNode(c caller, n *xnode, pub netip.Addr) {
	if a := n.child("association"); a != nil && a.value("publicIp") != "" {
		return // an address moto holds (an Elastic IP): moto's answer stands
	}
	assoc := func(parent *xnode) {
		a := parent.set("association", "")
		a.set("ipOwnerId", "amazon")
		if n.value("privateDnsName") != "" { // the VPC has DNS hostnames
			a.set("publicDnsName", publicDNSName(c.Region, pub))
		}
		a.set("publicIp", pub.String())
	}
	assoc(n)
	for _, p := range n.items("privateIpAddressesSet") {
		if p.value("primary") == "true" {
			assoc(p)
		}
	}
}
