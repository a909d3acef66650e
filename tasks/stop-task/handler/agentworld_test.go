package handler_test

import (
	"context"
	"fmt"
	"net/netip"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/internal/flowmodel"
	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/strict"
	"github.com/irflow/irflow/internal/stricttest"
)

// agentWorld is a container instance in a public subnet (a public IP, the
// default route to an internet gateway, no ECS endpoints) running one
// bridge task, seeded through the strict layer, with the instance's ECS
// agent registered: its connection to ECS's public endpoint is what the
// layer's flow model judges before delivering a stop.
func agentWorld(t *testing.T) (*mototest.World, *stricttest.Layer) {
	t.Helper()
	l := stricttest.Start(t)
	ctx := context.Background()
	w, err := mototest.SeedStores(ctx, l.Cfg)
	if err != nil {
		t.Fatal(err)
	}
	w.Env.IncidentsTable = stricttest.IncidentsTable(t, w.Cfg)
	c, e := ec2.NewFromConfig(w.Cfg), ecs.NewFromConfig(w.Cfg)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.40.0.0/16")})
	must(err)
	w.VpcID = aws.ToString(vpc.Vpc.VpcId)
	sub, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.40.0.0/24"), AvailabilityZone: aws.String("us-east-1a")})
	must(err)
	w.SubnetID = aws.ToString(sub.Subnet.SubnetId)
	igw, err := c.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	must(err)
	_, err = c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: vpc.Vpc.VpcId})
	must(err)
	rt, err := c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: vpc.Vpc.VpcId})
	must(err)
	_, err = c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: rt.RouteTable.RouteTableId, DestinationCidrBlock: aws.String("0.0.0.0/0"),
		GatewayId: igw.InternetGateway.InternetGatewayId})
	must(err)
	_, err = c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: rt.RouteTable.RouteTableId, SubnetId: sub.Subnet.SubnetId})
	must(err)
	sg, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(mototest.Unique("agent")), Description: aws.String("agent"), VpcId: vpc.Vpc.VpcId})
	must(err)
	w.AppSG = aws.ToString(sg.GroupId)
	inst, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"), InstanceType: ec2types.InstanceTypeM6iLarge,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), NetworkInterfaces: []ec2types.InstanceNetworkInterfaceSpecification{{
			DeviceIndex: aws.Int32(0), SubnetId: sub.Subnet.SubnetId, Groups: []string{w.AppSG}, AssociatePublicIpAddress: aws.Bool(true)}}})
	must(err)
	w.InstanceID = aws.ToString(inst.Instances[0].InstanceId)
	w.InstanceENI = aws.ToString(inst.Instances[0].NetworkInterfaces[0].NetworkInterfaceId)
	w.ClusterName = mototest.Unique("agents")
	cl, err := e.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(w.ClusterName)})
	must(err)
	w.ClusterArn = aws.ToString(cl.Cluster.ClusterArn)
	doc := fmt.Sprintf(`{"instanceId":"%s","region":"us-east-1","accountId":"%s","availabilityZone":"us-east-1a"}`, w.InstanceID, w.Account)
	ci, err := e.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{Cluster: aws.String(w.ClusterName), InstanceIdentityDocument: aws.String(doc)})
	must(err)
	w.ContainerInstanceArn = aws.ToString(ci.ContainerInstance.ContainerInstanceArn)
	td, err := e.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(mototest.Unique("worker")),
		NetworkMode: ecstypes.NetworkModeBridge, ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("worker"),
			Image: aws.String("worker:1"), Memory: aws.Int32(256)}}})
	must(err)
	w.EC2Def = aws.ToString(td.TaskDefinition.TaskDefinitionArn)
	run, err := e.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String(w.ClusterName), TaskDefinition: td.TaskDefinition.TaskDefinitionArn, LaunchType: ecstypes.LaunchTypeEc2})
	must(err)
	if len(run.Tasks) != 1 {
		t.Fatalf("RunTask: %+v", run.Failures)
	}
	w.EC2TaskArn = aws.ToString(run.Tasks[0].TaskArn)
	agent := flowmodel.Flow{Name: "ecs-agent", Src: flowmodel.Endpoint{ENI: w.InstanceENI}, Dst: flowmodel.Endpoint{IP: netip.MustParseAddr("52.94.0.10")},
		Protocol: "tcp", DstPort: 443}
	reconnect := agent
	reconnect.Name = "ecs-agent-reconnect"
	if err := l.Control.RegisterWorld(ctx, strict.World{Agents: []strict.AgentFlows{{InstanceID: w.InstanceID,
		Established: []flowmodel.Flow{agent}, NewConnection: &reconnect}}}); err != nil {
		t.Fatal(err)
	}
	return w, l
}
