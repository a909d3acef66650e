package mototest

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Net builds a VPC of a test's own in moto through its EC2 client (moto's,
// or the strict layer's in front of it), failing the test on any error:
// the worlds the strict layer's and stop-task's moto tests seed beside the
// shared one (Seed). Subnets go in the client region's first zone.
type Net struct {
	t   testing.TB
	ctx context.Context
	c   *ec2.Client
	VPC string
}

// NewNet creates a VPC of cidr.
func NewNet(t testing.TB, c *ec2.Client, cidr string) *Net {
	t.Helper()
	n := &Net{t: t, ctx: context.Background(), c: c}
	vpc, err := c.CreateVpc(n.ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(cidr)})
	n.must(err)
	n.VPC = aws.ToString(vpc.Vpc.VpcId)
	return n
}

func (n *Net) must(err error) {
	n.t.Helper()
	if err != nil {
		n.t.Fatal(err)
	}
}

// DNSHostnames turns the VPC's DNS hostnames on (moto's RunTask of an
// awsvpc task wants them: the task's ENI gets a private DNS name).
func (n *Net) DNSHostnames() {
	n.t.Helper()
	_, err := n.c.ModifyVpcAttribute(n.ctx, &ec2.ModifyVpcAttributeInput{VpcId: aws.String(n.VPC), EnableDnsHostnames: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}})
	n.must(err)
}

// Subnet creates a subnet of cidr and returns its ID.
func (n *Net) Subnet(cidr string) string {
	n.t.Helper()
	s, err := n.c.CreateSubnet(n.ctx, &ec2.CreateSubnetInput{VpcId: aws.String(n.VPC), CidrBlock: aws.String(cidr), AvailabilityZone: aws.String(n.c.Options().Region + "a")})
	n.must(err)
	return aws.ToString(s.Subnet.SubnetId)
}

// InternetGateway creates an internet gateway attached to the VPC and
// returns its ID.
func (n *Net) InternetGateway() string {
	n.t.Helper()
	igw, err := n.c.CreateInternetGateway(n.ctx, &ec2.CreateInternetGatewayInput{})
	n.must(err)
	_, err = n.c.AttachInternetGateway(n.ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: aws.String(n.VPC)})
	n.must(err)
	return aws.ToString(igw.InternetGateway.InternetGatewayId)
}

// NATGateway creates a NAT gateway with an Elastic IP in subnet.
func (n *Net) NATGateway(subnet string) *ec2types.NatGateway {
	n.t.Helper()
	eip, err := n.c.AllocateAddress(n.ctx, &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc})
	n.must(err)
	nat, err := n.c.CreateNatGateway(n.ctx, &ec2.CreateNatGatewayInput{SubnetId: aws.String(subnet), AllocationId: eip.AllocationId})
	n.must(err)
	return nat.NatGateway
}

// DefaultRoute creates a route table whose 0.0.0.0/0 goes where target
// says (its GatewayId, NatGatewayId, …) and associates it with subnets.
func (n *Net) DefaultRoute(target *ec2.CreateRouteInput, subnets ...string) {
	n.t.Helper()
	rt, err := n.c.CreateRouteTable(n.ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(n.VPC)})
	n.must(err)
	target.RouteTableId, target.DestinationCidrBlock = rt.RouteTable.RouteTableId, aws.String("0.0.0.0/0")
	_, err = n.c.CreateRoute(n.ctx, target)
	n.must(err)
	for _, s := range subnets {
		_, err = n.c.AssociateRouteTable(n.ctx, &ec2.AssociateRouteTableInput{RouteTableId: rt.RouteTable.RouteTableId, SubnetId: aws.String(s)})
		n.must(err)
	}
}

// Group creates a security group (a unique name from name) admitting
// ingress, and returns its ID.
func (n *Net) Group(name string, ingress ...ec2types.IpPermission) string {
	n.t.Helper()
	sg, err := n.c.CreateSecurityGroup(n.ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(Unique(name)), Description: aws.String(name), VpcId: aws.String(n.VPC)})
	n.must(err)
	if len(ingress) > 0 {
		_, err = n.c.AuthorizeSecurityGroupIngress(n.ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId, IpPermissions: ingress})
		n.must(err)
	}
	return aws.ToString(sg.GroupId)
}

// BridgeHost is an EC2 container instance running one bridge task.
type BridgeHost struct {
	Instance, ENI                              string
	ClusterName, ClusterArn, ContainerInstance string
	TaskDefinition, Task                       string
}

// BridgeHost launches an instance in subnet behind group (with a public
// IPv4 when public), registers it as a container instance of account in a
// new cluster, and runs one bridge task there, through e.
func (n *Net) BridgeHost(e *ecs.Client, subnet, group string, public bool, account string) *BridgeHost {
	n.t.Helper()
	h := &BridgeHost{}
	inst, err := n.c.RunInstances(n.ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"), InstanceType: ec2types.InstanceTypeM6iLarge,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), NetworkInterfaces: []ec2types.InstanceNetworkInterfaceSpecification{{
			DeviceIndex: aws.Int32(0), SubnetId: aws.String(subnet), Groups: []string{group}, AssociatePublicIpAddress: aws.Bool(public)}}})
	n.must(err)
	h.Instance = aws.ToString(inst.Instances[0].InstanceId)
	h.ENI = aws.ToString(inst.Instances[0].NetworkInterfaces[0].NetworkInterfaceId)
	h.ClusterName = Unique("agents")
	cl, err := e.CreateCluster(n.ctx, &ecs.CreateClusterInput{ClusterName: aws.String(h.ClusterName)})
	n.must(err)
	h.ClusterArn = aws.ToString(cl.Cluster.ClusterArn)
	region := n.c.Options().Region
	doc := fmt.Sprintf(`{"instanceId":"%s","region":"%s","accountId":"%s","availabilityZone":"%sa"}`, h.Instance, region, account, region)
	ci, err := e.RegisterContainerInstance(n.ctx, &ecs.RegisterContainerInstanceInput{Cluster: aws.String(h.ClusterName), InstanceIdentityDocument: aws.String(doc)})
	n.must(err)
	h.ContainerInstance = aws.ToString(ci.ContainerInstance.ContainerInstanceArn)
	td, err := e.RegisterTaskDefinition(n.ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(Unique("worker")),
		NetworkMode: ecstypes.NetworkModeBridge, ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("worker"),
			Image: aws.String("worker:1"), Memory: aws.Int32(256)}}})
	n.must(err)
	h.TaskDefinition = aws.ToString(td.TaskDefinition.TaskDefinitionArn)
	run, err := e.RunTask(n.ctx, &ecs.RunTaskInput{Cluster: aws.String(h.ClusterName), TaskDefinition: td.TaskDefinition.TaskDefinitionArn, LaunchType: ecstypes.LaunchTypeEc2})
	n.must(err)
	if len(run.Tasks) != 1 {
		n.t.Fatalf("RunTask: %+v", run.Failures)
	}
	h.Task = aws.ToString(run.Tasks[0].TaskArn)
	return h
}
