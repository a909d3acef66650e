package handler

import (
	"context"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/taskrt"
)

// Handler isolates the target's network. Its fields are the narrow EC2
// interfaces it uses; one *ec2.Client satisfies all three.
type Handler struct {
	ENIs      eniAPI
	Groups    groupAPI
	Endpoints endpointAPI
}

// New builds the handler from the process's AWS config.
func New(cfg aws.Config, _ taskrt.Env) taskrt.HandlerFunc {
	c := ec2.NewFromConfig(cfg)
	h := &Handler{ENIs: c, Groups: c, Endpoints: c}
	return h.Handle
}

// params are the step's with: (tasks/catalog/params/isolate-network.json).
type params struct {
	AllowSsm            *bool   `json:"allowSsm"`
	QuarantineGroupName *string `json:"quarantineGroupName"`
}

const defaultGroupName = "irflow-quarantine"

var groupNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,200}$`)

// Scopes of an isolation.
const (
	scopeTask     = "task"     // awsvpc: the task's own ENIs
	scopeInstance = "instance" // bridge/host: every ENI of the instance
)

// plan is everything the run will do, decided before anything changes.
type plan struct {
	scope, mode, instanceID string
	allowSsm                bool
	groups                  []*groupPlan // one per VPC, by VPC id
	enis                    []*eniPlan
}

// Handle isolates the task (awsvpc) or its instance (bridge/host).
func (h *Handler) Handle(ctx context.Context, p *contract.Payload) (*contract.Result, error) {
	var prm params
	if err := p.DecodeWith(&prm); err != nil {
		return nil, err
	}
	allowSsm := prm.AllowSsm != nil && *prm.AllowSsm
	name := defaultGroupName
	if prm.QuarantineGroupName != nil {
		name = *prm.QuarantineGroupName
	}
	if !groupNameRE.MatchString(name) || strings.HasPrefix(strings.ToLower(name), "sg-") {
		return nil, &contract.InvalidInputError{Field: "with.quarantineGroupName", Reason: "must be 1 to 200 of A-Z a-z 0-9 _ . - and not start with sg-"}
	}
	if p.Target == nil {
		return nil, &contract.InvalidInputError{Field: "target", Reason: "isolate-network needs the resolved target"}
	}
	mode, scope := scopeOf(p.Target)
	if scope == "" {
		return contract.Skipped("network mode "+mode+": the task has no network interface to isolate").
			With("networkMode", mode), nil
	}
	nis, err := h.loadENIs(ctx, p.Target, scope)
	if err != nil {
		return nil, err
	}
	pl, err := h.plan(ctx, p, nis, name, allowSsm, scope, mode)
	if err != nil {
		return nil, err
	}
	if p.DryRun() {
		return outputs(contract.DryRun("would "+summary(pl, true)), pl), nil
	}
	variant := variantOf(allowSsm)
	byVPC := map[string]*groupPlan{}
	for _, gp := range pl.groups {
		if err := h.ensureGroup(ctx, gp, variant); err != nil {
			return nil, err
		}
		byVPC[gp.VpcID] = gp
	}
	for _, ep := range pl.enis {
		if err := h.isolate(ctx, ep, byVPC[ep.VpcID].GroupID); err != nil {
			return nil, err
		}
	}
	return outputs(contract.OK(summary(pl, false)), pl), nil
}

// scopeOf maps the network mode to what isolation acts on ("" for none).
// An unreported mode is awsvpc on Fargate and bridge (ECS's default) on EC2.
func scopeOf(t *incident.Target) (mode, scope string) {
	mode = t.NetworkMode
	if mode == "" {
		mode = "bridge"
		if t.LaunchType == "FARGATE" {
			mode = "awsvpc"
		}
	}
	switch mode {
	case "awsvpc":
		return mode, scopeTask
	case "bridge", "host":
		return mode, scopeInstance
	}
	return mode, ""
}

func variantOf(allowSsm bool) string {
	if allowSsm {
		return "allow-ssm"
	}
	return "deny-all"
}

// plan finds or designs each VPC's quarantine group and decides every ENI's
// previous groups. It only reads, so a dry run and a failing precondition
// (allowSsm without endpoints) change nothing.
func (h *Handler) plan(ctx context.Context, p *contract.Payload, nis []ec2types.NetworkInterface, base string, allowSsm bool, scope, mode string) (*plan, error) {
	pl := &plan{scope: scope, mode: mode, allowSsm: allowSsm}
	if scope == scopeInstance {
		pl.instanceID = p.Target.InstanceID
	}
	name := base
	if allowSsm {
		name = base + "-ssm"
	}
	vpcs := map[string]*groupPlan{}
	for _, ni := range nis {
		vpc := aws.ToString(ni.VpcId)
		if _, ok := vpcs[vpc]; ok {
			continue
		}
		var want []rule
		s3 := ""
		if allowSsm {
			eg, err := h.ssmRules(ctx, vpc, regionOf(p))
			if err != nil {
				return nil, err
			}
			want, s3 = eg.Rules, eg.S3
		}
		gp, err := h.planGroup(ctx, vpc, name, want)
		if err != nil {
			return nil, err
		}
		gp.S3 = s3
		vpcs[vpc] = gp
		pl.groups = append(pl.groups, gp)
	}
	sort.Slice(pl.groups, func(i, j int) bool { return pl.groups[i].VpcID < pl.groups[j].VpcID })
	isQuarantine := func(g ec2types.GroupIdentifier) bool {
		n := aws.ToString(g.GroupName)
		return n == base || n == base+"-ssm"
	}
	for _, ni := range nis {
		gp := vpcs[aws.ToString(ni.VpcId)]
		q := gp.GroupID
		if q == "" {
			q = gp.GroupName // not created yet: named in a dry run's outputs
		}
		pl.enis = append(pl.enis, planENI(ni, q, isQuarantine))
	}
	return pl, nil
}

// regionOf is the incident's region, or the one in the task ARN.
func regionOf(p *contract.Payload) string {
	if p.Incident != nil && p.Incident.Region != "" {
		return p.Incident.Region
	}
	if p.Target != nil {
		if parts := strings.Split(p.Target.TaskArn, ":"); len(parts) > 3 {
			return parts[3]
		}
	}
	return ""
}

// outputs puts what it takes to undo the isolation into the result.
func outputs(r *contract.Result, pl *plan) *contract.Result {
	r.With("scope", pl.scope).With("networkMode", pl.mode).With("allowSsm", pl.allowSsm).
		With("quarantineGroups", pl.groups).With("enis", pl.enis)
	if pl.instanceID != "" {
		r.With("instanceId", pl.instanceID)
	}
	return r
}
