package strict

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

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
	c := ec2.NewFromConfig(cfg)
	n := mototest.NewNet(t, c, "10.30.0.0/16")
	pub := n.Subnet("10.30.0.0/24")
	n.DefaultRoute(&ec2.CreateRouteInput{GatewayId: aws.String(n.InternetGateway())}, pub)
	home := pub
	if viaNAT {
		home = n.Subnet("10.30.1.0/24")
		n.DefaultRoute(&ec2.CreateRouteInput{NatGatewayId: n.NATGateway(pub).NatGatewayId}, home)
	}
	all := []ec2types.IpPermission{{IpProtocol: aws.String("-1"), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}
	w := &agentWorld{AgentSG: n.Group("agent"), OpenSG: n.Group("all-traffic", all...), DenySG: n.Group("deny-all")}
	if _, err := c.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: aws.String(w.DenySG), IpPermissions: all}); err != nil {
		t.Fatal(err)
	}
	h := n.BridgeHost(ecs.NewFromConfig(cfg), home, w.AgentSG, !viaNAT, "123456789012")
	w.Instance, w.ENI, w.Cluster, w.ContainerInstance, w.Task = h.Instance, h.ENI, h.ClusterName, h.ContainerInstance, h.Task
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
