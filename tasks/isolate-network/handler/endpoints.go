package handler

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/irflow/irflow/tasks/contract"
)

// endpointAPI finds the VPC endpoints a quarantine keeps open.
type endpointAPI interface {
	DescribeVpcEndpoints(ctx context.Context, in *ec2.DescribeVpcEndpointsInput, opts ...func(*ec2.Options)) (*ec2.DescribeVpcEndpointsOutput, error)
	DescribeNetworkInterfaces(ctx context.Context, in *ec2.DescribeNetworkInterfacesInput, opts ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error)
	DescribePrefixLists(ctx context.Context, in *ec2.DescribePrefixListsInput, opts ...func(*ec2.Options)) (*ec2.DescribePrefixListsOutput, error)
}

// ecsServices are the endpoints the ECS container agent talks to: ecs for
// the API, ecs-agent for its control channel (where stops and drains come
// from), ecs-telemetry for metrics ("Amazon ECS interface VPC endpoints
// (AWS PrivateLink)" —
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/vpc-endpoints.html).
// The quarantine of an instance keeps HTTPS to them, so the stop that
// follows isolation reaches the agent.
var ecsServices = []string{"ecs", "ecs-agent", "ecs-telemetry"}

// ssmServices are the endpoints the SSM agent cannot work without.
var ssmServices = []string{"ssm", "ssmmessages", "ec2messages"}

// ssmFallback says an allowSsm quarantine fell back to the deny-all
// variant because the VPC lacks SSM endpoints (outputs.ssmFallback): SSM
// through the internet (a NAT gateway) is exactly the egress a quarantine
// must cut, so irflow never opens 443 to the internet for it.
type ssmFallback struct {
	VpcID   string   `json:"vpcId"`
	Missing []string `json:"missing"`
	Reason  string   `json:"reason"`
}

// quarantine is what one VPC's quarantine group must allow.
type quarantine struct {
	name, variant string
	rules         []rule
	// s3 names how S3 stays reachable for allowSsm ("gateway vpce-… (pl-…)",
	// "interface vpce-…"), or "".
	s3 string
}

// quarantineRules returns the quarantine group of a VPC: HTTPS to the
// private addresses of its ECS interface endpoints and, with allowSsm and
// every SSM endpoint present, to its SSM and S3 endpoints. Endpoint ENI
// addresses are narrower than the endpoints' security groups (often the
// VPC's default group, shared with workloads) or their subnets.
func (h *Handler) quarantineRules(ctx context.Context, pl *plan, vpcID, region, base string) (*quarantine, error) {
	eps, err := h.vpcEndpoints(ctx, vpcID)
	if err != nil {
		return nil, err
	}
	q := &quarantine{name: base, variant: variantDenyAll}
	// Which endpoints' addresses the quarantine allows: the ECS ones found,
	// and with allowSsm every SSM one (or none: the deny-all fallback).
	type wanted struct {
		svc string
		ep  *ec2types.VpcEndpoint
	}
	var want []wanted
	for _, svc := range ecsServices {
		if ep := interfaceEndpoint(eps, vpcID, region, svc); ep != nil {
			want = append(want, wanted{svc, ep})
			pl.ecsEndpoints[vpcID] = append(pl.ecsEndpoints[vpcID], svc)
		}
	}
	ssm := false
	if pl.allowSsm {
		var missing []string
		for _, svc := range ssmServices {
			if interfaceEndpoint(eps, vpcID, region, svc) == nil {
				missing = append(missing, svc)
			}
		}
		if len(missing) > 0 {
			pl.ssmFallback = append(pl.ssmFallback, ssmFallback{VpcID: vpcID, Missing: missing, Reason: fmt.Sprintf(
				"%s has no available interface endpoint with private DNS for %s: the SSM agent would reach SSM through the internet, "+
					"which the quarantine must cut, so the instance gets the deny-all quarantine and SSM steps after it will fail",
				vpcID, strings.Join(missing, ", "))})
		} else {
			ssm = true
			q.name, q.variant = base+ssmSuffix, variantSSM
			for _, svc := range ssmServices {
				want = append(want, wanted{svc, interfaceEndpoint(eps, vpcID, region, svc)})
			}
		}
	}
	// Every endpoint's ENIs, and the S3 gateway's prefix list, are read at
	// once (one round trip, not one per endpoint); the rules keep the order
	// above.
	rules := make([][]rule, len(want))
	var s3Rules []rule
	jobs := len(want)
	if ssm {
		jobs++ // the S3 endpoint's rules, last
	}
	err = each(jobs, func(i int) error {
		var err error
		if i == len(want) {
			s3Rules, q.s3, err = h.s3Rules(ctx, eps, vpcID, region)
		} else {
			rules[i], err = h.endpointENIRules(ctx, *want[i].ep, want[i].svc)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, rs := range rules {
		q.rules = append(q.rules, rs...)
	}
	q.rules = append(q.rules, s3Rules...)
	return q, nil
}

// vpcEndpoints lists the VPC's endpoints in id order.
func (h *Handler) vpcEndpoints(ctx context.Context, vpcID string) ([]ec2types.VpcEndpoint, error) {
	var eps []ec2types.VpcEndpoint
	pages := ec2.NewDescribeVpcEndpointsPaginator(h.Endpoints, &ec2.DescribeVpcEndpointsInput{
		Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpcID}}},
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, contract.AWSError("ec2:DescribeVpcEndpoints of "+vpcID, err)
		}
		eps = append(eps, page.VpcEndpoints...)
	}
	sort.Slice(eps, func(i, j int) bool { return aws.ToString(eps[i].VpcEndpointId) < aws.ToString(eps[j].VpcEndpointId) })
	return eps, nil
}

// interfaceEndpoint is the VPC's available interface endpoint for svc with
// private DNS on (without it the agents would not resolve to it), or nil.
func interfaceEndpoint(eps []ec2types.VpcEndpoint, vpcID, region, svc string) *ec2types.VpcEndpoint {
	for i, ep := range eps {
		if strings.EqualFold(string(ep.State), "available") && aws.ToString(ep.VpcId) == vpcID &&
			ep.VpcEndpointType == ec2types.VpcEndpointTypeInterface && aws.ToBool(ep.PrivateDnsEnabled) &&
			isService(aws.ToString(ep.ServiceName), region, svc) {
			return &eps[i]
		}
	}
	return nil
}

// s3Rules keeps S3 reachable for uploads from the host: the gateway
// endpoint's prefix list, else an interface endpoint's addresses; none
// leaves SSM working and uploads failing (the summary warns).
func (h *Handler) s3Rules(ctx context.Context, eps []ec2types.VpcEndpoint, vpcID, region string) ([]rule, string, error) {
	for _, ep := range eps {
		if ep.VpcEndpointType == ec2types.VpcEndpointTypeGateway && strings.EqualFold(string(ep.State), "available") &&
			aws.ToString(ep.VpcId) == vpcID && isService(aws.ToString(ep.ServiceName), region, "s3") {
			pl, err := h.prefixList(ctx, aws.ToString(ep.ServiceName))
			if err != nil {
				return nil, "", err
			}
			r := https("irflow quarantine: S3 gateway endpoint " + aws.ToString(ep.VpcEndpointId))
			r.PrefixList = pl
			return []rule{r}, fmt.Sprintf("gateway %s (%s)", aws.ToString(ep.VpcEndpointId), pl), nil
		}
	}
	if ep := interfaceEndpoint(eps, vpcID, region, "s3"); ep != nil {
		rs, err := h.endpointENIRules(ctx, *ep, "s3")
		return rs, "interface " + aws.ToString(ep.VpcEndpointId), err
	}
	return nil, "", nil
}

// isService matches endpoint service names of any partition
// ("com.amazonaws.us-east-1.ssm", "cn.com.amazonaws.cn-north-1.ssm").
func isService(name, region, svc string) bool {
	return strings.HasSuffix(name, "amazonaws."+region+"."+svc)
}

// endpointENIRules allows HTTPS to every private address of an interface endpoint.
func (h *Handler) endpointENIRules(ctx context.Context, ep ec2types.VpcEndpoint, svc string) ([]rule, error) {
	id := aws.ToString(ep.VpcEndpointId)
	if len(ep.NetworkInterfaceIds) == 0 {
		return nil, &contract.PreconditionFailedError{Reason: fmt.Sprintf("%s endpoint %s has no network interfaces", svc, id)}
	}
	out, err := h.Endpoints.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: ep.NetworkInterfaceIds})
	if err != nil {
		return nil, contract.AWSError("ec2:DescribeNetworkInterfaces of endpoint "+id, err)
	}
	note := fmt.Sprintf("irflow quarantine: %s endpoint %s", svc, id)
	var rs []rule
	for _, ni := range out.NetworkInterfaces {
		for _, a := range ni.PrivateIpAddresses {
			if ip := aws.ToString(a.PrivateIpAddress); ip != "" {
				r := https(note)
				r.CIDR = ip + "/32"
				rs = append(rs, r)
			}
		}
		if len(ni.PrivateIpAddresses) == 0 && aws.ToString(ni.PrivateIpAddress) != "" {
			r := https(note)
			r.CIDR = aws.ToString(ni.PrivateIpAddress) + "/32"
			rs = append(rs, r)
		}
		for _, a := range ni.Ipv6Addresses {
			if ip := aws.ToString(a.Ipv6Address); ip != "" {
				r := https(note)
				r.CIDRv6 = ip + "/128"
				rs = append(rs, r)
			}
		}
	}
	if len(rs) == 0 {
		return nil, &contract.PreconditionFailedError{Reason: fmt.Sprintf("%s endpoint %s has no private addresses", svc, id)}
	}
	return rs, nil
}

// prefixList returns the id of the AWS-managed prefix list of a gateway
// endpoint's service (its name is the service name).
func (h *Handler) prefixList(ctx context.Context, service string) (string, error) {
	out, err := h.Endpoints.DescribePrefixLists(ctx, &ec2.DescribePrefixListsInput{
		Filters: []ec2types.Filter{{Name: aws.String("prefix-list-name"), Values: []string{service}}},
	})
	if err != nil {
		return "", contract.AWSError("ec2:DescribePrefixLists "+service, err)
	}
	for _, pl := range out.PrefixLists {
		if aws.ToString(pl.PrefixListName) == service && aws.ToString(pl.PrefixListId) != "" {
			return aws.ToString(pl.PrefixListId), nil
		}
	}
	return "", &contract.PreconditionFailedError{Reason: "allowSsm: no prefix list for " + service}
}
