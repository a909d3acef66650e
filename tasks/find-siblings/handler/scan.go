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
	// host: the target is a container instance (a host finding), not a
	// task: only sameInstance applies.
	host bool

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
	for start := 0; start < len(clusters); start += clusterWorkers {
		if s.stoppedBy != "" || s.late(ctx) {
			return nil
		}
		window := clusters[start:min(start+clusterWorkers, len(clusters))]
		for i, r := range s.scanWindow(ctx, window, s.maxTasks-len(s.tasks)) {
			s.clusters = append(s.clusters, window[i])
			if r.err != nil {
				return r.err
			}
			if s.merge(r) {
				return nil
			}
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
