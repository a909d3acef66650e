package flowmodel

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// EC2API is the part of *ec2.Client that Gather calls: read-only Describe
// operations.
type EC2API interface {
	DescribeVpcs(context.Context, *ec2.DescribeVpcsInput, ...func(*ec2.Options)) (*ec2.DescribeVpcsOutput, error)
	DescribeSubnets(context.Context, *ec2.DescribeSubnetsInput, ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error)
	DescribeRouteTables(context.Context, *ec2.DescribeRouteTablesInput, ...func(*ec2.Options)) (*ec2.DescribeRouteTablesOutput, error)
	DescribeNetworkAcls(context.Context, *ec2.DescribeNetworkAclsInput, ...func(*ec2.Options)) (*ec2.DescribeNetworkAclsOutput, error)
	DescribeSecurityGroups(context.Context, *ec2.DescribeSecurityGroupsInput, ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
	DescribeNetworkInterfaces(context.Context, *ec2.DescribeNetworkInterfacesInput, ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error)
	DescribeNatGateways(context.Context, *ec2.DescribeNatGatewaysInput, ...func(*ec2.Options)) (*ec2.DescribeNatGatewaysOutput, error)
	DescribeInternetGateways(context.Context, *ec2.DescribeInternetGatewaysInput, ...func(*ec2.Options)) (*ec2.DescribeInternetGatewaysOutput, error)
	DescribeEgressOnlyInternetGateways(context.Context, *ec2.DescribeEgressOnlyInternetGatewaysInput, ...func(*ec2.Options)) (*ec2.DescribeEgressOnlyInternetGatewaysOutput, error)
	DescribeVpcEndpoints(context.Context, *ec2.DescribeVpcEndpointsInput, ...func(*ec2.Options)) (*ec2.DescribeVpcEndpointsOutput, error)
	DescribePrefixLists(context.Context, *ec2.DescribePrefixListsInput, ...func(*ec2.Options)) (*ec2.DescribePrefixListsOutput, error)
	DescribeManagedPrefixLists(context.Context, *ec2.DescribeManagedPrefixListsInput, ...func(*ec2.Options)) (*ec2.DescribeManagedPrefixListsOutput, error)
	GetManagedPrefixListEntries(context.Context, *ec2.GetManagedPrefixListEntriesInput, ...func(*ec2.Options)) (*ec2.GetManagedPrefixListEntriesOutput, error)
}

// Gather makes every Describe call FromEC2 needs, following NextToken, and
// returns the outputs. Filters narrow nothing: the model needs the whole
// region's view (a security group may reference a group of another subnet,
// a route a gateway of the VPC).
func Gather(ctx context.Context, api EC2API) (EC2State, error) {
	var s EC2State
	err := pages("DescribeVpcs", func(tok *string) (*string, error) {
		o, err := api.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{NextToken: tok})
		if err == nil {
			s.VPCs = append(s.VPCs, o.Vpcs...)
			return o.NextToken, nil
		}
		return nil, err
	})
	steps := []struct {
		name string
		page func(*string) (*string, error)
	}{
		{"DescribeSubnets", func(tok *string) (*string, error) {
			o, err := api.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{NextToken: tok})
			return next(o, err, func() { s.Subnets = append(s.Subnets, o.Subnets...) }, func() *string { return o.NextToken })
		}},
		{"DescribeRouteTables", func(tok *string) (*string, error) {
			o, err := api.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{NextToken: tok})
			return next(o, err, func() { s.RouteTables = append(s.RouteTables, o.RouteTables...) }, func() *string { return o.NextToken })
		}},
		{"DescribeNetworkAcls", func(tok *string) (*string, error) {
			o, err := api.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{NextToken: tok})
			return next(o, err, func() { s.NetworkACLs = append(s.NetworkACLs, o.NetworkAcls...) }, func() *string { return o.NextToken })
		}},
		{"DescribeSecurityGroups", func(tok *string) (*string, error) {
			o, err := api.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{NextToken: tok})
			return next(o, err, func() { s.SecurityGroups = append(s.SecurityGroups, o.SecurityGroups...) }, func() *string { return o.NextToken })
		}},
		{"DescribeNetworkInterfaces", func(tok *string) (*string, error) {
			o, err := api.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NextToken: tok})
			return next(o, err, func() { s.NetworkInterfaces = append(s.NetworkInterfaces, o.NetworkInterfaces...) }, func() *string { return o.NextToken })
		}},
		{"DescribeNatGateways", func(tok *string) (*string, error) {
			o, err := api.DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{NextToken: tok})
			return next(o, err, func() { s.NATGateways = append(s.NATGateways, o.NatGateways...) }, func() *string { return o.NextToken })
		}},
		{"DescribeInternetGateways", func(tok *string) (*string, error) {
			o, err := api.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{NextToken: tok})
			return next(o, err, func() { s.InternetGateways = append(s.InternetGateways, o.InternetGateways...) }, func() *string { return o.NextToken })
		}},
		{"DescribeEgressOnlyInternetGateways", func(tok *string) (*string, error) {
			o, err := api.DescribeEgressOnlyInternetGateways(ctx, &ec2.DescribeEgressOnlyInternetGatewaysInput{NextToken: tok})
			return next(o, err, func() { s.EgressOnlyGateways = append(s.EgressOnlyGateways, o.EgressOnlyInternetGateways...) }, func() *string { return o.NextToken })
		}},
		{"DescribeVpcEndpoints", func(tok *string) (*string, error) {
			o, err := api.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{NextToken: tok})
			return next(o, err, func() { s.VPCEndpoints = append(s.VPCEndpoints, o.VpcEndpoints...) }, func() *string { return o.NextToken })
		}},
		{"DescribePrefixLists", func(tok *string) (*string, error) {
			o, err := api.DescribePrefixLists(ctx, &ec2.DescribePrefixListsInput{NextToken: tok})
			return next(o, err, func() { s.PrefixLists = append(s.PrefixLists, o.PrefixLists...) }, func() *string { return o.NextToken })
		}},
		{"DescribeManagedPrefixLists", func(tok *string) (*string, error) {
			o, err := api.DescribeManagedPrefixLists(ctx, &ec2.DescribeManagedPrefixListsInput{NextToken: tok})
			return next(o, err, func() { s.ManagedPrefixLists = append(s.ManagedPrefixLists, o.PrefixLists...) }, func() *string { return o.NextToken })
		}},
	}
	for _, st := range steps {
		if err != nil {
			return s, err
		}
		err = pages(st.name, st.page)
	}
	if err != nil {
		return s, err
	}
	s.ManagedPrefixListEntries = map[string][]types.PrefixListEntry{}
	for _, pl := range s.ManagedPrefixLists {
		id := aws.ToString(pl.PrefixListId)
		err := pages("GetManagedPrefixListEntries "+id, func(tok *string) (*string, error) {
			o, err := api.GetManagedPrefixListEntries(ctx, &ec2.GetManagedPrefixListEntriesInput{PrefixListId: pl.PrefixListId, NextToken: tok})
			return next(o, err, func() { s.ManagedPrefixListEntries[id] = append(s.ManagedPrefixListEntries[id], o.Entries...) }, func() *string { return o.NextToken })
		})
		if err != nil {
			return s, err
		}
	}
	return s, nil
}

// pages calls page until it returns no token; a repeated token is an error
// rather than an endless loop.
func pages(name string, page func(*string) (*string, error)) error {
	var tok *string
	seen := map[string]bool{}
	for {
		nt, err := page(tok)
		if err != nil {
			return fmt.Errorf("flowmodel: %s: %w", name, err)
		}
		if aws.ToString(nt) == "" {
			return nil
		}
		if seen[*nt] {
			return fmt.Errorf("flowmodel: %s: NextToken %q repeated", name, *nt)
		}
		seen[*nt] = true
		tok = nt
	}
}

func next[T any](o *T, err error, keep func(), tok func() *string) (*string, error) {
	if err != nil {
		return nil, err
	}
	keep()
	return tok(), nil
}
