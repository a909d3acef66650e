package ecsref

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
)

// DescribeTasksAPI is the one ECS call Describe makes.
type DescribeTasksAPI interface {
	DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, opts ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error)
}

// Describe describes the target again for what the payload lacks: the
// digests of containers resolve-target saw before their image was pulled
// (Refresh), the task definition and the container instance. A task ECS no
// longer knows keeps the payload's. find-siblings and pin-service both
// call it, so they read the compromised task the same way.
func Describe(ctx context.Context, api DescribeTasksAPI, cluster string, target *incident.Target) error {
	in := &ecs.DescribeTasksInput{Tasks: []string{target.TaskArn}}
	if cluster != "" {
		in.Cluster = aws.String(cluster)
	}
	out, err := api.DescribeTasks(ctx, in)
	if err != nil {
		return contract.AWSError("ecs:DescribeTasks "+target.TaskArn, err)
	}
	for _, t := range out.Tasks {
		if aws.ToString(t.TaskArn) != target.TaskArn {
			continue
		}
		Refresh(target, t)
		if target.TaskDefinitionArn == "" {
			target.TaskDefinitionArn = aws.ToString(t.TaskDefinitionArn)
		}
		if target.ContainerInstanceArn == "" {
			target.ContainerInstanceArn = aws.ToString(t.ContainerInstanceArn)
		}
	}
	return nil
}
