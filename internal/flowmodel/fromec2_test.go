package flowmodel

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// ec2State is a VPC as DescribeX would return it, with moto's gaps: no
// explicit route-table association for subnet-app (main table), the default
// ACL's 32767 entries listed, an "attached" IGW attachment state.
func ec2State() EC2State {
	s := aws.String
	i32 := aws.Int32
	entry := func(n int32, egress bool, action types.RuleAction, cidr string) types.NetworkAclEntry {
		return types.NetworkAclEntry{RuleNumber: i32(n), Egress: aws.Bool(egress), Protocol: s("-1"), RuleAction: action, CidrBlock: s(cidr)}
	}
	eni := func(id, subnet, addr, status string, groups ...string) types.NetworkInterface {
		e := types.NetworkInterface{NetworkInterfaceId: s(id), SubnetId: s(subnet), VpcId: s("vpc-1"), PrivateIpAddress: s(addr),
			PrivateIpAddresses: []types.NetworkInterfacePrivateIpAddress{{PrivateIpAddress: s(addr), Primary: aws.Bool(true)}},
			InterfaceType:      types.NetworkInterfaceTypeInterface, Status: types.NetworkInterfaceStatus(status)}
		for _, g := range groups {
			e.Groups = append(e.Groups, types.GroupIdentifier{GroupId: s(g)})
		}
		return e
	}
	nlb := eni("eni-nlb", "subnet-pub", "10.0.0.30", "in-use")
	nlb.InterfaceType, nlb.Description = types.NetworkInterfaceTypeNetworkLoadBalancer, s("ELB net/web/0123")
	alb := eni("eni-alb", "subnet-pub", "10.0.0.31", "in-use", "sg-task")
	alb.Description = s("ELB app/web/0123")
	pub := eni("eni-pub", "subnet-pub", "10.0.0.20", "in-use", "sg-task")
	pub.Association = &types.NetworkInterfaceAssociation{PublicIp: s("3.3.3.3")}
	return EC2State{
		VPCs: []types.Vpc{{VpcId: s("vpc-1"), CidrBlock: s("10.0.0.0/16"),
			CidrBlockAssociationSet: []types.VpcCidrBlockAssociation{{CidrBlock: s("10.0.0.0/16"), CidrBlockState: &types.VpcCidrBlockState{State: types.VpcCidrBlockStateCodeAssociated}}}}},
		Subnets: []types.Subnet{
			{SubnetId: s("subnet-pub"), VpcId: s("vpc-1"), CidrBlock: s("10.0.0.0/24")},
			{SubnetId: s("subnet-app"), VpcId: s("vpc-1"), CidrBlock: s("10.0.1.0/24")},
		},
		RouteTables: []types.RouteTable{
			{RouteTableId: s("rtb-main"), VpcId: s("vpc-1"), Associations: []types.RouteTableAssociation{{Main: aws.Bool(true)}},
				Routes: []types.Route{{DestinationCidrBlock: s("10.0.0.0/16"), GatewayId: s("local")}, {DestinationCidrBlock: s("0.0.0.0/0"), NatGatewayId: s("nat-1")},
					{DestinationPrefixListId: s("pl-s3"), GatewayId: s("vpce-s3")}}},
			{RouteTableId: s("rtb-pub"), VpcId: s("vpc-1"), Associations: []types.RouteTableAssociation{{SubnetId: s("subnet-pub")}},
				Routes: []types.Route{{DestinationCidrBlock: s("10.0.0.0/16"), GatewayId: s("local")}, {DestinationCidrBlock: s("0.0.0.0/0"), GatewayId: s("igw-1")}}},
		},
		NetworkACLs: []types.NetworkAcl{{NetworkAclId: s("acl-default"), VpcId: s("vpc-1"), IsDefault: aws.Bool(true),
			Associations: []types.NetworkAclAssociation{{NetworkAclAssociationId: s("aclassoc-1"), SubnetId: s("subnet-pub")}},
			Entries: []types.NetworkAclEntry{entry(100, false, types.RuleActionAllow, "0.0.0.0/0"), entry(100, true, types.RuleActionAllow, "0.0.0.0/0"),
				entry(32767, false, types.RuleActionDeny, "0.0.0.0/0"), entry(32767, true, types.RuleActionDeny, "0.0.0.0/0"),
				{RuleNumber: i32(90), Egress: aws.Bool(false), Protocol: s("6"), RuleAction: types.RuleActionDeny, CidrBlock: s("203.0.113.0/24"),
					PortRange: &types.PortRange{From: i32(443), To: i32(443)}}}}},
		SecurityGroups: []types.SecurityGroup{{GroupId: s("sg-task"), VpcId: s("vpc-1"), GroupName: s("task"),
			IpPermissions: []types.IpPermission{{IpProtocol: s("tcp"), FromPort: i32(8080), ToPort: i32(8080),
				UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: s("sg-task")}}}},
			IpPermissionsEgress: []types.IpPermission{{IpProtocol: s("tcp"), FromPort: i32(443), ToPort: i32(443),
				IpRanges: []types.IpRange{{CidrIp: s("0.0.0.0/0")}}, PrefixListIds: []types.PrefixListId{{PrefixListId: s("pl-s3")}}},
				{IpProtocol: s("tcp"), FromPort: i32(8080), ToPort: i32(8080), UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: s("sg-task")}}}}}},
		NetworkInterfaces: []types.NetworkInterface{eni("eni-task", "subnet-app", "10.0.1.5", "in-use", "sg-task"),
			eni("eni-gone", "subnet-app", "10.0.1.9", "available", "sg-task"), nlb, alb, pub},
		NATGateways: []types.NatGateway{{NatGatewayId: s("nat-1"), SubnetId: s("subnet-pub"), VpcId: s("vpc-1"), State: types.NatGatewayStateAvailable,
			NatGatewayAddresses: []types.NatGatewayAddress{{PrivateIp: s("10.0.0.10"), PublicIp: s("54.0.0.10"), NetworkInterfaceId: s("eni-nat")}}}},
		InternetGateways: []types.InternetGateway{{InternetGatewayId: s("igw-1"), Attachments: []types.InternetGatewayAttachment{{VpcId: s("vpc-1"), State: "attached"}}}},
		VPCEndpoints:     []types.VpcEndpoint{{VpcEndpointId: s("vpce-s3"), VpcId: s("vpc-1"), ServiceName: s("com.amazonaws.us-east-1.s3"), VpcEndpointType: types.VpcEndpointTypeGateway, RouteTableIds: []string{"rtb-main"}}},
		PrefixLists:      []types.PrefixList{{PrefixListId: s("pl-s3"), PrefixListName: s("com.amazonaws.us-east-1.s3"), Cidrs: []string{"52.216.0.0/15"}}},
	}
}

func TestFromEC2(t *testing.T) {
	n, err := FromEC2(ec2State())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		flow        Flow
		wantAllowed bool
		wantTracked bool
		wantReason  string
	}{
		{"main route table and default ACL for a subnet without explicit associations", toInternet("f", "eni-task", 443), true, true, "through nat-1 and igw-1; tracked (automatically: NAT gateway nat-1)"},
		{"an inbound deny of tcp 443 does not match responses: their destination port is the ephemeral one",
			Flow{Name: "f", Src: Endpoint{ENI: "eni-task"}, Dst: Endpoint{IP: ip("203.0.113.9")}, Protocol: "tcp", DstPort: 443}, true, true, "allowed"},
		{"gateway endpoint by prefix-list route, egress by prefix-list rule",
			Flow{Name: "f", Src: Endpoint{ENI: "eni-task"}, Dst: Endpoint{IP: ip("52.217.1.1")}, Protocol: "tcp", DstPort: 443}, true, true, "through vpce-s3"},
		{"an available (detached) ENI carries nothing",
			Flow{Name: "f", Src: Endpoint{ENI: "eni-gone"}, Dst: Endpoint{IP: internet}, Protocol: "tcp", DstPort: 443}, false, false, "endpoint eni-gone stopped/deleted"},
		{"an NLB (type network_load_balancer) has no groups, so a group-reference rule does not admit it",
			Flow{Name: "f", Src: Endpoint{ENI: "eni-nlb"}, Dst: Endpoint{ENI: "eni-task"}, Protocol: "tcp", DstPort: 8080}, false, false, "no ingress rule of eni-task's security groups [sg-task] allows tcp/8080 from 10.0.0.30"},
		{"ELB app/ description makes an ALB, a group member",
			Flow{Name: "f", Src: Endpoint{ENI: "eni-alb"}, Dst: Endpoint{ENI: "eni-task"}, Protocol: "tcp", DstPort: 8080}, true, true, "allowed: 10.0.0.31 to 10.0.1.5 tcp/8080; tracked"},
		{"public IP from the association",
			toInternet("f", "eni-pub", 443), true, true, "through igw-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := evalOK(t, n, tt.flow)
			if v.Allowed != tt.wantAllowed || v.Tracked != tt.wantTracked || !strings.Contains(v.Reason, tt.wantReason) {
				t.Errorf("got allowed=%v tracked=%v reason %q; want allowed=%v tracked=%v reason containing %q", v.Allowed, v.Tracked, v.Reason, tt.wantAllowed, tt.wantTracked, tt.wantReason)
			}
		})
	}
	if got, want := n.ENIs["eni-nlb"].Kind, KindNLB; got != want {
		t.Errorf("eni-nlb kind: got %v; want %v", got, want)
	}
	if got, want := n.Subnets["subnet-app"].NACL+"|"+n.subnetACL(n.Subnets["subnet-app"]), "|acl-default"; got != want {
		t.Errorf("subnet-app ACL: got %v; want %v", got, want)
	}
}

// TestENIKindAsAWSAnswers: interface types as DescribeNetworkInterfaces
// answers them, including "nat_gateway" (the API model's enum says
// "natGateway"), and load balancers by description.
func TestENIKindAsAWSAnswers(t *testing.T) {
	tests := []struct {
		typ  types.NetworkInterfaceType
		desc string
		want ENIKind
	}{
		{"nat_gateway", "Interface for NAT Gateway nat-0a8b0e0d28266841f", KindNATGateway},
		{types.NetworkInterfaceTypeNatGateway, "", KindNATGateway},
		{types.NetworkInterfaceTypeVpcEndpoint, "VPC Endpoint Interface vpce-089f2123488812123", KindInterfaceEndpoint},
		{types.NetworkInterfaceTypeInterface, "ELB app/web/50dc6c495c0c9188", KindALB},
		{types.NetworkInterfaceTypeNetworkLoadBalancer, "ELB net/edge/1a2b3c4d5e6f7890", KindNLB},
		{types.NetworkInterfaceTypeInterface, "arn:aws:ecs:us-east-1:123456789012:attachment/0f", KindInterface},
	}
	for _, tt := range tests {
		if got := eniKind(types.NetworkInterface{InterfaceType: tt.typ, Description: aws.String(tt.desc)}); got != tt.want {
			t.Errorf("%s %q: %v; want %v", tt.typ, tt.desc, got, tt.want)
		}
	}
}

// fakeEC2 answers each Describe with a function field; nil fields answer
// empty. Pages of DescribeSecurityGroups come two at a time to exercise
// NextToken.
type fakeEC2 struct {
	EC2API
	state EC2State
	fail  string
}

func (f fakeEC2) err(op string) error {
	if f.fail == op {
		return errors.New("boom")
	}
	return nil
}

func (f fakeEC2) DescribeVpcs(context.Context, *ec2.DescribeVpcsInput, ...func(*ec2.Options)) (*ec2.DescribeVpcsOutput, error) {
	return &ec2.DescribeVpcsOutput{Vpcs: f.state.VPCs}, f.err("DescribeVpcs")
}
func (f fakeEC2) DescribeSubnets(context.Context, *ec2.DescribeSubnetsInput, ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error) {
	return &ec2.DescribeSubnetsOutput{Subnets: f.state.Subnets}, f.err("DescribeSubnets")
}
func (f fakeEC2) DescribeRouteTables(context.Context, *ec2.DescribeRouteTablesInput, ...func(*ec2.Options)) (*ec2.DescribeRouteTablesOutput, error) {
	return &ec2.DescribeRouteTablesOutput{RouteTables: f.state.RouteTables}, nil
}
func (f fakeEC2) DescribeNetworkAcls(context.Context, *ec2.DescribeNetworkAclsInput, ...func(*ec2.Options)) (*ec2.DescribeNetworkAclsOutput, error) {
	return &ec2.DescribeNetworkAclsOutput{NetworkAcls: f.state.NetworkACLs}, nil
}
func (f fakeEC2) DescribeSecurityGroups(_ context.Context, in *ec2.DescribeSecurityGroupsInput, _ ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error) {
	if aws.ToString(in.NextToken) == "" {
		return &ec2.DescribeSecurityGroupsOutput{NextToken: aws.String("page2")}, nil
	}
	return &ec2.DescribeSecurityGroupsOutput{SecurityGroups: f.state.SecurityGroups}, nil
}
func (f fakeEC2) DescribeNetworkInterfaces(context.Context, *ec2.DescribeNetworkInterfacesInput, ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error) {
	return &ec2.DescribeNetworkInterfacesOutput{NetworkInterfaces: f.state.NetworkInterfaces}, nil
}
func (f fakeEC2) DescribeNatGateways(context.Context, *ec2.DescribeNatGatewaysInput, ...func(*ec2.Options)) (*ec2.DescribeNatGatewaysOutput, error) {
	return &ec2.DescribeNatGatewaysOutput{NatGateways: f.state.NATGateways}, nil
}
func (f fakeEC2) DescribeInternetGateways(context.Context, *ec2.DescribeInternetGatewaysInput, ...func(*ec2.Options)) (*ec2.DescribeInternetGatewaysOutput, error) {
	return &ec2.DescribeInternetGatewaysOutput{InternetGateways: f.state.InternetGateways}, nil
}
func (f fakeEC2) DescribeEgressOnlyInternetGateways(context.Context, *ec2.DescribeEgressOnlyInternetGatewaysInput, ...func(*ec2.Options)) (*ec2.DescribeEgressOnlyInternetGatewaysOutput, error) {
	return &ec2.DescribeEgressOnlyInternetGatewaysOutput{}, nil
}
func (f fakeEC2) DescribeVpcEndpoints(context.Context, *ec2.DescribeVpcEndpointsInput, ...func(*ec2.Options)) (*ec2.DescribeVpcEndpointsOutput, error) {
	return &ec2.DescribeVpcEndpointsOutput{VpcEndpoints: f.state.VPCEndpoints}, nil
}
func (f fakeEC2) DescribePrefixLists(context.Context, *ec2.DescribePrefixListsInput, ...func(*ec2.Options)) (*ec2.DescribePrefixListsOutput, error) {
	return &ec2.DescribePrefixListsOutput{PrefixLists: f.state.PrefixLists}, nil
}
func (f fakeEC2) DescribeManagedPrefixLists(context.Context, *ec2.DescribeManagedPrefixListsInput, ...func(*ec2.Options)) (*ec2.DescribeManagedPrefixListsOutput, error) {
	return &ec2.DescribeManagedPrefixListsOutput{PrefixLists: []types.ManagedPrefixList{{PrefixListId: aws.String("pl-corp"), PrefixListName: aws.String("corp")}}}, nil
}
func (f fakeEC2) GetManagedPrefixListEntries(_ context.Context, in *ec2.GetManagedPrefixListEntriesInput, _ ...func(*ec2.Options)) (*ec2.GetManagedPrefixListEntriesOutput, error) {
	return &ec2.GetManagedPrefixListEntriesOutput{Entries: []types.PrefixListEntry{{Cidr: aws.String("192.0.2.0/24")}}}, nil
}

func TestGather(t *testing.T) {
	tests := []struct {
		name    string
		fail    string
		wantErr string
	}{
		{"all pages gathered", "", ""},
		{"first call fails", "DescribeVpcs", "DescribeVpcs: boom"},
		{"later call fails", "DescribeSubnets", "DescribeSubnets: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Gather(context.Background(), fakeEC2{state: ec2State(), fail: tt.fail})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("got %v; want error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, want := len(s.SecurityGroups), 1; got != want {
				t.Errorf("security groups across pages: got %v; want %v", got, want)
			}
			n, err := FromEC2(s)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := len(n.PrefixLists["pl-corp"].CIDRs), 1; got != want {
				t.Errorf("managed prefix list entries: got %v; want %v", got, want)
			}
		})
	}
}
