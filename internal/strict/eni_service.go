package strict

import (
	"context"
	"encoding/xml"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Requester-managed ENIs of other services: NAT gateways, interface VPC
// endpoints and Elastic Load Balancing. "A requester-managed network
// interface is a network interface that an AWS service creates in your VPC
// on your behalf. The network interface is associated with a resource for
// another service, such as a DB instance from Amazon RDS, a NAT gateway, or
// an interface VPC endpoint from AWS PrivateLink." (Requester-managed network
// interfaces —
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/requester-managed-eni.html).
// That page's example shows an endpoint's ENI as "Description": "VPC
// Endpoint Interface vpce-089f2123488812123", "InterfaceType":
// "vpc_endpoint", "RequesterId": "727180483921", "RequesterManaged": true,
// "Status": "in-use". moto makes these ENIs as plain, detached ("available")
// interfaces of the account with an empty description, and gives an
// endpoint's ENIs the VPC's default security group instead of the
// endpoint's.
//
// The layer recognises them without state of its own: NAT gateway ENIs from
// DescribeNatGateways (natGatewayAddressSet.networkInterfaceId), endpoint
// ENIs from DescribeVpcEndpoints (networkInterfaceIds), load balancer ENIs
// by the description Elastic Load Balancing gives them ("ELB app/<name>/<id>"
// for an Application Load Balancer, "ELB net/..." for a Network Load
// Balancer, "ELB <name>" for a Classic Load Balancer).

// Observed values, which AWS documents nowhere but the example above.
const (
	// DefaultNATRequesterID is the RequesterId of a NAT gateway's ENI, as a
	// published DescribeNetworkInterfaces answer shows it (eu-west-1,
	// aws-parallelcluster test fixtures); other regions show other accounts.
	DefaultNATRequesterID = "036872051663"
	// DefaultEndpointRequesterID is the RequesterId of the endpoint ENI in
	// the Requester-managed network interfaces page's example.
	DefaultEndpointRequesterID = "727180483921"
	// elbRequesterID is the RequesterId and attachment owner of load
	// balancer ENIs ("amazon-elb", as published answers show it).
	elbRequesterID = "amazon-elb"
	// awsAttachmentOwner is the InstanceOwnerId of the attachment of NAT
	// gateway and endpoint ENIs ("amazon-aws").
	awsAttachmentOwner = "amazon-aws"
)

// svcENI is what the layer found of an ENI another service manages.
type svcENI struct {
	Kind   string // "nat", "vpce" or "" (the account's own)
	Owner  string // the nat- or vpce- ID
	Gone   bool   // the NAT gateway is deleted (or failed): AWS deletes its ENI
	Groups []ec2types.SecurityGroupIdentifier
}

// svcIndex caches what the layer found: an ENI's owning service never
// changes (AWS creates the ENI with the gateway or endpoint), so "none" is
// cached too, for the ENIs moto shows in use (it shows NAT gateway and
// endpoint ENIs "available": one seen while moto is still creating its
// gateway is asked about again). Owners' state (a NAT gateway's deletion, an
// endpoint's groups) is read afresh whenever an answer holds their ENIs.
type svcIndex struct {
	mu sync.Mutex
	m  map[string]svcENI
}

func (s *svcIndex) reset() {
	s.mu.Lock()
	s.m = nil
	s.mu.Unlock()
}

// serviceENIs classifies enis. It asks moto when one of them is unknown or
// belongs to a NAT gateway or endpoint (whose state it reports fresh).
// inUse says which of them moto shows in use: only their "none" is cached.
func (l *Layer) serviceENIs(ctx context.Context, c caller, enis []string, inUse func(eni string) bool) (map[string]svcENI, error) {
	out := map[string]svcENI{}
	need := false
	l.svc.mu.Lock()
	for _, e := range enis {
		s, ok := l.svc.m[e]
		if !ok || s.Kind != "" {
			need = true
		}
		out[e] = s
	}
	l.svc.mu.Unlock()
	if !need {
		return out, nil
	}
	found := map[string]svcENI{}
	api := l.look.ec2(c)
	natIn := &ec2.DescribeNatGatewaysInput{}
	for {
		nats, err := api.DescribeNatGateways(ctx, natIn)
		if err != nil {
			return nil, fmt.Errorf("strict: NAT gateways: %w", err)
		}
		for _, g := range nats.NatGateways {
			gone := g.State == ec2types.NatGatewayStateDeleted || g.State == ec2types.NatGatewayStateDeleting || g.State == ec2types.NatGatewayStateFailed
			for _, a := range g.NatGatewayAddresses {
				if id := aws.ToString(a.NetworkInterfaceId); id != "" {
					found[id] = svcENI{Kind: "nat", Owner: aws.ToString(g.NatGatewayId), Gone: gone}
				}
			}
		}
		if aws.ToString(nats.NextToken) == "" {
			break
		}
		natIn.NextToken = nats.NextToken
	}
	epIn := &ec2.DescribeVpcEndpointsInput{}
	for {
		eps, err := api.DescribeVpcEndpoints(ctx, epIn)
		if err != nil {
			return nil, fmt.Errorf("strict: VPC endpoints: %w", err)
		}
		for _, ep := range eps.VpcEndpoints {
			for _, id := range ep.NetworkInterfaceIds {
				found[id] = svcENI{Kind: "vpce", Owner: aws.ToString(ep.VpcEndpointId), Groups: ep.Groups}
			}
		}
		if aws.ToString(eps.NextToken) == "" {
			break
		}
		epIn.NextToken = eps.NextToken
	}
	l.svc.mu.Lock()
	defer l.svc.mu.Unlock()
	if l.svc.m == nil {
		l.svc.m = map[string]svcENI{}
	}
	for id, s := range found {
		l.svc.m[id] = s
	}
	for _, e := range enis {
		s, ok := found[e]
		if ok || inUse(e) {
			l.svc.m[e] = s
		}
		out[e] = s
	}
	return out, nil
}

// elbInterfaceType is the interface type AWS gives a load balancer's ENI,
// from its description: "network_load_balancer" and "gateway_load_balancer"
// are interfaceType values of their own (NetworkInterface —
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_NetworkInterface.html);
// Application and Classic Load Balancer ENIs show "interface" in published
// answers.
func elbInterfaceType(desc string) string {
	switch {
	case strings.HasPrefix(desc, "ELB net/"):
		return "network_load_balancer"
	case strings.HasPrefix(desc, "ELB gwy/"):
		return "gateway_load_balancer"
	}
	return "interface"
}

func isELBDescription(desc string) bool { return strings.HasPrefix(desc, "ELB ") }

// elaAttachment is the attachment ID shown for a NAT gateway's, endpoint's
// or load balancer's ENI, which moto leaves unattached: derived from the
// ENI ID (published answers show "ela-attach-..." IDs on these ENIs).
func elaAttachment(eni string) string {
	return "ela-attach-" + synthAttachment(eni)[len("eni-attach-"):]
}

// decorateServiceENI shows a NAT gateway's, endpoint's or load balancer's
// ENI as AWS does: requester-managed, in use, attached to the service, with
// the service's description and interface type, and for an endpoint the
// endpoint's security groups.
func (l *Layer) decorateServiceENI(item *xnode, kind string, s svcENI) {
	eni := item.value("networkInterfaceId")
	item.set("requesterManaged", "true")
	item.set("status", "in-use")
	owner := awsAttachmentOwner
	switch kind {
	case "nat":
		// "Interface for NAT Gateway nat-..." with interfaceType nat_gateway
		// and source/destination checking off, as published answers show.
		item.set("interfaceType", "nat_gateway")
		item.set("requesterId", l.cfg.NATRequesterID)
		item.set("description", "Interface for NAT Gateway "+s.Owner)
		item.set("sourceDestCheck", "false")
	case "vpce":
		item.set("interfaceType", "vpc_endpoint")
		item.set("requesterId", l.cfg.EndpointRequesterID)
		item.set("description", "VPC Endpoint Interface "+s.Owner)
		if len(s.Groups) > 0 {
			gs := item.set("groupSet", "")
			for _, g := range s.Groups {
				gs.kids = append(gs.kids, leafItem("groupId", aws.ToString(g.GroupId), "groupName", aws.ToString(g.GroupName)))
			}
		}
	case "elb":
		item.set("interfaceType", elbInterfaceType(item.value("description")))
		item.set("requesterId", elbRequesterID)
		owner = elbRequesterID
	}
	att := item.set("attachment", "")
	att.set("attachmentId", elaAttachment(eni))
	att.set("deleteOnTermination", "false")
	att.set("deviceIndex", "1")
	att.set("instanceOwnerId", owner)
	att.set("networkCardIndex", "0")
	att.set("status", "attached")
}

// leafItem is an <item> with the given child leaves (name, value, ...).
func leafItem(kv ...string) *xnode {
	it := &xnode{name: xml.Name{Local: "item"}}
	for i := 0; i+1 < len(kv); i += 2 {
		it.set(kv[i], kv[i+1])
	}
	return it
}
