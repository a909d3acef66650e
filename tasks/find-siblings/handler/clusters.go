package handler

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/tasks/contract"
)

// clusterWorkers is how many clusters are listed and described at once.
// Each cluster is a ListTasks and a DescribeTasks after it; one cluster
// after another made a scan of the account as long as the sum of those
// round trips (the deadline under throttling, in make stress). The
// results are merged in cluster order, so the scan sees the same tasks,
// within the same maxTasks, as one cluster at a time would.
const clusterWorkers = 4

// clusterScan is one cluster's part of the scan.
type clusterScan struct {
	arns     []string        // listed (desired RUNNING), at most the budget
	over     bool            // the cluster had more than the budget
	late     bool            // the deadline margin stopped the listing or describing
	tasks    []ecstypes.Task // described, in the cluster and still meant to run
	failures []string
	err      error
}

// scanWindow scans clusters at once, each within budget tasks.
func (s *scan) scanWindow(ctx context.Context, clusters []string, budget int) []clusterScan {
	out := make([]clusterScan, len(clusters))
	var wg sync.WaitGroup
	for i, c := range clusters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = scanCluster(ctx, s.ecs, c, budget)
		}()
	}
	wg.Wait()
	return out
}

// merge adds a cluster's tasks to the scan in listing order, within what
// is left of maxTasks, and starts their role look-ups. It reports whether
// the scan must stop (maxTasks or the deadline).
func (s *scan) merge(r clusterScan) bool {
	left := s.maxTasks - len(s.tasks)
	keep := map[string]bool{}
	n := 0
	for _, a := range r.arns {
		if s.seen[a] || keep[a] {
			continue
		}
		if n == left {
			s.stoppedBy = stopMaxTasks
			break
		}
		keep[a] = true
		n++
	}
	if n == left && r.over {
		s.stoppedBy = stopMaxTasks
	}
	s.failures = append(s.failures, r.failures...)
	for _, t := range r.tasks {
		arn := aws.ToString(t.TaskArn)
		if !keep[arn] || s.seen[arn] {
			continue
		}
		s.seen[arn] = true
		s.tasks = append(s.tasks, t)
		if s.wantRoles && !overridden(t) {
			s.roles.want(aws.ToString(t.TaskDefinitionArn))
		}
	}
	if r.late && s.stoppedBy == "" {
		s.stoppedBy = stopDeadline
	}
	return s.stoppedBy != ""
}

// nearDeadline reports whether the handler's deadline is within the margin.
func nearDeadline(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return ok && time.Until(dl) < deadlineMargin
}

// scanCluster lists the cluster's tasks whose desired status is RUNNING
// (those starting count: they are about to run), up to budget, and
// describes them in batches.
func scanCluster(ctx context.Context, api ecsAPI, cluster string, budget int) (r clusterScan) {
	var token *string
	for {
		page, err := api.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(cluster), DesiredStatus: ecstypes.DesiredStatusRunning,
			MaxResults: aws.Int32(pageSize), NextToken: token})
		if err != nil {
			r.err = contract.AWSError("ecs:ListTasks "+cluster, err)
			return r
		}
		for _, a := range page.TaskArns {
			if len(r.arns) == budget {
				r.over = true
				break
			}
			r.arns = append(r.arns, a)
		}
		next := aws.ToString(page.NextToken)
		if r.over || next == "" || next == aws.ToString(token) {
			break
		}
		if len(r.arns) == budget {
			r.over = true
			break
		}
		if nearDeadline(ctx) {
			r.late = true
			break
		}
		token = page.NextToken
	}
	r.describe(ctx, api, cluster)
	return r
}

// describe describes the listed tasks in batches and keeps those of the
// cluster still meant to run. ListTasks only returns the cluster's tasks
// in AWS; moto 5.2.5 matches the cluster name as a substring and describes
// tasks of any cluster, so the cluster is checked here too.
func (r *clusterScan) describe(ctx context.Context, api ecsAPI, cluster string) {
	for i := 0; i < len(r.arns); i += describeBatch {
		batch := r.arns[i:min(i+describeBatch, len(r.arns))]
		// Tags come back only when include names TAGS
		// (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeTasks.html,
		// "include"): the playbook's exclude: is matched on them. They
		// are part of DescribeTasks' answer, authorized by
		// ecs:DescribeTasks (Service Authorization Reference, Amazon ECS:
		// ecs:ListTagsForResource authorizes only the ListTagsForResource
		// call); resolve-target and capture-task-metadata read tags so.
		out, err := api.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: batch,
			Include: []ecstypes.TaskField{ecstypes.TaskFieldTags}})
		if err != nil {
			r.err = contract.AWSError("ecs:DescribeTasks "+cluster, err)
			return
		}
		for _, f := range out.Failures {
			r.failures = append(r.failures, aws.ToString(f.Arn)+": "+aws.ToString(f.Reason))
		}
		for _, t := range out.Tasks {
			if !inCluster(aws.ToString(t.ClusterArn), cluster) || aws.ToString(t.DesiredStatus) == "STOPPED" {
				continue
			}
			r.tasks = append(r.tasks, t)
		}
		if i+describeBatch < len(r.arns) && nearDeadline(ctx) {
			// Listed but not described: not in the scan.
			r.arns, r.late = r.arns[:i+describeBatch], true
			return
		}
	}
}
