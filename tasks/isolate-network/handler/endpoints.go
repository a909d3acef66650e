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

// endpointAPI finds the VPC endpoints an allowSsm quarantine keeps open.
type endpointAPI interface {
	DescribeVpcEndpoints(ctx context.Context, in *ec2.DescribeVpcEndpointsInput, opts ...func(*ec2.Options)) (*ec2.DescribeVpcEndpointsOutput, error)
	DescribeNetworkInterfaces(ctx context.Context, in *ec2.DescribeNetworkInterfacesInput, opts ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error)
	DescribePrefixLists(ctx context.Context, in *ec2.DescribePrefixListsInput, opts ...func(*ec2.Options)) (*ec2.DescribePrefixListsOutput, error)
}

// ssmServices are the endpoints the SSM agent cannot work without. There is
// no fallback to HTTPS anywhere: a quarantine that lets the task reach the
// internet on 443 does not contain much, so without them the action fails
// before changing anything (PreconditionFailedError naming what is missing).
var ssmServices = []string{"ssm", "ssmmessages", "ec2messages"}

// ssmEgress is what an allowSsm quarantine group allows.
type ssmEgress struct {
	Rules []rule
	// S3 names how S3 stays reachable ("gateway vpce-… (pl-…)", "interface
	// vpce-…"), or "" when the VPC has no S3 endpoint: SSM then works but
	// uploads from the host (memory images, artifacts) cannot reach S3.
	S3 string
}

// ssmRules returns HTTPS rules to the private IPs of the VPC's ssm,
// ssmmessages and ec2messages interface endpoints and to its S3 endpoint.
// Endpoint ENI addresses are narrower than the endpoints' security groups
// (often the VPC's default group, shared with workloads) or their subnets.
func (h *Handler) ssmRules(ctx context.Context, vpcID, region string) (*ssmEgress, error) {
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

	found := map[string]ec2types.VpcEndpoint{}
	var s3Gateway, s3Interface *ec2types.VpcEndpoint
	for i, ep := range eps {
		if !strings.EqualFold(string(ep.State), "available") || aws.ToString(ep.VpcId) != vpcID {
			continue
		}
		name := aws.ToString(ep.ServiceName)
		for _, svc := range ssmServices {
			if _, dup := found[svc]; !dup && isService(name, region, svc) && ep.VpcEndpointType == ec2types.VpcEndpointTypeInterface && aws.ToBool(ep.PrivateDnsEnabled) {
				found[svc] = ep
			}
		}
		if isService(name, region, "s3") {
			switch {
			case ep.VpcEndpointType == ec2types.VpcEndpointTypeGateway && s3Gateway == nil:
				s3Gateway = &eps[i]
			case ep.VpcEndpointType == ec2types.VpcEndpointTypeInterface && aws.ToBool(ep.PrivateDnsEnabled) && s3Interface == nil:
				s3Interface = &eps[i]
			}
		}
	}
	var missing []string
	for _, svc := range ssmServices {
		if _, ok := found[svc]; !ok {
			missing = append(missing, svc)
		}
	}
	if len(missing) > 0 {
		return nil, &contract.PreconditionFailedError{Reason: fmt.Sprintf(
			"allowSsm: %s has no available interface endpoint with private DNS for %s; without it the quarantine would cut SSM off "+
				"(irflow never falls back to HTTPS to the internet): create the endpoints, or isolate with allowSsm: false after the SSM evidence steps",
			vpcID, strings.Join(missing, ", "))}
	}

	out := &ssmEgress{}
	for _, svc := range ssmServices {
		rs, err := h.endpointENIRules(ctx, found[svc], svc)
		if err != nil {
			return nil, err
		}
		out.Rules = append(out.Rules, rs...)
	}
	switch {
	case s3Gateway != nil:
		pl, err := h.prefixList(ctx, aws.ToString(s3Gateway.ServiceName))
		if err != nil {
			return nil, err
		}
		r := https("irflow quarantine: S3 gateway endpoint " + aws.ToString(s3Gateway.VpcEndpointId))
		r.PrefixList = pl
		out.Rules = append(out.Rules, r)
		out.S3 = fmt.Sprintf("gateway %s (%s)", aws.ToString(s3Gateway.VpcEndpointId), pl)
	case s3Interface != nil:
		rs, err := h.endpointENIRules(ctx, *s3Interface, "s3")
		if err != nil {
			return nil, err
		}
		out.Rules = append(out.Rules, rs...)
		out.S3 = "interface " + aws.ToString(s3Interface.VpcEndpointId)
	}
	return out, nil
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
		return nil, &contract.PreconditionFailedError{Reason: fmt.Sprintf("allowSsm: %s endpoint %s has no network interfaces", svc, id)}
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
		for _, a := range ni.Ipv6Addresses {
			if ip := aws.ToString(a.Ipv6Address); ip != "" {
				r := https(note)
				r.CIDRv6 = ip + "/128"
				rs = append(rs, r)
			}
		}
	}
	if len(rs) == 0 {
		return nil, &contract.PreconditionFailedError{Reason: fmt.Sprintf("allowSsm: %s endpoint %s has no private addresses", svc, id)}
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
