package worlds

import (
	"context"
	"fmt"
	"net/netip"

	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/internal/flowmodel"
)

// spec is how one world is built.
type spec struct {
	summary string
	build   func(context.Context, *builder) error
}

// The worlds. Every one has a VPC 10.0.0.0/16 with a public subnet
// (10.0.0.0/24: the NAT gateway, routed to the internet gateway), an app
// subnet (10.0.1.0/24: the tasks and container instances, routed to the NAT
// gateway), and a load balancer subnet (10.0.2.0/24, public) holding the
// load balancer's node; a peer Fargate task of another service in the app
// subnet; and the flows of flows().
var specs = map[string]spec{
	"fargate": {"Fargate task in a private subnet; egress through a NAT gateway in another subnet; inbound from a load balancer subnet",
		func(ctx context.Context, b *builder) error { return b.fargateWorld(ctx, netOpts{allowAt: 100}, false) }},
	"fargate-public-ip": {"Fargate task with a public IP in a public subnet: egress straight through the internet gateway",
		func(ctx context.Context, b *builder) error {
			return b.fargateWorld(ctx, netOpts{allowAt: 100, publicTask: true}, false)
		}},
	"fargate-exec": {"as fargate, the task started with enableExecuteCommand (ECS Exec)",
		func(ctx context.Context, b *builder) error { return b.fargateWorld(ctx, netOpts{allowAt: 100}, true) }},
	"shared-nacl": {"as fargate, but the task's and the NAT gateway's subnets share the VPC's default network ACL",
		func(ctx context.Context, b *builder) error {
			return b.fargateWorld(ctx, netOpts{allowAt: 100, sharedNACL: true}, false)
		}},
	"nacl-full": {"as fargate, but every network ACL allows everything at rule 1: no rule number is free below the allows",
		func(ctx context.Context, b *builder) error { return b.fargateWorld(ctx, netOpts{allowAt: 1}, false) }},
	"ec2-bridge": {"bridge-mode task on an EC2 container instance in an Auto Scaling group; VPC interface endpoints for ECS and SSM",
		func(ctx context.Context, b *builder) error {
			return b.ec2World(ctx, ecstypes.NetworkModeBridge, netOpts{allowAt: 100, endpoints: allEndpoints})
		}},
	"ec2-host": {"host-mode task on an EC2 container instance; VPC interface endpoints for ECS and SSM",
		func(ctx context.Context, b *builder) error {
			return b.ec2World(ctx, ecstypes.NetworkModeHost, netOpts{allowAt: 100, endpoints: allEndpoints})
		}},
	"ec2-awsvpc": {"awsvpc task (its own ECS-managed ENI) on an EC2 container instance that also runs a bridge task and another awsvpc task",
		func(ctx context.Context, b *builder) error {
			return b.ec2World(ctx, ecstypes.NetworkModeAwsvpc, netOpts{allowAt: 100, endpoints: allEndpoints})
		}},
	"storm": {"a finding storm: two EC2 services (awsvpc) on one cluster and the same two hosts, every task of one running a compromised image digest, the other clean",
		func(ctx context.Context, b *builder) error { return b.stormWorld(ctx) }},
	"no-ssm-endpoints": {"as ec2-bridge, but no interface endpoints: the SSM and ECS agents reach their services through the NAT gateway",
		func(ctx context.Context, b *builder) error {
			return b.ec2World(ctx, ecstypes.NetworkModeBridge, netOpts{allowAt: 100})
		}},
}

// allEndpoints are the interface endpoints an instance VPC has: ECS's
// three (the agent talks to ecs-agent and ecs-telemetry) and SSM's three.
var allEndpoints = []string{"ecs", "ecs-agent", "ecs-telemetry", "ssm", "ssmmessages", "ec2messages"}

// netOpts vary the common network.
type netOpts struct {
	allowAt    int32 // rule number of the network ACLs' allow-all entries
	sharedNACL bool  // every subnet stays on the default network ACL
	publicTask bool  // the target runs in the public subnet with a public IP
	endpoints  []string
}

// network builds the VPC, subnets, gateways, network ACLs, security groups,
// endpoints and the load balancer node.
func (b *builder) network(ctx context.Context, o netOpts) error {
	if err := b.vpc(ctx, "10.0.0.0/16"); err != nil {
		return err
	}
	for _, s := range []struct{ role, cidr string }{{"public", "10.0.0.0/24"}, {"app", "10.0.1.0/24"}, {"lb", "10.0.2.0/24"}} {
		if err := b.subnet(ctx, s.role, s.cidr); err != nil {
			return err
		}
	}
	if err := b.internet(ctx, []string{"public", "lb"}, []string{"app"}); err != nil {
		return err
	}
	if !o.sharedNACL {
		for _, role := range []string{"public", "app", "lb"} {
			if err := b.nacl(ctx, role, o.allowAt, role); err != nil {
				return err
			}
		}
	}
	steps := []struct {
		role    string
		ingress []rule
	}{
		{"lb", []rule{{proto: "tcp", from: 443, to: 443, cidr: "0.0.0.0/0"}}},
		{"app", []rule{{proto: "tcp", from: 8080, to: 8080, group: "lb"}, {proto: "tcp", from: 8080, to: 8080, group: "app"}}},
		{"instance", []rule{{proto: "tcp", from: 8080, to: 8080, group: "lb"}, {proto: "tcp", from: 8080, to: 8080, group: "app"}}},
		{"endpoints", []rule{{proto: "tcp", from: 443, to: 443, cidr: "10.0.0.0/16"}}},
	}
	for _, s := range steps {
		if err := b.group(ctx, s.role, s.ingress...); err != nil {
			return err
		}
	}
	if err := b.interfaceEndpoints(ctx, "app", o.endpoints...); err != nil {
		return err
	}
	return b.lbNode(ctx)
}

// fargateWorld is a Fargate service's task (the target) and a peer task
// of another service in the same subnet.
func (b *builder) fargateWorld(ctx context.Context, o netOpts, exec bool) error {
	if err := b.network(ctx, o); err != nil {
		return err
	}
	if err := b.cluster(ctx); err != nil {
		return err
	}
	role, err := b.taskRole(ctx, "payments-api")
	if err != nil {
		return err
	}
	subnet := "app"
	if o.publicTask {
		subnet = "public"
	}
	t, err := b.runTask(ctx, taskSpec{role: "target", family: "payments-api", container: "api", image: ImagePayments, launchType: "FARGATE",
		networkMode: ecstypes.NetworkModeAwsvpc, subnet: subnet, group: "app", service: true, exec: exec, taskRole: role})
	if err != nil {
		return err
	}
	if o.publicTask {
		if err := b.publicIP(ctx, t.ENI); err != nil {
			return err
		}
	}
	b.w.Target, b.w.ExecEnabled = *t, exec
	if err := b.peer(ctx, role); err != nil {
		return err
	}
	return b.flows(ctx, t.ENI)
}

// ec2World is a container instance running the target in the network
// mode, and for awsvpc also a bridge task and another awsvpc task on the
// same host.
func (b *builder) ec2World(ctx context.Context, mode ecstypes.NetworkMode, o netOpts) error {
	if err := b.network(ctx, o); err != nil {
		return err
	}
	if err := b.cluster(ctx); err != nil {
		return err
	}
	role, err := b.taskRole(ctx, "report-worker")
	if err != nil {
		return err
	}
	inst, err := b.instance(ctx, "app")
	if err != nil {
		return err
	}
	on := func(r, family string, m ecstypes.NetworkMode) (*Task, error) {
		return b.runTask(ctx, taskSpec{role: r, family: family, container: "worker", image: ImageWorker, launchType: "EC2",
			networkMode: m, subnet: "app", group: "app", service: true, taskRole: role, instance: inst})
	}
	t, err := on("target", "report-worker", mode)
	if err != nil {
		return err
	}
	b.w.Target = *t
	if mode == ecstypes.NetworkModeAwsvpc {
		for _, o := range []struct {
			role, family string
			mode         ecstypes.NetworkMode
		}{{"same-host", "invoice-batch", ecstypes.NetworkModeBridge}, {"same-host-awsvpc", "pdf-render", ecstypes.NetworkModeAwsvpc}} {
			other, err := on(o.role, o.family, o.mode)
			if err != nil {
				return err
			}
			b.w.Others = append(b.w.Others, *other)
		}
	}
	if err := b.peer(ctx, role); err != nil {
		return err
	}
	eni := t.ENI
	if eni == "" {
		eni = inst.ENI // bridge and host tasks send and receive as the instance
	}
	if err := b.flows(ctx, eni); err != nil {
		return err
	}
	return b.agent(ctx, inst, len(o.endpoints) > 0)
}

// peer runs a task of another service in the app subnet, with the app
// group: a neighbour the response must not cut off from anything but the
// target.
func (b *builder) peer(ctx context.Context, role string) error {
	p, err := b.runTask(ctx, taskSpec{role: "peer", family: "ledger", container: "ledger", image: ImageLedger, launchType: "FARGATE",
		networkMode: ecstypes.NetworkModeAwsvpc, subnet: "app", group: "app", service: true, taskRole: role})
	if err != nil {
		return err
	}
	b.w.Others = append(b.w.Others, *p)
	return nil
}

// flows names the target's connections; eni is where its packets come
// from and go to (its own ENI, or its instance's).
func (b *builder) flows(ctx context.Context, eni string) error {
	owner := b.w.Target.Arn
	var peerENI string
	for _, o := range b.w.Others {
		if o.Role == "peer" {
			peerENI = o.ENI
		}
	}
	resolver := netip.MustParseAddr("10.0.0.2") // VPC base + 2: the Route 53 Resolver
	tcp := func(name string, src, dst flowmodel.Endpoint, port int, est bool, desc string) Flow {
		return Flow{Flow: flowmodel.Flow{Name: name, Src: src, Dst: dst, Protocol: "tcp", DstPort: port}, Established: est, Owner: owner, Description: desc}
	}
	task := flowmodel.Endpoint{ENI: eni}
	b.w.Flows = []Flow{
		tcp("c2-session", task, flowmodel.Endpoint{IP: MiningPool}, 4444, true, "the miner's session to its pool (or a reverse shell) on the internet"),
		tcp("lb-inbound", flowmodel.Endpoint{ENI: b.w.LBENI}, task, 8080, true, "the load balancer's connection to the task, from the lb subnet"),
		tcp("peer-same-subnet", flowmodel.Endpoint{ENI: peerENI}, task, 8080, true, "a peer task in the same subnet calling the task"),
		tcp("new-outbound", task, flowmodel.Endpoint{IP: NewPeer}, 443, false, "a new HTTPS connection from the task to an internet host"),
		{Flow: flowmodel.Flow{Name: "dns", Src: task, Dst: flowmodel.Endpoint{IP: resolver}, Protocol: "udp", DstPort: 53}, Owner: owner,
			Description: "a DNS query to the VPC's Route 53 Resolver"},
		tcp("credentials", task, flowmodel.Endpoint{IP: CredentialsEndpoint}, 80, false, "the ECS container credentials endpoint"),
	}
	if peerENI == "" {
		return fmt.Errorf("no peer task")
	}
	return nil
}

// agent adds the container instance's ECS agent connection: to the
// ecs-agent interface endpoint when the VPC has one, else to ECS's public
// endpoint through the NAT gateway.
func (b *builder) agent(ctx context.Context, inst *Instance, endpoints bool) error {
	dst := flowmodel.Endpoint{IP: ECSPublicEndpoint}
	desc := "the ECS agent's connection to ECS, through the NAT gateway"
	if endpoints {
		eni, err := b.endpointENI(ctx, "ecs-agent")
		if err != nil {
			return err
		}
		dst, desc = flowmodel.Endpoint{ENI: eni}, "the ECS agent's connection to the ecs-agent interface endpoint"
	}
	f := flowmodel.Flow{Name: "ecs-agent", Src: flowmodel.Endpoint{ENI: inst.ENI}, Dst: dst, Protocol: "tcp", DstPort: 443}
	b.w.Agents = append(b.w.Agents, Agent{InstanceID: inst.ID, Flow: f})
	b.w.Flows = append(b.w.Flows, Flow{Flow: f, Established: true, Description: desc})
	return nil
}
