package strict

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/internal/flowmodel"
	"github.com/irflow/irflow/internal/mototest"
)

// TestMotoAgentQuarantine: the flow model decides the agent's fate. Through
// an internet gateway, the untracked swap (all-traffic group, then a
// deny-all group) cuts the agent off: StopTask is accepted, the task stays
// RUNNING in moto and in what the layer shows, the container instance is
// disconnected, and the stop lands once the instance's group is restored.
// Through a NAT gateway the agent's connection is tracked whatever the
// groups say, so the same quarantine does not cut it and the stop lands at
// once.
func TestMotoAgentQuarantine(t *testing.T) {
	tests := []struct {
		name       string
		viaNAT     bool
		wantCutOff bool
	}{
		{"internet gateway", false, true},
		{"NAT gateway", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := seedAgentWorld(t, tt.viaNAT)
			l, url := serve(t, mototest.Endpoint(t), Config{})
			if err := NewClient(url).RegisterWorld(ctx, World{Agents: w.agents()}); err != nil {
				t.Fatal(err)
			}
			ok, why, err := l.cfg.Agents.Reachable(ctx, w.Instance)
			if err != nil || !ok {
				t.Fatalf("before the quarantine the agent is cut off: %v %s", err, why)
			}
			strictEC2, strictECS := ec2.NewFromConfig(sdk(url)), ecs.NewFromConfig(sdk(url))
			directECS := ecs.NewFromConfig(mototest.Config(t))
			for _, sg := range []string{w.OpenSG, w.DenySG} {
				if _, err := strictEC2.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{
					NetworkInterfaceId: aws.String(w.ENI), Groups: []string{sg}}); err != nil {
					t.Fatal(err)
				}
			}
			_, why, _ = l.cfg.Agents.Reachable(ctx, w.Instance)
			t.Logf("after the swap: %s", why)
			stop, err := strictECS.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String(w.Cluster), Task: aws.String(w.Task), Reason: aws.String("contain")})
			if err != nil {
				t.Fatal(err)
			}
			inMoto := func() string {
				d, err := directECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(w.Cluster), Tasks: []string{w.Task}})
				if err != nil {
					t.Fatal(err)
				}
				return aws.ToString(d.Tasks[0].LastStatus)
			}
			if !tt.wantCutOff {
				if aws.ToString(stop.Task.LastStatus) != "STOPPED" || inMoto() != "STOPPED" {
					t.Errorf("agent behind NAT: StopTask answered %s, moto says %s; want STOPPED", aws.ToString(stop.Task.LastStatus), inMoto())
				}
				return
			}
			if aws.ToString(stop.Task.DesiredStatus) != "STOPPED" || aws.ToString(stop.Task.LastStatus) != "RUNNING" {
				t.Errorf("StopTask answered desired %s last %s; want STOPPED RUNNING", aws.ToString(stop.Task.DesiredStatus), aws.ToString(stop.Task.LastStatus))
			}
			d, err := strictECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(w.Cluster), Tasks: []string{w.Task}})
			if err != nil || aws.ToString(d.Tasks[0].DesiredStatus) != "STOPPED" || aws.ToString(d.Tasks[0].LastStatus) != "RUNNING" {
				t.Errorf("DescribeTasks through the layer: %+v %v; want desired STOPPED, last RUNNING", d, err)
			}
			if got := inMoto(); got != "RUNNING" {
				t.Errorf("moto says %s; the stop must not have reached it", got)
			}
			ci, err := strictECS.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String(w.Cluster), ContainerInstances: []string{w.ContainerInstance}})
			if err != nil || ci.ContainerInstances[0].AgentConnected {
				t.Errorf("agentConnected: %+v %v; want false", ci, err)
			}
			rs := l.refusals.list()
			if len(rs) != 1 || rs[0].Rule != ruleAgentUnreachable.id || !strings.Contains(rs[0].Message, w.Instance) {
				t.Errorf("recorded %+v", rs)
			}
			// Lift the quarantine: the agent reconnects, the stop lands.
			if _, err := strictEC2.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{
				NetworkInterfaceId: aws.String(w.ENI), Groups: []string{w.AgentSG}}); err != nil {
				t.Fatal(err)
			}
			if got := inMoto(); got != "STOPPED" {
				t.Errorf("after the agent reconnected moto says %s; want STOPPED", got)
			}
		})
	}
}

// ecsEndpoint stands for the regional ECS endpoint the agent talks to: an
// address outside every modeled VPC.
var ecsEndpoint = netip.MustParseAddr("52.94.0.10")

// agentWorld is a container instance in moto whose agent reaches ECS through
// an internet gateway (public subnet, public IP) or a NAT gateway (private
// subnet), running one EC2 task, with three security groups: the agent's
// (all egress, no ingress: its connection is tracked), an all-traffic group
// and a deny-all group for the untracked swap.
type agentWorld struct {
	Instance, ENI, Cluster, Task, ContainerInstance string
	AgentSG, OpenSG, DenySG                         string
}

func seedAgentWorld(t *testing.T, viaNAT bool) *agentWorld {
	t.Helper()
	cfg := mototest.Config(t)
	c, e := ec2.NewFromConfig(cfg), ecs.NewFromConfig(cfg)
	w := &agentWorld{}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.30.0.0/16")})
	must(err)
	vpcID := vpc.Vpc.VpcId
	pub, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpcID, CidrBlock: aws.String("10.30.0.0/24"), AvailabilityZone: aws.String("us-east-1a")})
	must(err)
	igw, err := c.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	must(err)
	_, err = c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: vpcID})
	must(err)
	pubRT, err := c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: vpcID})
	must(err)
	_, err = c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: pubRT.RouteTable.RouteTableId, DestinationCidrBlock: aws.String("0.0.0.0/0"),
		GatewayId: igw.InternetGateway.InternetGatewayId})
	must(err)
	_, err = c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: pubRT.RouteTable.RouteTableId, SubnetId: pub.Subnet.SubnetId})
	must(err)
	home := pub.Subnet.SubnetId
	if viaNAT {
		priv, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpcID, CidrBlock: aws.String("10.30.1.0/24"), AvailabilityZone: aws.String("us-east-1a")})
		must(err)
		eip, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc})
		must(err)
		nat, err := c.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: pub.Subnet.SubnetId, AllocationId: eip.AllocationId})
		must(err)
		privRT, err := c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: vpcID})
		must(err)
		_, err = c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: privRT.RouteTable.RouteTableId, DestinationCidrBlock: aws.String("0.0.0.0/0"),
			NatGatewayId: nat.NatGateway.NatGatewayId})
		must(err)
		_, err = c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: privRT.RouteTable.RouteTableId, SubnetId: priv.Subnet.SubnetId})
		must(err)
		home = priv.Subnet.SubnetId
	}
	group := func(name string) string {
		sg, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(mototest.Unique(name)), Description: aws.String(name), VpcId: vpcID})
		must(err)
		return aws.ToString(sg.GroupId)
	}
	all := []ec2types.IpPermission{{IpProtocol: aws.String("-1"), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}
	w.AgentSG, w.OpenSG, w.DenySG = group("agent"), group("all-traffic"), group("deny-all")
	_, err = c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(w.OpenSG), IpPermissions: all})
	must(err)
	_, err = c.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: aws.String(w.DenySG), IpPermissions: all})
	must(err)
	run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"), InstanceType: ec2types.InstanceTypeM6iLarge,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), NetworkInterfaces: []ec2types.InstanceNetworkInterfaceSpecification{{
			DeviceIndex: aws.Int32(0), SubnetId: home, Groups: []string{w.AgentSG}, AssociatePublicIpAddress: aws.Bool(!viaNAT)}}})
	must(err)
	w.Instance = aws.ToString(run.Instances[0].InstanceId)
	w.ENI = aws.ToString(run.Instances[0].NetworkInterfaces[0].NetworkInterfaceId)

	w.Cluster = mototest.Unique("agents")
	_, err = e.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(w.Cluster)})
	must(err)
	doc := fmt.Sprintf(`{"instanceId":"%s","region":"us-east-1","accountId":"123456789012","availabilityZone":"us-east-1a"}`, w.Instance)
	ci, err := e.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{Cluster: aws.String(w.Cluster), InstanceIdentityDocument: aws.String(doc)})
	must(err)
	w.ContainerInstance = aws.ToString(ci.ContainerInstance.ContainerInstanceArn)
	td, err := e.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(mototest.Unique("worker")),
		NetworkMode: ecstypes.NetworkModeBridge, ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("worker"),
			Image: aws.String("worker:1"), Memory: aws.Int32(256)}}})
	must(err)
	task, err := e.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String(w.Cluster), TaskDefinition: td.TaskDefinition.TaskDefinitionArn, LaunchType: ecstypes.LaunchTypeEc2})
	must(err)
	if len(task.Tasks) != 1 {
		t.Fatalf("RunTask: %+v", task.Failures)
	}
	w.Task = aws.ToString(task.Tasks[0].TaskArn)
	return w
}

// agents are the world's agent flows: the agent's connection to ECS and the
// one it would open to reconnect.
func (w *agentWorld) agents() []AgentFlows {
	f := flowmodel.Flow{Name: "ecs-agent", Src: flowmodel.Endpoint{ENI: w.ENI}, Dst: flowmodel.Endpoint{IP: ecsEndpoint}, Protocol: "tcp", DstPort: 443}
	reconnect := f
	reconnect.Name = "ecs-agent-reconnect"
	return []AgentFlows{{InstanceID: w.Instance, Established: []flowmodel.Flow{f}, NewConnection: &reconnect}}
}
