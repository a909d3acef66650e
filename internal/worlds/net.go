package worlds

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// builder seeds one world step by step; every method records what it made
// in w.
type builder struct {
	w   *World
	ec2 *ec2.Client
	// direct reaches moto past the strict layer.
	direct aws.Config
	// name prefixes every named resource, unique per process and world.
	name string
}

var seq atomic.Int64

func newBuilder(cfg aws.Config, world string) *builder {
	name := fmt.Sprintf("%s-%d-%d", world, os.Getpid()%100000, seq.Add(1))
	return &builder{
		w: &World{Name: world, Cfg: cfg, Region: cfg.Region, Subnets: map[string]string{}, Groups: map[string]string{},
			NACLs: map[string]string{}, Endpoints: map[string]string{}},
		ec2:  ec2.NewFromConfig(cfg),
		name: name,
	}
}

func tags(kind ec2types.ResourceType, name string) []ec2types.TagSpecification {
	return []ec2types.TagSpecification{{ResourceType: kind, Tags: []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String(name)}}}}
}

// vpc creates the world's VPC with DNS hostnames on (moto's RunTask of an
// awsvpc task needs them for the ENI's private DNS name, as AWS does).
func (b *builder) vpc(ctx context.Context, cidr string) error {
	out, err := b.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(cidr), TagSpecifications: tags(ec2types.ResourceTypeVpc, b.name)})
	if err != nil {
		return fmt.Errorf("vpc: %w", err)
	}
	b.w.VpcID = aws.ToString(out.Vpc.VpcId)
	_, err = b.ec2.ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: out.Vpc.VpcId,
		EnableDnsHostnames: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}})
	return err
}

// subnet creates a subnet of the VPC under a role name.
func (b *builder) subnet(ctx context.Context, role, cidr string) error {
	out, err := b.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(b.w.VpcID), CidrBlock: aws.String(cidr),
		AvailabilityZone: aws.String(b.w.Region + "a"), TagSpecifications: tags(ec2types.ResourceTypeSubnet, b.name+"-"+role)})
	if err != nil {
		return fmt.Errorf("subnet %s: %w", role, err)
	}
	b.w.Subnets[role] = aws.ToString(out.Subnet.SubnetId)
	return nil
}

// internet gives the VPC an internet gateway and a NAT gateway in the
// public subnet, then a public route table (0.0.0.0/0 to the internet
// gateway) for the public roles and a private one (0.0.0.0/0 to the NAT
// gateway) for the private roles.
func (b *builder) internet(ctx context.Context, public, private []string) error {
	igw, err := b.ec2.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	if err != nil {
		return fmt.Errorf("internet gateway: %w", err)
	}
	igwID := igw.InternetGateway.InternetGatewayId
	if _, err := b.ec2.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: igwID, VpcId: aws.String(b.w.VpcID)}); err != nil {
		return fmt.Errorf("attach internet gateway: %w", err)
	}
	if err := b.routes(ctx, "public", public, &ec2.CreateRouteInput{GatewayId: igwID}); err != nil {
		return err
	}
	if len(private) == 0 {
		return nil
	}
	eip, err := b.ec2.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc})
	if err != nil {
		return fmt.Errorf("elastic ip: %w", err)
	}
	nat, err := b.ec2.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: aws.String(b.w.Subnets["public"]), AllocationId: eip.AllocationId})
	if err != nil {
		return fmt.Errorf("nat gateway: %w", err)
	}
	b.w.NATGateway = aws.ToString(nat.NatGateway.NatGatewayId)
	return b.routes(ctx, "private", private, &ec2.CreateRouteInput{NatGatewayId: nat.NatGateway.NatGatewayId})
}

// routes creates a route table whose default route is target and
// associates it with the subnets of the roles.
func (b *builder) routes(ctx context.Context, name string, roles []string, target *ec2.CreateRouteInput) error {
	rt, err := b.ec2.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(b.w.VpcID),
		TagSpecifications: tags(ec2types.ResourceTypeRouteTable, b.name+"-"+name)})
	if err != nil {
		return fmt.Errorf("route table %s: %w", name, err)
	}
	target.RouteTableId = rt.RouteTable.RouteTableId
	target.DestinationCidrBlock = aws.String("0.0.0.0/0")
	if _, err := b.ec2.CreateRoute(ctx, target); err != nil {
		return fmt.Errorf("default route of %s: %w", name, err)
	}
	for _, role := range roles {
		if _, err := b.ec2.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: rt.RouteTable.RouteTableId,
			SubnetId: aws.String(b.w.Subnets[role])}); err != nil {
			return fmt.Errorf("route table %s for %s: %w", name, role, err)
		}
	}
	return nil
}

// nacl creates a network ACL that allows everything in both directions at
// rule allowAt (IPv4), and associates it with the subnets of the roles.
func (b *builder) nacl(ctx context.Context, name string, allowAt int32, roles ...string) error {
	acl, err := b.ec2.CreateNetworkAcl(ctx, &ec2.CreateNetworkAclInput{VpcId: aws.String(b.w.VpcID),
		TagSpecifications: tags(ec2types.ResourceTypeNetworkAcl, b.name+"-"+name)})
	if err != nil {
		return fmt.Errorf("network acl %s: %w", name, err)
	}
	id := acl.NetworkAcl.NetworkAclId
	b.w.NACLs[name] = aws.ToString(id)
	for _, egress := range []bool{false, true} {
		if _, err := b.ec2.CreateNetworkAclEntry(ctx, &ec2.CreateNetworkAclEntryInput{NetworkAclId: id, RuleNumber: aws.Int32(allowAt),
			Protocol: aws.String("-1"), RuleAction: ec2types.RuleActionAllow, Egress: aws.Bool(egress), CidrBlock: aws.String("0.0.0.0/0")}); err != nil {
			return fmt.Errorf("network acl %s entry: %w", name, err)
		}
	}
	return b.associate(ctx, aws.ToString(id), roles...)
}

// associate moves the subnets of the roles to the network ACL.
func (b *builder) associate(ctx context.Context, aclID string, roles ...string) error {
	for _, role := range roles {
		sub := b.w.Subnets[role]
		out, err := b.ec2.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []ec2types.Filter{
			{Name: aws.String("association.subnet-id"), Values: []string{sub}}}})
		if err != nil {
			return fmt.Errorf("network acl of %s: %w", role, err)
		}
		var assoc string
		for _, a := range out.NetworkAcls {
			for _, as := range a.Associations {
				if aws.ToString(as.SubnetId) == sub {
					assoc = aws.ToString(as.NetworkAclAssociationId)
				}
			}
		}
		if assoc == "" {
			return fmt.Errorf("subnet %s (%s) has no network ACL association", role, sub)
		}
		if _, err := b.ec2.ReplaceNetworkAclAssociation(ctx, &ec2.ReplaceNetworkAclAssociationInput{AssociationId: aws.String(assoc),
			NetworkAclId: aws.String(aclID)}); err != nil {
			return fmt.Errorf("associate %s with %s: %w", role, aclID, err)
		}
	}
	return nil
}

// Rule is one security-group ingress or egress permission.
type rule struct {
	proto    string
	from, to int32
	cidr     string // or
	group    string // a role of b.w.Groups
}

// group creates a security group under a role with the given ingress
// rules; egress stays AWS's default (all traffic to 0.0.0.0/0).
func (b *builder) group(ctx context.Context, role string, ingress ...rule) error {
	out, err := b.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(b.name + "-" + role),
		Description: aws.String(role), VpcId: aws.String(b.w.VpcID)})
	if err != nil {
		return fmt.Errorf("security group %s: %w", role, err)
	}
	id := aws.ToString(out.GroupId)
	b.w.Groups[role] = id
	var perms []ec2types.IpPermission
	for _, r := range ingress {
		p := ec2types.IpPermission{IpProtocol: aws.String(r.proto), FromPort: aws.Int32(r.from), ToPort: aws.Int32(r.to)}
		if r.group != "" {
			gid := b.w.Groups[r.group]
			if r.group == role {
				gid = id
			}
			p.UserIdGroupPairs = []ec2types.UserIdGroupPair{{GroupId: aws.String(gid)}}
		} else {
			p.IpRanges = []ec2types.IpRange{{CidrIp: aws.String(r.cidr)}}
		}
		perms = append(perms, p)
	}
	if len(perms) > 0 {
		if _, err := b.ec2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(id), IpPermissions: perms}); err != nil {
			return fmt.Errorf("security group %s ingress: %w", role, err)
		}
	}
	return nil
}

// interfaceEndpoints creates interface VPC endpoints for the services in
// the subnet of role, with the endpoints group, and an S3 gateway endpoint
// on the private route table's subnets.
func (b *builder) interfaceEndpoints(ctx context.Context, role string, services ...string) error {
	for _, svc := range services {
		out, err := b.ec2.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: aws.String(b.w.VpcID),
			ServiceName: aws.String(fmt.Sprintf("com.amazonaws.%s.%s", b.w.Region, svc)), VpcEndpointType: ec2types.VpcEndpointTypeInterface,
			SubnetIds: []string{b.w.Subnets[role]}, SecurityGroupIds: []string{b.w.Groups["endpoints"]}, PrivateDnsEnabled: aws.Bool(true)})
		if err != nil {
			return fmt.Errorf("%s endpoint: %w", svc, err)
		}
		b.w.Endpoints[svc] = aws.ToString(out.VpcEndpoint.VpcEndpointId)
	}
	return nil
}

// endpointENI is the (first) ENI of the world's interface endpoint for svc.
func (b *builder) endpointENI(ctx context.Context, svc string) (string, error) {
	out, err := b.ec2.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{VpcEndpointIds: []string{b.w.Endpoints[svc]}})
	if err != nil {
		return "", err
	}
	if len(out.VpcEndpoints) == 0 || len(out.VpcEndpoints[0].NetworkInterfaceIds) == 0 {
		return "", fmt.Errorf("the %s endpoint has no network interface", svc)
	}
	return out.VpcEndpoints[0].NetworkInterfaceIds[0], nil
}

// lbNode creates the ENI that stands in for a load balancer node in the lb
// subnet: AWS gives an Application Load Balancer's ENIs the description
// "ELB app/<name>/<id>", which is how they are recognised.
func (b *builder) lbNode(ctx context.Context) error {
	out, err := b.ec2.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(b.w.Subnets["lb"]),
		Groups: []string{b.w.Groups["lb"]}, Description: aws.String("ELB app/" + b.name + "-alb/50dc6c495c0c9188")})
	if err != nil {
		return fmt.Errorf("load balancer node: %w", err)
	}
	b.w.LBENI = aws.ToString(out.NetworkInterface.NetworkInterfaceId)
	return nil
}

// publicIP gives an ENI a public IPv4 address, as ECS does for a task run
// with assignPublicIp ENABLED (moto ignores that setting). The ENI is
// ECS's, which the account may not modify, so this goes to moto directly,
// past the strict layer: it is ECS's own act, not the responder's.
func (b *builder) publicIP(ctx context.Context, eni string) error {
	c := ec2.NewFromConfig(b.direct)
	eip, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc})
	if err != nil {
		return fmt.Errorf("public ip: %w", err)
	}
	if _, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: eip.AllocationId, NetworkInterfaceId: aws.String(eni)}); err != nil {
		return fmt.Errorf("public ip for %s: %w", eni, err)
	}
	return nil
}
