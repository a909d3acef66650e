package handler

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/ledger"
	"github.com/irflow/irflow/tasks/taskrt"
)

// Handler isolates the target's network. Its EC2 fields are the narrow
// interfaces it uses (one *ec2.Client satisfies them all); Ledger records
// every change before it is made.
type Handler struct {
	ENIs      eniAPI
	Groups    groupAPI
	Endpoints endpointAPI
	NACLs     naclAPI
	Ledger    ledgerAPI
	Now       func() time.Time
}

// ledgerAPI appends to a case's containment ledger (*ledger.Store).
type ledgerAPI interface {
	Append(ctx context.Context, caseID string, entries ...ledger.Entry) (*ledger.Ledger, error)
}

// New builds the handler from the process's AWS config.
func New(cfg aws.Config, env taskrt.Env) taskrt.HandlerFunc {
	c := ec2.NewFromConfig(cfg)
	h := &Handler{ENIs: c, Groups: c, Endpoints: c, NACLs: c, Ledger: ledger.NewStore(env.Home(cfg), env.IncidentsTable), Now: time.Now}
	return h.Handle
}

// params are the step's with: (tasks/catalog/params/isolate-network.json).
type params struct {
	AllowSsm            *bool   `json:"allowSsm"`
	QuarantineGroupName *string `json:"quarantineGroupName"`
	NACLRuleQuota       *int    `json:"naclRuleQuota"`
}

const (
	defaultGroupName = "irflow-quarantine"
	// defaultNACLQuota is AWS's default quota of rules per network ACL, per
	// direction, enforced apart for IPv4 and IPv6, the default deny rule
	// included ("Rules per network ACL: 20 ... This is the one-way quota for
	// a single network ACL ... enforced separately for IPv4 rules and IPv6
	// rules", Amazon VPC quotas —
	// https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html).
	// An account may raise it to 40.
	defaultNACLQuota = 20
)

var groupNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,200}$`)

// Scopes of an isolation.
const (
	scopeTask     = "task"     // awsvpc: the task's own ENIs
	scopeInstance = "instance" // bridge/host: every ENI of the instance
)

// plan is everything the run will do, decided before anything changes.
type plan struct {
	scope, mode, instanceID, launchType string
	// prefetched are the network ACLs read with the ENIs, by VPC.
	prefetched map[string][]ec2types.NetworkAcl
	// ledger is the case's containment ledger as last read or written
	// (nil: read it when writing).
	ledger   *ledger.Ledger
	allowSsm bool
	enis     []*eniPlan
	// groups are the quarantine groups (one per VPC), transit the
	// all-traffic groups the ENIs pass through; both only for instance ENIs.
	groups, transit []*groupPlan
	nacl            []*naclEntry
	ssmFallback     []ssmFallback
	ecsEndpoints    map[string][]string // VPC -> ECS endpoint services found
	residuals       []residual
}

// Handle isolates the task (awsvpc: network ACL entries) or its instance
// (bridge/host: a security-group swap through an all-traffic group).
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
	quota := defaultNACLQuota
	if prm.NACLRuleQuota != nil {
		quota = *prm.NACLRuleQuota
	}
	if quota < 2 || quota > 40 {
		return nil, &contract.InvalidInputError{Field: "with.naclRuleQuota", Reason: "must be 2 to 40 (AWS's default is 20, raisable to 40)"}
	}
	if p.Target == nil {
		return nil, &contract.InvalidInputError{Field: "target", Reason: "isolate-network needs the resolved target"}
	}
	mode, scope := scopeOf(p.Target)
	if scope == "" {
		return contract.Skipped("network mode "+mode+": the task has no network interface to isolate").
			With("networkMode", mode).With("isolation", isolationNone).With("residuals", []residual{}), nil
	}
	// An awsvpc task's network ACLs are read while its ENIs are: the
	// target names their VPC, and both reads come before any change (one
	// round trip less on the way to containment). planNACL reads again a
	// VPC this did not read.
	acls := map[string][]ec2types.NetworkAcl{}
	var wg sync.WaitGroup
	if vpc := targetVPC(p.Target); scope == scopeTask && vpc != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if got, err := h.vpcACLs(ctx, vpc); err == nil {
				acls[vpc] = got
			}
		}()
	}
	// The case's ledger too: the first write to it then goes on this
	// version without reading it again (ledger.Store.AppendOn).
	var read *ledger.Ledger
	if lr, ok := h.Ledger.(ledgerOn); ok && !p.DryRun() && p.CaseID() != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			read, _ = lr.Read(ctx, p.CaseID()) // on an error the write reads it
		}()
	}
	nis, err := h.loadENIs(ctx, p.Target, scope)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	pl := &plan{scope: scope, mode: mode, launchType: p.Target.LaunchType, allowSsm: allowSsm, ecsEndpoints: map[string][]string{},
		prefetched: acls, ledger: read}
	if scope == scopeInstance {
		pl.instanceID = p.Target.InstanceID
	}
	if err := h.planAll(ctx, p, pl, nis, name, quota); err != nil {
		return nil, err
	}
	pl.residuals = residuals(pl, nis)
	if p.DryRun() {
		return outputs(contract.DryRun("would "+summary(pl, true)), pl), nil
	}
	if err := h.apply(ctx, p, pl); err != nil {
		return nil, err
	}
	return outputs(contract.OK(summary(pl, false)), pl), nil
}

// targetVPC is the VPC of the target's ENIs as resolve-target saw them, or
// "" when they name none or several.
func targetVPC(t *incident.Target) string {
	vpc := t.VpcID
	for _, e := range t.ENIs {
		switch {
		case e.VpcID == "":
		case vpc == "":
			vpc = e.VpcID
		case e.VpcID != vpc:
			return ""
		}
	}
	return vpc
}

// planAll plans the network ACL entries of the ECS-managed ENIs and the
// group swaps of the others, reading only: a dry run and a failing
// precondition (a network ACL with no room) change nothing.
func (h *Handler) planAll(ctx context.Context, p *contract.Payload, pl *plan, nis []eniInfo, name string, quota int) error {
	var naclENIs, swapENIs []eniInfo
	for _, ni := range nis {
		switch ni.treatment {
		case treatNACL:
			naclENIs = append(naclENIs, ni)
		case treatGroups:
			swapENIs = append(swapENIs, ni)
		}
	}
	if len(naclENIs) > 0 {
		entries, err := h.planNACL(ctx, p.Target.TaskArn, naclENIs, quota, pl.prefetched)
		if err != nil {
			return err
		}
		pl.nacl = entries
	}
	if len(swapENIs) > 0 {
		if err := h.planSwap(ctx, p, pl, swapENIs, name); err != nil {
			return err
		}
	}
	for _, ni := range nis {
		if ni.treatment != treatGroups {
			pl.enis = append(pl.enis, ni.untouchedPlan())
		}
	}
	sortENIs(pl.enis)
	return nil
}

// apply makes the planned changes, each recorded in the ledger first:
// network ACL entries (they end established flows at once), then the
// groups and each instance ENI's swap.
func (h *Handler) apply(ctx context.Context, p *contract.Payload, pl *plan) error {
	if err := h.recordNACL(ctx, p, pl); err != nil {
		return err
	}
	if err := h.addNACLEntries(ctx, pl.nacl); err != nil {
		return err
	}
	if len(pl.groups) == 0 {
		return nil
	}
	// Every group is made ready at once (each VPC's quarantine and transit
	// group are independent), then the originals are recorded (ledger and
	// ENI tags together), then each ENI moves (ENIs at once, each through
	// its transit group first).
	all := append(append([]*groupPlan{}, pl.groups...), pl.transit...)
	if err := each(len(all), func(i int) error { return h.ensureGroup(ctx, all[i]) }); err != nil {
		return err
	}
	byVPC := map[string]string{}
	transit := map[string]string{}
	for _, gp := range pl.groups {
		byVPC[gp.VpcID] = gp.GroupID
	}
	for _, gp := range pl.transit {
		transit[gp.VpcID] = gp.GroupID
	}
	var swaps []*eniPlan
	for _, ep := range pl.enis {
		if ep.Treatment == treatGroups {
			swaps = append(swaps, ep)
		}
	}
	err := each(len(swaps)+1, func(i int) error {
		if i == len(swaps) {
			return h.recordSwaps(ctx, p, pl)
		}
		return h.tagPrevious(ctx, swaps[i], byVPC[swaps[i].VpcID])
	})
	if err != nil {
		return err
	}
	return each(len(swaps), func(i int) error {
		return h.isolate(ctx, swaps[i], transit[swaps[i].VpcID], byVPC[swaps[i].VpcID])
	})
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

// outputs put the isolation contract (what is cut, what is not and why)
// and what it takes to undo it into the result.
func outputs(r *contract.Result, pl *plan) *contract.Result {
	r.With("isolation", level(pl)).With("residuals", pl.residuals).
		With("scope", pl.scope).With("networkMode", pl.mode).With("allowSsm", pl.allowSsm).
		With("enis", pl.enis).With("naclEntries", nonNilEntries(pl.nacl))
	if len(pl.groups) > 0 {
		r.With("quarantineGroups", pl.groups).With("transitGroups", pl.transit)
	}
	if len(pl.ssmFallback) > 0 {
		r.With("ssmFallback", pl.ssmFallback)
	}
	if pl.instanceID != "" {
		r.With("instanceId", pl.instanceID)
	}
	return r
}

func nonNilEntries(es []*naclEntry) []*naclEntry {
	if es == nil {
		return []*naclEntry{}
	}
	return es
}
