package handler

import (
	"context"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
)

// hostECS is what a host finding (resource type Instance) needs of ECS
// besides ecsAPI: find the container instance of an EC2 instance and list
// the tasks running on it. The SDK's client has both; a test fake may not.
type hostECS interface {
	ListClusters(ctx context.Context, in *ecs.ListClustersInput, opts ...func(*ecs.Options)) (*ecs.ListClustersOutput, error)
	ListContainerInstances(ctx context.Context, in *ecs.ListContainerInstancesInput, opts ...func(*ecs.Options)) (*ecs.ListContainerInstancesOutput, error)
	ListTasks(ctx context.Context, in *ecs.ListTasksInput, opts ...func(*ecs.Options)) (*ecs.ListTasksOutput, error)
}

// Bounds of a host look-up. ListClusters, ListContainerInstances and
// ListTasks return at most 100 per page
// (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListContainerInstances.html);
// DescribeContainerInstances takes at most 100.
const (
	hostPage         = 100
	maxHostClusters  = 1000
	maxHostTaskPages = 10 // 1,000 tasks: more than an instance's ENI and CPU limits let run
)

// describeHost resolves a host finding: the container instance of the
// finding's EC2 instance (in the finding's cluster, else in every cluster
// of the account and region), its EC2 instance, volumes, ENIs and Auto
// Scaling group as for an EC2 task, and the tasks running on it
// (HostTasks). The target names no task: the host is the target. An
// instance registered in no cluster (no ECS agent, or deregistered) is a
// TargetNotFoundError that says so.
func (h *Handler) describeHost(ctx context.Context, inc *incident.Incident) (*incident.Target, error) {
	api, ok := h.ECS.(hostECS)
	if !ok {
		return nil, &contract.PreconditionFailedError{Reason: "the ECS client cannot list container instances (ecs:ListContainerInstances)"}
	}
	clusters := []string{inc.ClusterArn}
	if inc.ClusterArn == "" {
		var err error
		if clusters, err = hostClusters(ctx, api); err != nil {
			return nil, err
		}
	}
	var cluster, ci string
	for _, c := range clusters {
		arn, err := h.containerInstanceOf(ctx, api, c, inc.InstanceID)
		if err != nil {
			return nil, err
		}
		if arn != "" {
			cluster, ci = c, arn
			break
		}
	}
	if ci == "" {
		where := fmt.Sprintf("cluster %s", inc.ClusterArn)
		if inc.ClusterArn == "" {
			where = fmt.Sprintf("any of the %d clusters of account %s in %s", len(clusters), inc.Account, inc.Region)
		}
		return nil, &contract.TargetNotFoundError{Resource: inc.InstanceArn(),
			Reason: fmt.Sprintf("EC2 instance %s is not a container instance of %s: no ECS agent registered it (or it was deregistered), so there are no ECS tasks to respond on", inc.InstanceID, where)}
	}
	tasks, err := hostTasks(ctx, api, cluster, ci)
	if err != nil {
		return nil, err
	}
	hi, err := h.host(ctx, cluster, ci)
	if err != nil {
		return nil, err
	}
	t := &incident.Target{LaunchType: "EC2", ClusterArn: cluster, ContainerInstanceArn: ci, HostTasks: tasks, Containers: []incident.Container{}}
	hi.apply(t) // no network mode: the instance's own ENIs are the target's
	summarizeNetwork(t)
	return t, nil
}

// hostClusters lists the account's clusters in the Region, the first
// maxHostClusters of them.
func hostClusters(ctx context.Context, api hostECS) ([]string, error) {
	var out []string
	var token *string
	for len(out) < maxHostClusters {
		page, err := api.ListClusters(ctx, &ecs.ListClustersInput{MaxResults: aws.Int32(hostPage), NextToken: token})
		if err != nil {
			return nil, contract.AWSError("ecs:ListClusters", err)
		}
		out = append(out, page.ClusterArns...)
		if aws.ToString(page.NextToken) == "" || aws.ToString(page.NextToken) == aws.ToString(token) {
			break
		}
		token = page.NextToken
	}
	return out[:min(len(out), maxHostClusters)], nil
}

// containerInstanceOf returns the ARN of the cluster's container instance
// on EC2 instance id, or "". ListContainerInstances filters with the
// cluster query language (`ec2InstanceId == i-…`,
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cluster-query-language.html);
// the instances it returns are described and checked, since an emulator
// (moto 5.2.5) ignores the filter and lists every instance of the cluster.
func (h *Handler) containerInstanceOf(ctx context.Context, api hostECS, cluster, id string) (string, error) {
	var token *string
	for {
		page, err := api.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String(cluster),
			Filter: aws.String("ec2InstanceId == " + id), MaxResults: aws.Int32(hostPage), NextToken: token})
		if err != nil {
			return "", contract.AWSError("ecs:ListContainerInstances "+cluster, err)
		}
		for i := 0; i < len(page.ContainerInstanceArns); i += hostPage {
			batch := page.ContainerInstanceArns[i:min(i+hostPage, len(page.ContainerInstanceArns))]
			out, err := h.ECS.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String(cluster), ContainerInstances: batch})
			if err != nil {
				return "", contract.AWSError("ecs:DescribeContainerInstances "+cluster, err)
			}
			if arn := matchInstance(out.ContainerInstances, id); arn != "" {
				return arn, nil
			}
		}
		if aws.ToString(page.NextToken) == "" || aws.ToString(page.NextToken) == aws.ToString(token) {
			return "", nil
		}
		token = page.NextToken
	}
}

func matchInstance(cis []ecstypes.ContainerInstance, id string) string {
	for _, ci := range cis {
		if aws.ToString(ci.Ec2InstanceId) == id && aws.ToString(ci.Status) != "INACTIVE" {
			return aws.ToString(ci.ContainerInstanceArn)
		}
	}
	return ""
}

// hostTasks are the ARNs of the tasks meant to run on the container
// instance (desired status RUNNING), sorted.
func hostTasks(ctx context.Context, api hostECS, cluster, ci string) ([]string, error) {
	seen := map[string]bool{}
	out := []string{}
	var token *string
	for range maxHostTaskPages {
		page, err := api.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(cluster), ContainerInstance: aws.String(ci),
			DesiredStatus: ecstypes.DesiredStatusRunning, MaxResults: aws.Int32(hostPage), NextToken: token})
		if err != nil {
			return nil, contract.AWSError("ecs:ListTasks "+ci, err)
		}
		for _, a := range page.TaskArns {
			if !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
		if aws.ToString(page.NextToken) == "" || aws.ToString(page.NextToken) == aws.ToString(token) {
			break
		}
		token = page.NextToken
	}
	sort.Strings(out)
	return out, nil
}
