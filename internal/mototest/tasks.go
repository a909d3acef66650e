package mototest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// seedTasks registers a Fargate (awsvpc) and an EC2 (bridge) task definition,
// creates a Fargate service and runs one task of each, then writes log events
// to each task's awslogs stream.
func (w *World) seedTasks(ctx context.Context) error {
	c := ecs.NewFromConfig(w.Cfg)
	logCfg := func(prefix string) *ecstypes.LogConfiguration {
		return &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs, Options: map[string]string{
			"awslogs-group": w.LogGroup, "awslogs-region": Region, "awslogs-stream-prefix": prefix}}
	}
	fdef, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(Unique("payments-api")), NetworkMode: ecstypes.NetworkModeAwsvpc,
		RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
		Cpu:                     aws.String("256"), Memory: aws.String("512"), TaskRoleArn: aws.String(w.TaskRoleArn),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("api"),
			Image: aws.String("111122223333.dkr.ecr.us-east-1.amazonaws.com/payments-api:1.4.2"), Essential: aws.Bool(true),
			Memory: aws.Int32(512), Cpu: 256, LogConfiguration: logCfg("api")}},
	})
	if err != nil {
		return fmt.Errorf("fargate task definition: %w", err)
	}
	w.FargateTaskDef = aws.ToString(fdef.TaskDefinition.TaskDefinitionArn)
	edef, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(Unique("report-worker")), NetworkMode: ecstypes.NetworkModeBridge,
		RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityEc2}, TaskRoleArn: aws.String(w.TaskRoleArn),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("worker"),
			Image: aws.String("111122223333.dkr.ecr.us-east-1.amazonaws.com/report-worker:2.0.1"), Essential: aws.Bool(true),
			Memory: aws.Int32(512), Cpu: 256, LogConfiguration: logCfg("worker")}},
	})
	if err != nil {
		return fmt.Errorf("ec2 task definition: %w", err)
	}
	w.EC2Def = aws.ToString(edef.TaskDefinition.TaskDefinitionArn)

	netCfg := &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
		Subnets: []string{w.SubnetID}, SecurityGroups: []string{w.AppSG}}}
	w.ServiceName = Unique("payments-api")
	if _, err := c.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String(w.ClusterName), ServiceName: aws.String(w.ServiceName), TaskDefinition: aws.String(w.FargateTaskDef),
		DesiredCount: aws.Int32(1), LaunchType: ecstypes.LaunchTypeFargate, NetworkConfiguration: netCfg,
	}); err != nil {
		return fmt.Errorf("service: %w", err)
	}
	ft, err := c.RunTask(ctx, &ecs.RunTaskInput{
		Cluster: aws.String(w.ClusterName), TaskDefinition: aws.String(w.FargateTaskDef), LaunchType: ecstypes.LaunchTypeFargate,
		NetworkConfiguration: netCfg, Group: aws.String("service:" + w.ServiceName), StartedBy: aws.String("ecs-svc/1234567890"),
	})
	if err != nil {
		return fmt.Errorf("run fargate task: %w", err)
	}
	if len(ft.Tasks) != 1 {
		return fmt.Errorf("run fargate task: %d tasks, failures %v", len(ft.Tasks), ft.Failures)
	}
	w.FargateTaskArn = aws.ToString(ft.Tasks[0].TaskArn)
	for _, a := range ft.Tasks[0].Attachments {
		for _, d := range a.Details {
			if aws.ToString(d.Name) == "networkInterfaceId" {
				w.FargateENI = aws.ToString(d.Value)
			}
		}
	}
	et, err := c.RunTask(ctx, &ecs.RunTaskInput{
		Cluster: aws.String(w.ClusterName), TaskDefinition: aws.String(w.EC2Def), LaunchType: ecstypes.LaunchTypeEc2,
	})
	if err != nil {
		return fmt.Errorf("run ec2 task: %w", err)
	}
	if len(et.Tasks) != 1 {
		return fmt.Errorf("run ec2 task: %d tasks, failures %v", len(et.Tasks), et.Failures)
	}
	w.EC2TaskArn = aws.ToString(et.Tasks[0].TaskArn)

	logs := cloudwatchlogs.NewFromConfig(w.Cfg)
	now := time.Now()
	for _, s := range []struct{ prefix, container, task string }{{"api", "api", w.FargateTaskArn}, {"worker", "worker", w.EC2TaskArn}} {
		stream := s.prefix + "/" + s.container + "/" + taskID(s.task)
		if _, err := logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(w.LogGroup), LogStreamName: aws.String(stream)}); err != nil && !resent(err, "ResourceAlreadyExistsException") {
			return err
		}
		var events []cwltypes.InputLogEvent
		for i, msg := range []string{"starting " + s.container, "connecting to pool.minexmr.example:4444", "GET /health 200", "child process spawned: /tmp/.cache/xmrig"} {
			events = append(events, cwltypes.InputLogEvent{Message: aws.String(msg), Timestamp: aws.Int64(now.Add(time.Duration(i-10) * time.Minute).UnixMilli())})
		}
		if _, err := logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(w.LogGroup), LogStreamName: aws.String(stream), LogEvents: events}); err != nil {
			return err
		}
	}
	return nil
}

func taskID(arn string) string { return arn[strings.LastIndexByte(arn, '/')+1:] }
