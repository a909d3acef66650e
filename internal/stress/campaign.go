package stress

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

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/tasks/taskrt"
)

// Task is one infected task of the campaign.
type Task struct {
	Arn, ClusterArn string
	LaunchType      string // EC2 or FARGATE
	World           int
}

// Campaign is the moto world a crypto-mining campaign hits: several seeded
// mototest worlds (a VPC, a cluster with a Fargate service and an Auto
// Scaling group of container instances each), grown to the number of
// distinct tasks the incidents need. resolve-target takes a per-task dedupe
// lock, so every incident needs a task of its own.
//
// Each world is a deployment of its own: its tasks' incidents write to its
// evidence bucket, audit table and locks. One deployment for all would be
// closer to AWS, but moto's DynamoDB Query sorts the whole table on every
// call, so one audit table of thousands of records makes the emulator, not
// irflow, the bottleneck (and the audit chain's conditional appends only
// ever contend within one case anyway).
type Campaign struct {
	Worlds []*mototest.World
	Tasks  []Task
}

// Env is the deployment (stores) of task t.
func (c *Campaign) Env(t Task) taskrt.Env { return c.Worlds[t.World].Env }

// SeedCampaign seeds worlds worlds against cfg (moto itself, not the fault
// proxy: seeding is not under test) with fargate Fargate tasks (awsvpc, each
// with its own ENI, in the world's service) and ec2 EC2 tasks (bridge mode,
// each on a container instance of its own in the world's Auto Scaling
// group), spread evenly over the worlds, and writes log events to every
// task's awslogs stream.
func SeedCampaign(ctx context.Context, cfg aws.Config, worlds, fargate, ec2n int) (*Campaign, error) {
	if worlds < 1 {
		worlds = 1
	}
	c := &Campaign{}
	var fg, ec [][]Task
	for i := 0; i < worlds; i++ {
		w, err := mototest.SeedWith(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("world %d: %w", i, err)
		}
		c.Worlds = append(c.Worlds, w)
		fg = append(fg, []Task{{Arn: w.FargateTaskArn, ClusterArn: w.ClusterArn, LaunchType: "FARGATE", World: i}})
		ec = append(ec, []Task{{Arn: w.EC2TaskArn, ClusterArn: w.ClusterArn, LaunchType: "EC2", World: i}})
	}
	for i, w := range c.Worlds {
		if err := addEndpoints(ctx, cfg, w); err != nil {
			return nil, fmt.Errorf("world %d: VPC endpoints: %w", i, err)
		}
		nf := share(fargate, worlds, i) - 1
		ne := share(ec2n, worlds, i) - 1
		more, err := runFargate(ctx, cfg, w, i, nf)
		if err != nil {
			return nil, fmt.Errorf("world %d: fargate tasks: %w", i, err)
		}
		fg[i] = append(fg[i], more...)
		more, err = runEC2(ctx, cfg, w, i, ne)
		if err != nil {
			return nil, fmt.Errorf("world %d: ec2 tasks: %w", i, err)
		}
		ec[i] = append(ec[i], more...)
		if err := writeLogs(ctx, cfg, w, append(fg[i][1:], ec[i][1:]...)); err != nil {
			return nil, fmt.Errorf("world %d: logs: %w", i, err)
		}
	}
	// Interleave launch types and worlds, so any prefix of the list is mixed.
	for k := 0; ; k++ {
		added := false
		for i := range c.Worlds {
			if k < len(fg[i]) {
				c.Tasks, added = append(c.Tasks, fg[i][k]), true
			}
			if k < len(ec[i]) {
				c.Tasks, added = append(c.Tasks, ec[i][k]), true
			}
		}
		if !added {
			break
		}
	}
	return c, nil
}

// share is world i's part of n spread over worlds (at least 1: the
// world's own seeded task).
func share(n, worlds, i int) int {
	s := n / worlds
	if i < n%worlds {
		s++
	}
	if s < 1 {
		s = 1
	}
	return s
}

// runFargate starts n more tasks of the world's Fargate service.
func runFargate(ctx context.Context, cfg aws.Config, w *mototest.World, world, n int) ([]Task, error) {
	c := ecs.NewFromConfig(cfg)
	var out []Task
	for n > 0 {
		count := min(n, 10) // RunTask's limit
		res, err := c.RunTask(ctx, &ecs.RunTaskInput{
			Cluster: aws.String(w.ClusterName), TaskDefinition: aws.String(w.FargateTaskDef), LaunchType: ecstypes.LaunchTypeFargate,
			Count: aws.Int32(int32(count)), Group: aws.String("service:" + w.ServiceName), StartedBy: aws.String("ecs-svc/1234567890"),
			NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
				Subnets: []string{w.SubnetID}, SecurityGroups: []string{w.AppSG}}},
		})
		if err != nil {
			return nil, err
		}
		if len(res.Tasks) != count {
			return nil, fmt.Errorf("RunTask started %d of %d tasks: %v", len(res.Tasks), count, res.Failures)
		}
		for _, t := range res.Tasks {
			out = append(out, Task{Arn: aws.ToString(t.TaskArn), ClusterArn: w.ClusterArn, LaunchType: "FARGATE", World: world})
		}
		n -= count
	}
	return out, nil
}

// runEC2 launches n container instances into the world's subnet and Auto
// Scaling group and starts one EC2 task on each (StartTask places it
// explicitly; RunTask would pack every task onto the first instance).
func runEC2(ctx context.Context, cfg aws.Config, w *mototest.World, world, n int) ([]Task, error) {
	if n <= 0 {
		return nil, nil
	}
	e := ec2.NewFromConfig(cfg)
	res, err := e.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String("ami-12c6146b"), InstanceType: ec2types.InstanceTypeM6iLarge,
		MinCount: aws.Int32(int32(n)), MaxCount: aws.Int32(int32(n)),
		SubnetId: aws.String(w.SubnetID), SecurityGroupIds: []string{w.AppSG},
	})
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, in := range res.Instances {
		ids = append(ids, aws.ToString(in.InstanceId))
	}
	as := autoscaling.NewFromConfig(cfg)
	if _, err := as.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(w.ASGName), MaxSize: aws.Int32(int32(n + 10)),
	}); err != nil {
		return nil, fmt.Errorf("asg max size: %w", err)
	}
	for i := 0; i < len(ids); i += 20 { // AttachInstances takes at most 20
		if _, err := as.AttachInstances(ctx, &autoscaling.AttachInstancesInput{
			AutoScalingGroupName: aws.String(w.ASGName), InstanceIds: ids[i:min(i+20, len(ids))]}); err != nil {
			return nil, fmt.Errorf("asg attach: %w", err)
		}
	}
	c := ecs.NewFromConfig(cfg)
	var cis []string
	for _, id := range ids {
		doc := fmt.Sprintf(`{"instanceId":"%s","region":"%s","accountId":"%s","availabilityZone":"%sa"}`, id, mototest.Region, w.Account, mototest.Region)
		ci, err := c.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{
			Cluster: aws.String(w.ClusterName), InstanceIdentityDocument: aws.String(doc)})
		if err != nil {
			return nil, fmt.Errorf("register %s: %w", id, err)
		}
		cis = append(cis, aws.ToString(ci.ContainerInstance.ContainerInstanceArn))
	}
	var out []Task
	for i := 0; i < len(cis); i += 10 { // StartTask takes at most 10
		st, err := c.StartTask(ctx, &ecs.StartTaskInput{
			Cluster: aws.String(w.ClusterName), TaskDefinition: aws.String(w.EC2Def),
			ContainerInstances: cis[i:min(i+10, len(cis))], StartedBy: aws.String("report-worker-scheduler"),
		})
		if err != nil {
			return nil, err
		}
		for _, t := range st.Tasks {
			out = append(out, Task{Arn: aws.ToString(t.TaskArn), ClusterArn: w.ClusterArn, LaunchType: "EC2", World: world})
		}
	}
	if len(out) != n {
		return nil, fmt.Errorf("StartTask started %d of %d tasks", len(out), n)
	}
	return out, nil
}

// writeLogs gives each task's container an awslogs stream with a miner's
// lines in it, as mototest does for the world's own two tasks.
func writeLogs(ctx context.Context, cfg aws.Config, w *mototest.World, tasks []Task) error {
	logs := cloudwatchlogs.NewFromConfig(cfg)
	now := time.Now()
	for _, t := range tasks {
		prefix, container := "api", "api"
		if t.LaunchType == "EC2" {
			prefix, container = "worker", "worker"
		}
		stream := prefix + "/" + container + "/" + t.Arn[strings.LastIndexByte(t.Arn, '/')+1:]
		if _, err := logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(w.LogGroup), LogStreamName: aws.String(stream)}); err != nil {
			return err
		}
		var events []cwltypes.InputLogEvent
		for i, msg := range []string{"starting " + container, "connecting to pool.minexmr.example:4444", "child process spawned: /tmp/.cache/xmrig"} {
			events = append(events, cwltypes.InputLogEvent{Message: aws.String(msg), Timestamp: aws.Int64(now.Add(time.Duration(i-10) * time.Minute).UnixMilli())})
		}
		if _, err := logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(w.LogGroup), LogStreamName: aws.String(stream), LogEvents: events}); err != nil {
			return err
		}
	}
	return nil
}

// addEndpoints gives the world's VPC what a VPC of SSM-managed container
// instances has: interface endpoints with private DNS for ssm, ssmmessages
// and ec2messages, and an S3 gateway endpoint. isolate-network with
// allowSsm: true (container-escape's EC2 quarantine) refuses to run without
// them.
func addEndpoints(ctx context.Context, cfg aws.Config, w *mototest.World) error {
	c := ec2.NewFromConfig(cfg)
	for _, svc := range []string{"ssm", "ssmmessages", "ec2messages"} {
		if _, err := c.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: aws.String(w.VpcID),
			ServiceName:     aws.String("com.amazonaws." + mototest.Region + "." + svc),
			VpcEndpointType: ec2types.VpcEndpointTypeInterface, SubnetIds: []string{w.SubnetID}, PrivateDnsEnabled: aws.Bool(true)}); err != nil {
			return err
		}
	}
	rts, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{w.VpcID}}}})
	if err != nil {
		return err
	}
	if len(rts.RouteTables) == 0 {
		return fmt.Errorf("VPC %s has no route table", w.VpcID)
	}
	_, err = c.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: aws.String(w.VpcID),
		ServiceName:     aws.String("com.amazonaws." + mototest.Region + ".s3"),
		VpcEndpointType: ec2types.VpcEndpointTypeGateway, RouteTableIds: []string{aws.ToString(rts.RouteTables[0].RouteTableId)}})
	return err
}
