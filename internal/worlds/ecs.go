package worlds

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// Images of the worlds' services. The registry account is not the world's:
// images come from a shared registry, as they often do.
const (
	ImagePayments = "111122223333.dkr.ecr.us-east-1.amazonaws.com/payments-api:1.4.2"
	ImageLedger   = "111122223333.dkr.ecr.us-east-1.amazonaws.com/ledger:3.1.0"
	ImageWorker   = "111122223333.dkr.ecr.us-east-1.amazonaws.com/report-worker:2.0.1"
)

// cluster creates the world's ECS cluster, its log group and its task role.
func (b *builder) cluster(ctx context.Context) error {
	c := ecs.NewFromConfig(b.w.Cfg)
	cl, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(b.name)})
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	b.w.ClusterName, b.w.ClusterArn = b.name, aws.ToString(cl.Cluster.ClusterArn)
	b.w.Account = strings.Split(b.w.ClusterArn, ":")[4]
	b.w.LogGroup = "/ecs/" + b.name
	if _, err := cloudwatchlogs.NewFromConfig(b.w.Cfg).CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(b.w.LogGroup)}); err != nil {
		return fmt.Errorf("log group: %w", err)
	}
	return nil
}

// taskRole creates a task role ECS tasks can assume.
func (b *builder) taskRole(ctx context.Context, name string) (string, error) {
	r, err := iam.NewFromConfig(b.w.Cfg).CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String(b.name + "-" + name), Path: aws.String("/ecs-tasks/"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
	})
	if err != nil {
		return "", fmt.Errorf("task role %s: %w", name, err)
	}
	return aws.ToString(r.Role.Arn), nil
}

// instance starts a container instance in the subnet of role with the
// instance group, puts it in an Auto Scaling group and registers it with
// the cluster.
func (b *builder) instance(ctx context.Context, role string) (*Instance, error) {
	return b.instanceIn(ctx, role, b.name+"-asg")
}

// instanceIn is instance with the Auto Scaling group named asg.
func (b *builder) instanceIn(ctx context.Context, role, asg string) (*Instance, error) {
	out, err := b.ec2.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String("ami-12c6146b"), InstanceType: ec2types.InstanceTypeM6iLarge, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		SubnetId: aws.String(b.w.Subnets[role]), SecurityGroupIds: []string{b.w.Groups["instance"]},
		TagSpecifications: tags(ec2types.ResourceTypeInstance, b.name+"-ecs"),
	})
	if err != nil {
		return nil, fmt.Errorf("container instance: %w", err)
	}
	inst := &Instance{ID: aws.ToString(out.Instances[0].InstanceId)}
	for _, ni := range out.Instances[0].NetworkInterfaces {
		if aws.ToInt32(ni.Attachment.DeviceIndex) == 0 {
			inst.ENI = aws.ToString(ni.NetworkInterfaceId)
		}
	}
	d, err := b.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{inst.ID}})
	if err != nil {
		return nil, err
	}
	for _, bdm := range d.Reservations[0].Instances[0].BlockDeviceMappings {
		if bdm.Ebs != nil {
			inst.VolumeIDs = append(inst.VolumeIDs, aws.ToString(bdm.Ebs.VolumeId))
		}
	}
	if inst.ENI == "" {
		for _, ni := range d.Reservations[0].Instances[0].NetworkInterfaces {
			inst.ENI = aws.ToString(ni.NetworkInterfaceId)
		}
	}
	as := autoscaling.NewFromConfig(b.w.Cfg)
	inst.ASG = asg
	if _, err := as.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(inst.ASG), InstanceId: aws.String(inst.ID),
		MinSize: aws.Int32(0), MaxSize: aws.Int32(3), VPCZoneIdentifier: aws.String(b.w.Subnets[role]),
	}); err != nil {
		return nil, fmt.Errorf("auto scaling group: %w", err)
	}
	if _, err := as.AttachInstances(ctx, &autoscaling.AttachInstancesInput{AutoScalingGroupName: aws.String(inst.ASG), InstanceIds: []string{inst.ID}}); err != nil {
		return nil, fmt.Errorf("auto scaling group attach: %w", err)
	}
	doc := fmt.Sprintf(`{"instanceId":"%s","region":"%s","accountId":"%s","availabilityZone":"%sa"}`, inst.ID, b.w.Region, b.w.Account, b.w.Region)
	ci, err := ecs.NewFromConfig(b.w.Cfg).RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{
		Cluster: aws.String(b.w.ClusterName), InstanceIdentityDocument: aws.String(doc)})
	if err != nil {
		return nil, fmt.Errorf("register container instance: %w", err)
	}
	inst.ContainerInstanceArn = aws.ToString(ci.ContainerInstance.ContainerInstanceArn)
	b.w.Instances = append(b.w.Instances, *inst)
	return inst, nil
}

// taskSpec is one task to run.
type taskSpec struct {
	role        string // target, peer, same-host
	family      string // task definition family (made unique)
	container   string
	image       string
	launchType  string // FARGATE or EC2
	networkMode ecstypes.NetworkMode
	subnet      string // role of the subnet (awsvpc)
	group       string // role of the security group (awsvpc)
	service     bool   // started by a service of the family's name
	exec        bool   // enableExecuteCommand
	taskRole    string
	instance    *Instance // EC2 tasks
}

// runTask registers the task definition (and service) and runs one task.
func (b *builder) runTask(ctx context.Context, s taskSpec) (*Task, error) {
	c := ecs.NewFromConfig(b.w.Cfg)
	family := b.name + "-" + s.family
	def := ecstypes.ContainerDefinition{Name: aws.String(s.container), Image: aws.String(s.image), Essential: aws.Bool(true),
		Memory: aws.Int32(512), Cpu: 256, LogConfiguration: &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs,
			Options: map[string]string{"awslogs-group": b.w.LogGroup, "awslogs-region": b.w.Region, "awslogs-stream-prefix": s.family}},
		PortMappings: []ecstypes.PortMapping{{ContainerPort: aws.Int32(8080), HostPort: aws.Int32(8080), Protocol: ecstypes.TransportProtocolTcp}}}
	if s.networkMode == ecstypes.NetworkModeAwsvpc && s.instance != nil && s.role != "target" {
		// moto reserves an awsvpc task's port on its container instance
		// as if it were a host port (AWS does not: each awsvpc task has its
		// own ENI), so a second awsvpc task on the host listens elsewhere.
		def.PortMappings[0].ContainerPort, def.PortMappings[0].HostPort = aws.Int32(9090), aws.Int32(9090)
	}
	if s.networkMode == ecstypes.NetworkModeBridge && s.role != "target" {
		// Another bridge task on the target's host: a dynamic host port,
		// as ECS assigns when two tasks publish the same container port.
		def.PortMappings[0].HostPort = aws.Int32(0)
	}
	in := &ecs.RegisterTaskDefinitionInput{Family: aws.String(family), NetworkMode: s.networkMode,
		ContainerDefinitions: []ecstypes.ContainerDefinition{def}, TaskRoleArn: aws.String(s.taskRole)}
	if s.launchType == "FARGATE" {
		in.RequiresCompatibilities = []ecstypes.Compatibility{ecstypes.CompatibilityFargate}
		in.Cpu, in.Memory = aws.String("256"), aws.String("512")
	} else {
		in.RequiresCompatibilities = []ecstypes.Compatibility{ecstypes.CompatibilityEc2}
	}
	td, err := c.RegisterTaskDefinition(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("task definition %s: %w", s.family, err)
	}
	t := &Task{Role: s.role, LaunchType: s.launchType, NetworkMode: string(s.networkMode), Family: family,
		TaskDefinitionArn: aws.ToString(td.TaskDefinition.TaskDefinitionArn), Container: s.container, Image: s.image}
	run := &ecs.RunTaskInput{Cluster: aws.String(b.w.ClusterName), TaskDefinition: td.TaskDefinition.TaskDefinitionArn,
		LaunchType: ecstypes.LaunchType(s.launchType), EnableExecuteCommand: s.exec}
	if s.networkMode == ecstypes.NetworkModeAwsvpc {
		run.NetworkConfiguration = &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
			Subnets: []string{b.w.Subnets[s.subnet]}, SecurityGroups: []string{b.w.Groups[s.group]}}}
	}
	if s.service {
		t.ServiceName = family
		svc := &ecs.CreateServiceInput{Cluster: aws.String(b.w.ClusterName), ServiceName: aws.String(family),
			TaskDefinition: td.TaskDefinition.TaskDefinitionArn, DesiredCount: aws.Int32(1), LaunchType: ecstypes.LaunchType(s.launchType),
			NetworkConfiguration: run.NetworkConfiguration, EnableExecuteCommand: s.exec}
		if _, err := c.CreateService(ctx, svc); err != nil {
			return nil, fmt.Errorf("service %s: %w", s.family, err)
		}
		run.Group, run.StartedBy = aws.String("service:"+family), aws.String("ecs-svc/1234567890")
	}
	out, err := c.RunTask(ctx, run)
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", s.family, err)
	}
	if len(out.Tasks) != 1 {
		return nil, fmt.Errorf("run %s: %d tasks, failures %v", s.family, len(out.Tasks), out.Failures)
	}
	task := out.Tasks[0]
	t.Arn = aws.ToString(task.TaskArn)
	t.ContainerInstanceArn = aws.ToString(task.ContainerInstanceArn)
	if s.instance != nil {
		t.InstanceID = s.instance.ID
	}
	for _, a := range task.Attachments {
		for _, d := range a.Details {
			if aws.ToString(d.Name) == "networkInterfaceId" {
				t.ENI = aws.ToString(d.Value)
			}
		}
	}
	if s.networkMode == ecstypes.NetworkModeAwsvpc && t.ENI == "" {
		return nil, fmt.Errorf("run %s: the awsvpc task has no ENI attachment", s.family)
	}
	return t, b.logs(ctx, s.family, s.container, t.Arn)
}

// logs writes the task's awslogs stream: what the miner left in it.
func (b *builder) logs(ctx context.Context, prefix, container, taskArn string) error {
	logs := cloudwatchlogs.NewFromConfig(b.w.Cfg)
	stream := prefix + "/" + container + "/" + taskArn[strings.LastIndexByte(taskArn, '/')+1:]
	if _, err := logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(b.w.LogGroup), LogStreamName: aws.String(stream)}); err != nil {
		return fmt.Errorf("log stream: %w", err)
	}
	now := time.Now()
	var events []cwltypes.InputLogEvent
	for i, msg := range []string{"starting " + container, "connecting to pool.minexmr.example:4444", "GET /health 200", "child process spawned: /tmp/.cache/xmrig"} {
		events = append(events, cwltypes.InputLogEvent{Message: aws.String(msg), Timestamp: aws.Int64(now.Add(time.Duration(i-10) * time.Minute).UnixMilli())})
	}
	_, err := logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(b.w.LogGroup), LogStreamName: aws.String(stream), LogEvents: events})
	return err
}
