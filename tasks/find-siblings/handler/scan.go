package handler

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/tasks/contract"
)

// Page sizes of the ECS API: ListClusters and ListTasks return at most 100
// per call and DescribeTasks takes at most 100 tasks
// (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListClusters.html,
// .../API_ListTasks.html, .../API_DescribeTasks.html).
const (
	pageSize      = 100
	describeBatch = 100
	// maxClusters bounds a scan of every cluster (the default quota is
	// 10,000 clusters per Region); a scan that meets it is incomplete.
	maxClusters = 1000
	// deadlineMargin is the time kept, before the handler's deadline, to
	// store the evidence: a scan running into it stops and says so rather
	// than fail and be retried from the start.
	deadlineMargin = 5 * time.Second
)

// Why a scan stopped before it saw every running task in scope.
const (
	stopMaxTasks    = "maxTasks"
	stopMaxClusters = "maxClusters"
	stopDeadline    = "deadline"
)

// scan is one pass over the running tasks of the account and region.
type scan struct {
	ecs       ecsAPI
	maxTasks  int
	wantRoles bool

	clusters  []string        // scanned, in order
	tasks     []ecstypes.Task // described, desired status RUNNING, unique
	seen      map[string]bool
	roles     *roleLookup
	failures  []string
	stoppedBy string
}

// run lists the clusters (or takes the given ones) and describes their
// running tasks until maxTasks, maxClusters or the deadline. Of every
// cluster, the target's is scanned first: its tasks share the target's
// container instance, and they are the likeliest siblings.
func (s *scan) run(ctx context.Context, given []string, targetCluster string) error {
	s.seen, s.roles = map[string]bool{}, newRoleLookup(ctx, s.ecs)
	if err := s.tasksOf(ctx, given, targetCluster); err != nil {
		s.roles.cancel()
		s.roles.wait() //nolint:errcheck // the scan's own error is the call's
		return err
	}
	if err := s.roles.wait(); err != nil {
		return err
	}
	if len(s.roles.missed) > 0 && s.stoppedBy == "" {
		s.stoppedBy = stopDeadline
	}
	return nil
}

// tasksOf describes the running tasks of the clusters, and starts the
// look-up of their task definitions' roles as it goes.
func (s *scan) tasksOf(ctx context.Context, given []string, targetCluster string) error {
	clusters, capped := given, false
	if len(clusters) == 0 {
		var err error
		if clusters, capped, err = s.listClusters(ctx); err != nil {
			return err
		}
		sort.SliceStable(clusters, func(i, j int) bool {
			return inCluster(targetCluster, clusters[i]) && !inCluster(targetCluster, clusters[j])
		})
	}
	for _, c := range clusters {
		if s.stoppedBy != "" || s.late(ctx) {
			return nil
		}
		s.clusters = append(s.clusters, c)
		arns, err := s.listTasks(ctx, c)
		if err != nil {
			return err
		}
		if err := s.describe(ctx, c, arns); err != nil {
			return err
		}
	}
	if capped && s.stoppedBy == "" {
		s.stoppedBy = stopMaxClusters
	}
	return nil
}

// late reports (and records) that the handler's deadline is near.
func (s *scan) late(ctx context.Context) bool {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < deadlineMargin {
		s.stoppedBy = stopDeadline
		return true
	}
	return false
}

// listClusters returns the account's clusters in the Region, the first
// maxClusters of them (capped says there were more).
func (s *scan) listClusters(ctx context.Context) (clusters []string, capped bool, err error) {
	var token *string
	for {
		page, err := s.ecs.ListClusters(ctx, &ecs.ListClustersInput{MaxResults: aws.Int32(pageSize), NextToken: token})
		if err != nil {
			return nil, false, contract.AWSError("ecs:ListClusters", err)
		}
		clusters = append(clusters, page.ClusterArns...)
		next := aws.ToString(page.NextToken)
		if len(clusters) > maxClusters || len(clusters) == maxClusters && next != "" {
			clusters, capped, next = clusters[:maxClusters], true, ""
		}
		if next == "" || next == aws.ToString(token) {
			sort.Strings(clusters)
			return clusters, capped, nil
		}
		token = page.NextToken
	}
}

// listTasks returns the ARNs of the cluster's tasks whose desired status
// is RUNNING (those starting count: they are about to run), up to what is
// left of maxTasks.
func (s *scan) listTasks(ctx context.Context, cluster string) ([]string, error) {
	left := s.maxTasks - len(s.tasks)
	var arns []string
	var token *string
	for {
		page, err := s.ecs.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(cluster), DesiredStatus: ecstypes.DesiredStatusRunning,
			MaxResults: aws.Int32(pageSize), NextToken: token})
		if err != nil {
			return nil, contract.AWSError("ecs:ListTasks "+cluster, err)
		}
		for _, a := range page.TaskArns {
			if s.seen[a] {
				continue
			}
			if len(arns) == left {
				s.stoppedBy = stopMaxTasks
				return arns, nil
			}
			arns = append(arns, a)
		}
		next := aws.ToString(page.NextToken)
		if next == "" || next == aws.ToString(token) {
			return arns, nil
		}
		if len(arns) == left {
			s.stoppedBy = stopMaxTasks
			return arns, nil
		}
		if s.late(ctx) {
			return arns, nil
		}
		token = page.NextToken
	}
}

// describe describes arns in batches and keeps the tasks of the cluster
// still meant to run. ListTasks only returns the cluster's tasks in AWS;
// moto 5.2.5 matches the cluster name as a substring and describes tasks
// of any cluster, so the cluster is checked here too.
func (s *scan) describe(ctx context.Context, cluster string, arns []string) error {
	for i := 0; i < len(arns); i += describeBatch {
		batch := arns[i:min(i+describeBatch, len(arns))]
		out, err := s.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: batch})
		if err != nil {
			return contract.AWSError("ecs:DescribeTasks "+cluster, err)
		}
		for _, f := range out.Failures {
			s.failures = append(s.failures, aws.ToString(f.Arn)+": "+aws.ToString(f.Reason))
		}
		for _, t := range out.Tasks {
			arn := aws.ToString(t.TaskArn)
			if s.seen[arn] || !inCluster(aws.ToString(t.ClusterArn), cluster) || aws.ToString(t.DesiredStatus) == "STOPPED" {
				continue
			}
			s.seen[arn] = true
			s.tasks = append(s.tasks, t)
			if s.wantRoles && !overridden(t) {
				s.roles.want(aws.ToString(t.TaskDefinitionArn))
			}
		}
		if s.late(ctx) {
			return nil
		}
	}
	return nil
}

// overridden reports whether RunTask gave the task a role of its own
// (overrides.taskRoleArn), so its definition's does not matter.
func overridden(t ecstypes.Task) bool {
	return t.Overrides != nil && aws.ToString(t.Overrides.TaskRoleArn) != ""
}

// taskRole is the role a task's containers get: RunTask's override, else
// its definition's; known is false when the definition was not described
// (the deadline margin came first, or the target has no role to compare).
func (s *scan) taskRole(t ecstypes.Task) (role string, known bool) {
	if overridden(t) {
		return aws.ToString(t.Overrides.TaskRoleArn), true
	}
	if s.roles == nil {
		return "", false
	}
	return s.roles.role(aws.ToString(t.TaskDefinitionArn))
}

// inCluster reports whether a task's cluster ARN is the cluster named by
// ref (an ARN or a name).
func inCluster(clusterArn, ref string) bool {
	return clusterArn == ref || strings.HasSuffix(clusterArn, ":cluster/"+ref)
}
