package worlds

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/irflow/irflow/internal/flowmodel"
)

// World is one seeded ECS environment: its network, its cluster, the
// compromised task (the target of the response), the other tasks that share
// its subnet or host, and the named flows that exist before the response.
type World struct {
	Name    string
	Account string
	Region  string
	Cfg     aws.Config

	VpcID      string
	Subnets    map[string]string // role (public, app, lb) -> subnet id
	Groups     map[string]string // role (app, lb, instance, endpoints) -> security group id
	NACLs      map[string]string // role -> network ACL id
	NATGateway string
	Endpoints  map[string]string // service short name (ssm, ecs-agent, ...) -> VPC endpoint id

	ClusterName, ClusterArn string
	Target                  Task
	// Others are the other tasks of the world: a same-subnet peer, tasks on
	// the target's host. A response must leave them alone.
	Others []Task
	// Instances are the world's container instances.
	Instances []Instance
	LogGroup  string
	// LBENI stands in for the load balancer's node in the lb subnet.
	LBENI string

	// Flows are the connections that exist when the response starts (and
	// the new ones that would be attempted), by name.
	Flows []Flow
	// Agents are the container instances' ECS agent connections: what the
	// strict layer judges to decide whether a stop or drain reaches a task.
	Agents []Agent
	// ExecEnabled says the target was started with enableExecuteCommand.
	ExecEnabled bool

	// ResponderAccount is the account irflow responds from when it is not
	// the world's (an organization world: the GuardDuty administrator,
	// which keeps irflow's stores); "" when irflow runs in Account.
	ResponderAccount string
	// ResponderRoles are the member stack's roles in Account (organization
	// worlds with the stack); none in a member account without it.
	ResponderRoles []string
	// Storm is the storm world's two services; nil in the other worlds.
	Storm *Storm
}

// Task is one ECS task of a world.
type Task struct {
	Role              string // target, peer, same-host, ...
	Arn               string
	LaunchType        string // FARGATE or EC2
	NetworkMode       string // awsvpc, bridge or host
	TaskDefinitionArn string
	Family            string
	ServiceName       string // "" for a standalone task
	Container, Image  string
	// ENI is the task's own ENI (awsvpc); "" for bridge and host tasks,
	// whose traffic is the instance's.
	ENI        string
	InstanceID string // EC2 tasks
	// ContainerInstanceArn of an EC2 task.
	ContainerInstanceArn string
}

// Instance is a container instance of a world.
type Instance struct {
	ID, ENI, ContainerInstanceArn, ASG string
	VolumeIDs                          []string
}

// Flow is a named connection of the world.
type Flow struct {
	flowmodel.Flow
	// Established flows exist before the response (a reverse shell, a load
	// balancer's keep-alive connection); the others are new connections a
	// process would open.
	Established bool
	// Owner is the task whose stop ends the flow ("" for the ECS agent's).
	Owner string
	// Description says what the flow is, for people.
	Description string
}

// Agent is the ECS agent of a container instance and its connection to the
// ECS endpoint.
type Agent struct {
	InstanceID string
	Flow       flowmodel.Flow
}

// External addresses of the worlds: documentation ranges (RFC 5737), never
// real hosts.
var (
	// MiningPool is the internet host the compromised task is connected to
	// (the mining pool, or the reverse shell's listener).
	MiningPool = netip.MustParseAddr("203.0.113.66")
	// NewPeer is an internet host the task would connect to next.
	NewPeer = netip.MustParseAddr("198.51.100.7")
	// ECSPublicEndpoint stands in for ecs.<region>.amazonaws.com's
	// address, reached through the NAT gateway where the VPC has no
	// interface endpoint for ECS.
	ECSPublicEndpoint = netip.MustParseAddr("192.0.2.10")
	// CredentialsEndpoint is the ECS container credentials endpoint.
	CredentialsEndpoint = netip.MustParseAddr("169.254.170.2")
)

// Names lists the single-account worlds, sorted: the containment matrix.
// Build also knows the organization worlds (MemberNames, Cases).
func Names() []string {
	return slices.Sorted(maps.Keys(specs))
}

// Describe is one line on a world, for usage messages.
func Describe(name string) string {
	if s, ok := specs[name]; ok {
		return s.summary
	}
	if s, ok := memberSpecs[name]; ok {
		return s.summary
	}
	if s, base, ok := memberOf(name); ok {
		return fmt.Sprintf("%s in member account %s (%s)", base, s.account, name[:strings.IndexByte(name+"/", '/')])
	}
	return ""
}

// UnknownError names a world Build does not know.
type UnknownError struct{ Name string }

func (e *UnknownError) Error() string {
	return fmt.Sprintf("unknown world %q; worlds: %s", e.Name, strings.Join(append(Names(), MemberNames()...), ", "))
}

// Build seeds the named world in the AWS-compatible endpoint of cfg (moto,
// through the strict layer) with names unique to this run. direct reaches
// moto past the strict layer, for what AWS itself does in a real account
// (ECS giving a task a public IP); it may be cfg when there is no layer.
func Build(ctx context.Context, cfg, direct aws.Config, name string) (*World, error) {
	if m, base, ok := memberOf(name); ok {
		w, err := buildMember(ctx, cfg, direct, name, m, base)
		if err != nil {
			return nil, fmt.Errorf("world %s: %w", name, err)
		}
		return w, nil
	}
	s, ok := specs[name]
	if !ok {
		return nil, &UnknownError{Name: name}
	}
	b := newBuilder(cfg, name)
	b.direct = direct
	if err := s.build(ctx, b); err != nil {
		return nil, fmt.Errorf("world %s: %w", name, err)
	}
	return b.w, nil
}

// Flow returns the named flow, or nil.
func (w *World) Flow(name string) *Flow {
	for i := range w.Flows {
		if w.Flows[i].Name == name {
			return &w.Flows[i]
		}
	}
	return nil
}

// TaskArns are the ARNs of every task of the world, the target first.
func (w *World) TaskArns() []string {
	out := []string{w.Target.Arn}
	for _, t := range w.Others {
		out = append(out, t.Arn)
	}
	return out
}
