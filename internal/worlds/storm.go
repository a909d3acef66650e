package worlds

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/internal/flowmodel"
)

// The storm world's sizes: the compromised service's tasks and the clean
// service's, spread over two container instances.
const (
	StormCompromisedTasks = 12
	StormCleanTasks       = 4
)

// Repositories of the storm world's services (a shared registry, as the
// other worlds' images).
const (
	RepoCheckout = "111122223333.dkr.ecr.us-east-1.amazonaws.com/checkout-api"
	RepoCart     = "111122223333.dkr.ecr.us-east-1.amazonaws.com/cart-web"
)

// Digests of the storm world's images. The task definitions pin every
// image by digest (repo@sha256:…): moto reports no imageDigest on tasks,
// and a pinned reference is what find-siblings and pin-service can prove
// a digest from (tasks/ecsref).
var (
	// DigestCheckoutGood is checkout-api's image before the compromise
	// (the family's revision 1).
	DigestCheckoutGood = fakeDigest("checkout-api 2.3.0")
	// DigestCheckoutBad is the backdoored image every task of the
	// compromised service runs (revision 2, the service's).
	DigestCheckoutBad = fakeDigest("checkout-api 2.4.0, backdoored with a miner")
	// DigestCart is the clean service's image.
	DigestCart = fakeDigest("cart-web 5.1.0")
)

func fakeDigest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Storm is the storm world's two services on one cluster and the same two
// container instances: one whose image digest is compromised (every one of
// its tasks runs the miner) and one clean.
type Storm struct {
	CompromisedService, CleanService string
	// CompromisedDigest is the bad image's digest; CleanDigest the clean
	// service's.
	CompromisedDigest, CleanDigest string
	// GoodRevision is the compromised family's earlier revision, pinned
	// to its image before the compromise; BadRevision the service's.
	GoodRevision, BadRevision string
	// Compromised are the compromised service's tasks, the world's target
	// first; Clean the clean service's.
	Compromised, Clean []Task
	// Flows are each storm task's flows (Owner is the task): a compromised
	// task's session to the mining pool (established) and new connection
	// out; a clean task's load balancer connection (established) and new
	// connection out. The world's Flows are the target's, as in every
	// world.
	Flows []Flow
}

// Tasks are every storm task's ARN, compromised first.
func (s *Storm) Tasks() []string {
	var out []string
	for _, t := range append(append([]Task{}, s.Compromised...), s.Clean...) {
		out = append(out, t.Arn)
	}
	return out
}

// stormWorld builds the storm: the common network with every interface
// endpoint, two container instances in the app subnet, and on them
// checkout-api (StormCompromisedTasks awsvpc tasks of a revision whose
// image is DigestCheckoutBad; revision 1, the image before, is still
// ACTIVE) and cart-web (StormCleanTasks tasks, DigestCart), both
// services of the cluster, their tasks alternating between the hosts.
func (b *builder) stormWorld(ctx context.Context) error {
	if err := b.network(ctx, netOpts{allowAt: 100, endpoints: allEndpoints}); err != nil {
		return err
	}
	if err := b.cluster(ctx); err != nil {
		return err
	}
	c := ecs.NewFromConfig(b.w.Cfg)
	// Many awsvpc tasks on one instance need ENI trunking (an m6i.large
	// has 3 ENIs without it, 12 task ENIs with it): "Increasing Amazon ECS
	// Linux container instance network interfaces",
	// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/container-instance-eni.html.
	if _, err := c.PutAccountSetting(ctx, &ecs.PutAccountSettingInput{Name: ecstypes.SettingNameAwsvpcTrunking, Value: aws.String("enabled")}); err != nil {
		return fmt.Errorf("awsvpcTrunking: %w", err)
	}
	var hosts []*Instance
	for _, suffix := range []string{"a", "b"} {
		inst, err := b.instanceIn(ctx, "app", b.name+"-asg-"+suffix)
		if err != nil {
			return err
		}
		hosts = append(hosts, inst)
	}
	st := &Storm{CompromisedDigest: DigestCheckoutBad, CleanDigest: DigestCart}
	checkoutRole, err := b.taskRole(ctx, "checkout-api")
	if err != nil {
		return err
	}
	cartRole, err := b.taskRole(ctx, "cart-web")
	if err != nil {
		return err
	}
	if st.GoodRevision, err = b.stormDefinition(ctx, "checkout-api", "api", RepoCheckout+"@"+DigestCheckoutGood, checkoutRole); err != nil {
		return err
	}
	if st.BadRevision, err = b.stormDefinition(ctx, "checkout-api", "api", RepoCheckout+"@"+DigestCheckoutBad, checkoutRole); err != nil {
		return err
	}
	cartRevision, err := b.stormDefinition(ctx, "cart-web", "web", RepoCart+"@"+DigestCart, cartRole)
	if err != nil {
		return err
	}
	if st.CompromisedService, err = b.stormService(ctx, "checkout-api", st.BadRevision, StormCompromisedTasks); err != nil {
		return err
	}
	if st.CleanService, err = b.stormService(ctx, "cart-web", cartRevision, StormCleanTasks); err != nil {
		return err
	}
	for i := 0; i < StormCompromisedTasks; i++ {
		role := "sibling"
		if i == 0 {
			role = "target"
		}
		t, err := b.StartServiceTask(ctx, st.CompromisedService, st.BadRevision, hosts[i%len(hosts)], role)
		if err != nil {
			return err
		}
		t.Container, t.Image = "api", RepoCheckout+"@"+DigestCheckoutBad
		st.Compromised = append(st.Compromised, *t)
	}
	for i := 0; i < StormCleanTasks; i++ {
		role := "clean"
		if i == 0 {
			role = "peer" // a same-subnet peer of the target, as in every world
		}
		t, err := b.StartServiceTask(ctx, st.CleanService, cartRevision, hosts[i%len(hosts)], role)
		if err != nil {
			return err
		}
		t.Container, t.Image = "web", RepoCart+"@"+DigestCart
		st.Clean = append(st.Clean, *t)
	}
	for _, t := range st.Compromised {
		if err := b.logs(ctx, "checkout-api", "api", t.Arn); err != nil {
			return err
		}
	}
	b.w.Target, b.w.Storm = st.Compromised[0], st
	b.w.Others = append(append(b.w.Others, st.Compromised[1:]...), st.Clean...)
	for _, h := range hosts {
		if err := b.agent(ctx, h, true); err != nil {
			return err
		}
	}
	if err := b.flows(ctx, b.w.Target.ENI); err != nil {
		return err
	}
	// flows() put the target's; keep the agents' after them.
	tcp := func(name string, src, dst flowmodel.Endpoint, port int, est bool, owner, desc string) Flow {
		return Flow{Flow: flowmodel.Flow{Name: name, Src: src, Dst: dst, Protocol: "tcp", DstPort: port}, Established: est, Owner: owner, Description: desc}
	}
	for _, t := range st.Compromised {
		task := flowmodel.Endpoint{ENI: t.ENI}
		st.Flows = append(st.Flows,
			tcp("c2-session:"+shortTask(t.Arn), task, flowmodel.Endpoint{IP: MiningPool}, 4444, true, t.Arn, "the miner's session to its pool"),
			tcp("new-outbound:"+shortTask(t.Arn), task, flowmodel.Endpoint{IP: NewPeer}, 443, false, t.Arn, "a new HTTPS connection to an internet host"))
	}
	for _, t := range st.Clean {
		task := flowmodel.Endpoint{ENI: t.ENI}
		st.Flows = append(st.Flows,
			tcp("lb-inbound:"+shortTask(t.Arn), flowmodel.Endpoint{ENI: b.w.LBENI}, task, 8080, true, t.Arn, "the load balancer's connection to the clean task"),
			tcp("new-outbound:"+shortTask(t.Arn), task, flowmodel.Endpoint{IP: NewPeer}, 443, false, t.Arn, "a new HTTPS connection from the clean task"))
	}
	return nil
}

func shortTask(arn string) string {
	for i := len(arn) - 1; i >= 0; i-- {
		if arn[i] == '/' {
			return arn[i+1:]
		}
	}
	return arn
}

// stormDefinition registers a revision of the family: one awsvpc EC2
// container pinned to image, with no port mappings (moto reserves an
// awsvpc task's container port on its instance as a host port, which AWS
// does not do, so a second task of the revision could not land on the
// host), small enough that both services and their replacements fit on
// two instances.
func (b *builder) stormDefinition(ctx context.Context, family, container, image, taskRole string) (string, error) {
	out, err := ecs.NewFromConfig(b.w.Cfg).RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(b.name + "-" + family), NetworkMode: ecstypes.NetworkModeAwsvpc, TaskRoleArn: aws.String(taskRole),
		RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityEc2},
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String(container), Image: aws.String(image), Essential: aws.Bool(true),
			Memory: aws.Int32(128), Cpu: 64, LogConfiguration: &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs,
				Options: map[string]string{"awslogs-group": b.w.LogGroup, "awslogs-region": b.w.Region, "awslogs-stream-prefix": family}}}},
	})
	if err != nil {
		return "", fmt.Errorf("task definition %s: %w", family, err)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn), nil
}

// stormService creates the service of the family on revision with count
// desired tasks, in the app subnet with the app group.
func (b *builder) stormService(ctx context.Context, family, revision string, count int32) (string, error) {
	name := b.name + "-" + family
	_, err := ecs.NewFromConfig(b.w.Cfg).CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(b.w.ClusterName),
		ServiceName: aws.String(name), TaskDefinition: aws.String(revision), DesiredCount: aws.Int32(count),
		LaunchType: ecstypes.LaunchTypeEc2, NetworkConfiguration: b.appNetwork()})
	if err != nil {
		return "", fmt.Errorf("service %s: %w", family, err)
	}
	return name, nil
}

// appNetwork is an awsvpc task's network in the app subnet with the app
// group.
func (b *builder) appNetwork() *ecstypes.NetworkConfiguration {
	return &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
		Subnets: []string{b.w.Subnets["app"]}, SecurityGroups: []string{b.w.Groups["app"]}}}
}

// StartServiceTask starts one task of the service from revision on the
// host, as the service scheduler does (group service:NAME), and returns it
// with its ENI. moto's RunTask fills the first ACTIVE container instance
// before the next (and its StartTask, which names the instance, makes no
// awsvpc ENI), so the other hosts are out of ACTIVE (DRAINING, past the
// strict layer) for the start: the world is seeded, nothing else runs yet.
func (b *builder) StartServiceTask(ctx context.Context, service, revision string, host *Instance, role string) (*Task, error) {
	direct := ecs.NewFromConfig(b.direct)
	set := func(status ecstypes.ContainerInstanceStatus) error {
		var others []string
		for _, i := range b.w.Instances {
			if i.ContainerInstanceArn != host.ContainerInstanceArn {
				others = append(others, i.ContainerInstanceArn)
			}
		}
		if len(others) == 0 {
			return nil
		}
		_, err := direct.UpdateContainerInstancesState(ctx, &ecs.UpdateContainerInstancesStateInput{Cluster: aws.String(b.w.ClusterName),
			ContainerInstances: others, Status: status})
		return err
	}
	if err := set(ecstypes.ContainerInstanceStatusDraining); err != nil {
		return nil, fmt.Errorf("placing a task on %s: %w", host.ID, err)
	}
	t, err := b.w.startServiceTask(ctx, b.w.Cfg, service, revision, role)
	if rerr := set(ecstypes.ContainerInstanceStatusActive); err == nil && rerr != nil {
		err = fmt.Errorf("placing a task on %s: %w", host.ID, rerr)
	}
	if err == nil && t.ContainerInstanceArn != host.ContainerInstanceArn {
		err = fmt.Errorf("placing a task on %s: moto put it on %s", host.ID, t.ContainerInstanceArn)
	}
	return t, err
}

// StartReplacement starts a task of the storm world's service from
// revision, as ECS's service scheduler does when a task of the service
// stops and the running count falls below the desired count. cfg is moto
// past the strict layer: this is AWS acting, not a caller.
func (w *World) StartReplacement(ctx context.Context, cfg aws.Config, service, revision string) (*Task, error) {
	return w.startServiceTask(ctx, cfg, service, revision, "replacement")
}

func (w *World) startServiceTask(ctx context.Context, cfg aws.Config, service, revision, role string) (*Task, error) {
	out, err := ecs.NewFromConfig(cfg).RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String(w.ClusterName),
		TaskDefinition: aws.String(revision), LaunchType: ecstypes.LaunchTypeEc2,
		Group: aws.String("service:" + service), StartedBy: aws.String("ecs-svc/1234567890"),
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
			Subnets: []string{w.Subnets["app"]}, SecurityGroups: []string{w.Groups["app"]}}}})
	if err != nil {
		return nil, fmt.Errorf("start a task of %s: %w", service, err)
	}
	if len(out.Tasks) != 1 {
		return nil, fmt.Errorf("start a task of %s: %d tasks, failures %v", service, len(out.Tasks), out.Failures)
	}
	task := out.Tasks[0]
	t := &Task{Role: role, Arn: aws.ToString(task.TaskArn), LaunchType: "EC2", NetworkMode: "awsvpc", TaskDefinitionArn: revision,
		ServiceName: service, ContainerInstanceArn: aws.ToString(task.ContainerInstanceArn), Family: familyOf(revision)}
	for _, i := range w.Instances {
		if i.ContainerInstanceArn == t.ContainerInstanceArn {
			t.InstanceID = i.ID
		}
	}
	for _, a := range task.Attachments {
		for _, d := range a.Details {
			if aws.ToString(d.Name) == "networkInterfaceId" {
				t.ENI = aws.ToString(d.Value)
			}
		}
	}
	if t.ENI == "" {
		return nil, fmt.Errorf("start a task of %s: the awsvpc task has no ENI attachment", service)
	}
	return t, nil
}

// familyOf is FAMILY of arn:…:task-definition/FAMILY:REVISION.
func familyOf(revision string) string {
	f := shortTask(revision)
	for i := len(f) - 1; i >= 0; i-- {
		if f[i] == ':' {
			return f[:i]
		}
	}
	return f
}
