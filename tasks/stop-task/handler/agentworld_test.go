package handler_test

import (
	"context"
	"net/netip"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

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
	n := mototest.NewNet(t, ec2.NewFromConfig(w.Cfg), "10.40.0.0/16")
	w.VpcID = n.VPC
	w.SubnetID = n.Subnet("10.40.0.0/24")
	n.DefaultRoute(&ec2.CreateRouteInput{GatewayId: aws.String(n.InternetGateway())}, w.SubnetID)
	w.AppSG = n.Group("agent")
	h := n.BridgeHost(ecs.NewFromConfig(w.Cfg), w.SubnetID, w.AppSG, true, w.Account)
	w.InstanceID, w.InstanceENI, w.ClusterName, w.ClusterArn = h.Instance, h.ENI, h.ClusterName, h.ClusterArn
	w.ContainerInstanceArn, w.EC2Def, w.EC2TaskArn = h.ContainerInstance, h.TaskDefinition, h.Task
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
