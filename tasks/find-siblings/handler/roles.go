package handler

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/irflow/irflow/tasks/contract"
)

// roleWorkers bounds the DescribeTaskDefinition calls in flight at once. A
// task's role is the one thing DescribeTasks does not say (the digest is
// containers[].imageDigest and the family is in taskDefinitionArn,
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Task.html),
// so these are the only calls per definition; a few at once keep them off
// the scan's critical path without a burst that ECS's per-account API rate
// (shared with every other action) would throttle.
const roleWorkers = 4

// roleLookup learns the task roles of task definitions while the scan goes
// on: each distinct definition is described at most once per call, at most
// roleWorkers at once, and none after the deadline margin (a definition
// not described by then leaves its tasks' role unknown, and the scan
// incomplete). An error other than the margin's is the call's error.
type roleLookup struct {
	ecs    ecsAPI
	ctx    context.Context // ends at the margin, or at the first error
	cancel context.CancelFunc
	sem    chan struct{}
	wg     sync.WaitGroup

	mu     sync.Mutex
	roles  map[string]string // definition ARN → its task role ("" none)
	asked  map[string]bool
	missed map[string]bool // not described before the margin
	errs   map[string]error
}

func newRoleLookup(ctx context.Context, api ecsAPI) *roleLookup {
	var cancel context.CancelFunc
	if dl, ok := ctx.Deadline(); ok {
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-deadlineMargin))
	} else {
		ctx, cancel = context.WithCancel(ctx)
	}
	return &roleLookup{ecs: api, ctx: ctx, cancel: cancel, sem: make(chan struct{}, roleWorkers),
		roles: map[string]string{}, asked: map[string]bool{}, missed: map[string]bool{}, errs: map[string]error{}}
}

// want starts the look-up of def's role unless it was asked for before.
func (r *roleLookup) want(def string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if def == "" || r.asked[def] {
		return
	}
	r.asked[def] = true
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		select {
		case r.sem <- struct{}{}:
			defer func() { <-r.sem }()
		case <-r.ctx.Done():
		}
		role, err := r.describe(def)
		r.mu.Lock()
		defer r.mu.Unlock()
		switch {
		case err == nil:
			r.roles[def] = role
		case r.ctx.Err() != nil && !errors.Is(r.ctx.Err(), context.Canceled):
			r.missed[def] = true // the margin came first
		case r.ctx.Err() != nil && len(r.errs) > 0:
			r.missed[def] = true // cut short by another definition's error
		default:
			r.errs[def] = err
			r.cancel()
		}
	}()
}

func (r *roleLookup) describe(def string) (string, error) {
	if err := r.ctx.Err(); err != nil {
		return "", err
	}
	out, err := r.ecs.DescribeTaskDefinition(r.ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(def)})
	if err != nil {
		return "", err
	}
	if out.TaskDefinition == nil {
		return "", nil
	}
	return aws.ToString(out.TaskDefinition.TaskRoleArn), nil
}

// wait waits for every look-up started and returns the error of the first
// failed definition (in ARN order, so a retry fails the same way).
func (r *roleLookup) wait() error {
	r.wg.Wait()
	r.cancel()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errs) == 0 {
		return nil
	}
	defs := slices.Sorted(maps.Keys(r.errs))
	return contract.AWSError("ecs:DescribeTaskDefinition "+defs[0], r.errs[defs[0]])
}

// role returns def's task role and whether it is known. Call after wait.
func (r *roleLookup) role(def string) (string, bool) {
	role, ok := r.roles[def]
	return role, ok
}

// missedDefinitions are the definitions the margin left undescribed, sorted.
func (r *roleLookup) missedDefinitions() []string {
	out := make([]string, 0, len(r.missed))
	for d := range r.missed {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}
