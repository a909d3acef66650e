package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/ecsref"
	"github.com/irflow/irflow/tasks/ecsservice"
	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/taskrt"
)

// ecsAPI lists and describes the running tasks of the account and region.
type ecsAPI interface {
	ListClusters(ctx context.Context, in *ecs.ListClustersInput, opts ...func(*ecs.Options)) (*ecs.ListClustersOutput, error)
	ListTasks(ctx context.Context, in *ecs.ListTasksInput, opts ...func(*ecs.Options)) (*ecs.ListTasksOutput, error)
	DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, opts ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error)
	DescribeTaskDefinition(ctx context.Context, in *ecs.DescribeTaskDefinitionInput, opts ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
}

// Handler finds the target task's siblings and stores them as evidence.
type Handler struct {
	ECS      ecsAPI
	Evidence *taskrt.EvidenceWriter
}

// New builds the handler from the process's AWS config.
func New(cfg aws.Config, env taskrt.Env) taskrt.HandlerFunc {
	h := &Handler{ECS: ecs.NewFromConfig(cfg), Evidence: taskrt.NewEvidenceWriter(cfg, env)}
	return h.Handle
}

// params are the step's with: (tasks/catalog/params/find-siblings.json).
type params struct {
	MaxTasks   *int     `json:"maxTasks"`
	Clusters   []string `json:"clusters"`
	Containers []string `json:"containers"`
	MaxListed  *int     `json:"maxListed"`
	// ExcludeTaskTags is the playbook's exclude.taskTags, set by the
	// compiler (a playbook cannot write it): a task carrying any one of
	// these tags ("*": any value) is in no list but excluded.
	ExcludeTaskTags incident.Exclusion `json:"excludeTaskTags"`
}

// Defaults and bounds of the parameters (the catalog's schema says the same).
const (
	defaultMaxTasks  = 1000
	maxMaxTasks      = 5000
	defaultMaxListed = 50
	maxMaxListed     = 100
	maxClustersGiven = 100
)

// evidenceName is the file the whole result is stored in.
const evidenceName = "siblings.json"

// Handle scans the running tasks, sorts them into the sibling lists and
// stores the lists as evidence.
func (h *Handler) Handle(ctx context.Context, p *contract.Payload) (*contract.Result, error) {
	prm, err := decode(p)
	if err != nil {
		return nil, err
	}
	host := p.Incident != nil && p.Incident.IsHost()
	if p.Target == nil || p.Target.TaskArn == "" && !host {
		return nil, &contract.InvalidInputError{Field: "target", Reason: "find-siblings needs the resolved target"}
	}
	target := *p.Target
	cluster := ecsservice.Cluster(p)
	var bad *ecsref.Compromised
	if host {
		// A host finding's target is the container instance: no task, so
		// no image, family or role to compare; sameInstance lists the
		// tasks on it (all in its cluster, scanned alone by default).
		if len(prm.Containers) > 0 {
			return nil, &contract.InvalidInputError{Field: "with.containers", Reason: "the target is a container instance (a host finding): it has no containers to name"}
		}
		bad = &ecsref.Compromised{Digests: []string{}, Unknown: []string{}}
		if len(prm.Clusters) == 0 && target.ClusterArn != "" {
			prm.Clusters = []string{target.ClusterArn}
		}
	} else {
		if ecsref.NeedsRefresh(&target, prm.Containers) || target.TaskDefinitionArn == "" {
			if err := ecsref.Describe(ctx, h.ECS, cluster, &target); err != nil {
				return nil, err
			}
		}
		var err error
		if bad, err = ecsref.CompromisedOf(&target, prm.Containers, "with.containers"); err != nil {
			return nil, err
		}
	}
	s := &scan{ecs: h.ECS, maxTasks: *prm.MaxTasks, wantRoles: target.TaskRoleArn != "", host: host}
	if err := s.run(ctx, prm.Clusters, cluster); err != nil {
		return nil, err
	}
	l := sortTasks(&target, bad, s, prm.ExcludeTaskTags)
	doc := l.document(&target, bad, s)
	body, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", evidenceName, err)
	}
	ev, err := h.Evidence.Put(ctx, p.CaseID(), p.Folder(), evidenceName, "application/json", append(body, '\n'))
	if err != nil {
		return nil, err
	}
	return l.result(&target, bad, s, *prm.MaxListed).Add(ev), nil
}

// decode reads and checks the parameters, filling the defaults.
func decode(p *contract.Payload) (*params, error) {
	var prm params
	if err := p.DecodeWith(&prm); err != nil {
		return nil, err
	}
	if prm.MaxTasks == nil {
		prm.MaxTasks = aws.Int(defaultMaxTasks)
	}
	if prm.MaxListed == nil {
		prm.MaxListed = aws.Int(defaultMaxListed)
	}
	switch {
	case *prm.MaxTasks < 1 || *prm.MaxTasks > maxMaxTasks:
		return nil, &contract.InvalidInputError{Field: "with.maxTasks", Reason: fmt.Sprintf("must be 1 to %d", maxMaxTasks)}
	case *prm.MaxListed < 1 || *prm.MaxListed > maxMaxListed:
		return nil, &contract.InvalidInputError{Field: "with.maxListed", Reason: fmt.Sprintf("must be 1 to %d", maxMaxListed)}
	case len(prm.Clusters) > maxClustersGiven:
		return nil, &contract.InvalidInputError{Field: "with.clusters", Reason: fmt.Sprintf("at most %d clusters", maxClustersGiven)}
	}
	for k := range prm.ExcludeTaskTags {
		if strings.TrimSpace(k) == "" {
			return nil, &contract.InvalidInputError{Field: "with.excludeTaskTags", Reason: "an empty tag key"}
		}
	}
	for _, c := range prm.Clusters {
		if strings.TrimSpace(c) == "" {
			return nil, &contract.InvalidInputError{Field: "with.clusters", Reason: "an empty cluster name"}
		}
	}
	return &prm, nil
}
