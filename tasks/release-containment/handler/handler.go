package handler

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/ledger"
	"github.com/irflow/irflow/tasks/mac"
	"github.com/irflow/irflow/tasks/taskrt"
)

// ec2API reads and restores ENIs, network ACLs, irflow's groups and
// instance attributes.
type ec2API interface {
	DescribeNetworkInterfaces(ctx context.Context, in *ec2.DescribeNetworkInterfacesInput, opts ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error)
	ModifyNetworkInterfaceAttribute(ctx context.Context, in *ec2.ModifyNetworkInterfaceAttributeInput, opts ...func(*ec2.Options)) (*ec2.ModifyNetworkInterfaceAttributeOutput, error)
	DescribeNetworkAcls(ctx context.Context, in *ec2.DescribeNetworkAclsInput, opts ...func(*ec2.Options)) (*ec2.DescribeNetworkAclsOutput, error)
	DeleteNetworkAclEntry(ctx context.Context, in *ec2.DeleteNetworkAclEntryInput, opts ...func(*ec2.Options)) (*ec2.DeleteNetworkAclEntryOutput, error)
	DescribeSecurityGroups(ctx context.Context, in *ec2.DescribeSecurityGroupsInput, opts ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
	DeleteSecurityGroup(ctx context.Context, in *ec2.DeleteSecurityGroupInput, opts ...func(*ec2.Options)) (*ec2.DeleteSecurityGroupOutput, error)
	DescribeInstanceAttribute(ctx context.Context, in *ec2.DescribeInstanceAttributeInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstanceAttributeOutput, error)
	ModifyInstanceAttribute(ctx context.Context, in *ec2.ModifyInstanceAttributeInput, opts ...func(*ec2.Options)) (*ec2.ModifyInstanceAttributeOutput, error)
}

// asgAPI reads an instance's lifecycle state and takes it out of standby.
type asgAPI interface {
	DescribeAutoScalingInstances(ctx context.Context, in *autoscaling.DescribeAutoScalingInstancesInput, opts ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingInstancesOutput, error)
	ExitStandby(ctx context.Context, in *autoscaling.ExitStandbyInput, opts ...func(*autoscaling.Options)) (*autoscaling.ExitStandbyOutput, error)
}

// elbAPI registers targets again.
type elbAPI interface {
	RegisterTargets(ctx context.Context, in *elbv2.RegisterTargetsInput, opts ...func(*elbv2.Options)) (*elbv2.RegisterTargetsOutput, error)
}

// ecsAPI restores container instances and services and reads the stopped task.
type ecsAPI interface {
	DescribeContainerInstances(ctx context.Context, in *ecs.DescribeContainerInstancesInput, opts ...func(*ecs.Options)) (*ecs.DescribeContainerInstancesOutput, error)
	UpdateContainerInstancesState(ctx context.Context, in *ecs.UpdateContainerInstancesStateInput, opts ...func(*ecs.Options)) (*ecs.UpdateContainerInstancesStateOutput, error)
	DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, opts ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	UpdateService(ctx context.Context, in *ecs.UpdateServiceInput, opts ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error)
	DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, opts ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error)
}

// iamAPI reads and rewrites a role's inline policy.
type iamAPI interface {
	GetRolePolicy(ctx context.Context, in *iam.GetRolePolicyInput, opts ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error)
	PutRolePolicy(ctx context.Context, in *iam.PutRolePolicyInput, opts ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error)
	DeleteRolePolicy(ctx context.Context, in *iam.DeleteRolePolicyInput, opts ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error)
}

// ledgerAPI reads a case's containment ledger and stamps what was undone.
type ledgerAPI interface {
	Read(ctx context.Context, caseID string) (*ledger.Ledger, error)
	MarkRemoved(ctx context.Context, caseID, step string, ids ...string) (*ledger.Ledger, error)
}

// Handler releases a case's containment.
type Handler struct {
	EC2    ec2API
	ASG    asgAPI
	ELB    elbAPI
	ECS    ecsAPI
	IAM    iamAPI
	Ledger ledgerAPI
	// Claims, IncidentsTable and MAC serve ModeResolve: the case's claim,
	// and the start API's seal around the release input.
	Claims         claimAPI
	IncidentsTable string
	MAC            *mac.Key
}

// New builds the handler from the process's AWS config.
func New(cfg aws.Config, env taskrt.Env) taskrt.HandlerFunc {
	h := &Handler{EC2: ec2.NewFromConfig(cfg), ASG: autoscaling.NewFromConfig(cfg), ELB: elbv2.NewFromConfig(cfg),
		ECS: ecs.NewFromConfig(cfg), IAM: iam.NewFromConfig(cfg)}
	if env.IncidentsTable != "" {
		// The ledger and the claims are irflow's store: the home account's,
		// whatever account the step acts in (env.Home).
		h.Ledger = ledger.NewStore(env.Home(cfg), env.IncidentsTable)
		h.Claims, h.IncidentsTable = dynamodb.NewFromConfig(env.Home(cfg)), env.IncidentsTable
	}
	h.MAC = taskrt.NewMACKey(cfg, env)
	return h.Handle
}

// params are the step's with: (tasks/catalog/params/release-containment.json).
type params struct {
	Steps []string `json:"steps"`
}

// Release statuses (outputs.releaseStatus).
const (
	Released          = "RELEASED"
	PartiallyReleased = "PARTIALLY_RELEASED"
)

// Outcomes of one ledger entry.
const (
	// OutcomeReleased: the change was undone by this run.
	OutcomeReleased = "released"
	// OutcomeAlready: undone before (by an earlier release, stop-task, or
	// by hand to exactly what irflow would have put back).
	OutcomeAlready = "already-released"
	// OutcomeWould: a dry run found it can be undone.
	OutcomeWould = "would-release"
	// OutcomeRefused: the world moved on; undoing it is not safe. The
	// entry stays in the ledger.
	OutcomeRefused = "refused"
)

// Outcome is one ledger entry's fate (outputs.entries).
type Outcome struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	Step     string `json:"step"`
	Action   string `json:"action"`
	Resource string `json:"resource"`
	Outcome  string `json:"outcome"`
	Reason   string `json:"reason,omitempty"`
}

// refusal is an undo that found the world moved on.
type refusal struct{ reason string }

func (r *refusal) Error() string { return r.reason }

func refuse(format string, a ...any) error { return &refusal{reason: fmt.Sprintf(format, a...)} }

// already says the change is not in place any more: nothing to undo.
type already struct{ reason string }

func (a *already) Error() string { return a.reason }

func gone(format string, a ...any) error { return &already{reason: fmt.Sprintf(format, a...)} }

// run is one release.
type run struct {
	h   *Handler
	p   *contract.Payload
	dry bool
	// groups are irflow's quarantine and transit groups the released
	// security-group entries name, to delete once no ENI uses them.
	groups map[string]bool
	// moving are the ENIs a dry run would put back on their groups.
	moving map[string]bool
}

// Handle releases the case's containment.
func (h *Handler) Handle(ctx context.Context, p *contract.Payload) (*contract.Result, error) {
	if p.Mode == ModeResolve {
		return h.resolve(ctx, p)
	}
	var prm params
	if err := p.DecodeWith(&prm); err != nil {
		return nil, err
	}
	if p.CaseID() == "" {
		return nil, &contract.InvalidInputError{Field: "incident.caseId", Reason: "the release undoes one case's containment"}
	}
	if h.Ledger == nil {
		return nil, &contract.PreconditionFailedError{Reason: "no incidents table (IRFLOW_INCIDENTS_TABLE): the containment ledger, the list of what to undo, cannot be read"}
	}
	l, err := h.Ledger.Read(ctx, p.CaseID())
	if err != nil {
		return nil, err
	}
	only := map[string]bool{}
	for _, s := range prm.Steps {
		only[s] = true
	}
	r := &run{h: h, p: p, dry: p.DryRun(), groups: map[string]bool{}, moving: map[string]bool{}}
	outcomes := []Outcome{}
	var done []string
	// Newest change first: the reverse of the order containment made them.
	for i := len(l.Entries) - 1; i >= 0; i-- {
		e := l.Entries[i]
		if len(only) > 0 && !only[e.Step] {
			continue
		}
		o := Outcome{ID: e.ID, Kind: e.Kind, Step: e.Step, Action: e.Action, Resource: e.Resource}
		if e.Removed() {
			o.Outcome, o.Reason = OutcomeAlready, fmt.Sprintf("undone by %s at %s", e.RemovedBy, e.RemovedAt)
			outcomes = append(outcomes, o)
			continue
		}
		err := r.undo(ctx, e)
		var ref *refusal
		var alr *already
		switch {
		case errors.As(err, &ref):
			o.Outcome, o.Reason = OutcomeRefused, ref.reason
		case errors.As(err, &alr):
			o.Outcome, o.Reason = OutcomeAlready, alr.reason
			done = append(done, e.ID)
		case err != nil:
			return nil, err
		case r.dry:
			o.Outcome = OutcomeWould
		default:
			o.Outcome = OutcomeReleased
			done = append(done, e.ID)
		}
		outcomes = append(outcomes, o)
	}
	deleted, kept, err := r.deleteGroups(ctx)
	if err != nil {
		return nil, err
	}
	if !r.dry && len(done) > 0 {
		// The ledger records the release: each entry undone is stamped
		// removed by this step (the audit chain holds the result).
		if _, err := h.Ledger.MarkRemoved(ctx, p.CaseID(), p.Folder(), done...); err != nil {
			return nil, err
		}
	}
	stopped := r.stoppedTask(ctx)
	status, summary := summarize(p.CaseID(), outcomes, r.dry, len(only) > 0)
	res := contract.OK(summary)
	if r.dry {
		if strings.HasPrefix(summary, "release ") || strings.HasPrefix(summary, "partially release ") {
			summary = "would " + summary
		} else {
			summary = "dry run, nothing changed: " + summary
		}
		res = contract.DryRun(summary)
	}
	res.With("releaseStatus", status).With("entries", outcomes).With("released", count(outcomes, OutcomeReleased)).
		With("alreadyReleased", count(outcomes, OutcomeAlready)).With("refused", count(outcomes, OutcomeRefused)).
		With("securityGroupsDeleted", deleted).With("securityGroupsKept", kept)
	if len(prm.Steps) > 0 {
		res.With("steps", prm.Steps)
	}
	if stopped != nil {
		res.With("stoppedTask", stopped)
	}
	return res, nil
}

func count(os []Outcome, outcome string) int {
	n := 0
	for _, o := range os {
		if o.Outcome == outcome {
			n++
		}
	}
	return n
}

// summarize is the release status and the result's one line.
func summarize(caseID string, os []Outcome, dry, subset bool) (string, string) {
	what := "case " + caseID
	if subset {
		what += " (selected steps)"
	}
	if len(os) == 0 {
		return Released, "nothing to release: the containment ledger of " + what + " records no change"
	}
	rel, alr, ref := count(os, OutcomeReleased)+count(os, OutcomeWould), count(os, OutcomeAlready), count(os, OutcomeRefused)
	var reasons []string
	for _, o := range os {
		if o.Outcome == OutcomeRefused {
			reasons = append(reasons, o.ID+": "+o.Reason)
		}
	}
	partial := "partially released"
	if dry {
		partial = "partially release"
	}
	switch {
	case ref > 0:
		return PartiallyReleased, fmt.Sprintf("%s %s: %d undone, %d already released, %d refused (%s)",
			partial, what, rel, alr, ref, strings.Join(reasons, "; "))
	case rel == 0:
		return Released, fmt.Sprintf("already released: %s has nothing left to undo (%d changes undone before)", what, alr)
	}
	verb := "released"
	if dry {
		verb = "release"
	}
	return Released, fmt.Sprintf("%s %s: %d changes undone, %d already released", verb, what, rel, alr)
}

// undo reverses one entry (or, in a dry run, checks it can be).
func (r *run) undo(ctx context.Context, e ledger.Entry) error {
	switch e.Kind {
	case ledger.KindSecurityGroups:
		var d ledger.SecurityGroupsData
		if err := r.decode(e, &d); err != nil {
			return err
		}
		return r.securityGroups(ctx, d)
	case ledger.KindNACLEntry:
		var d ledger.NACLEntryData
		if err := r.decode(e, &d); err != nil {
			return err
		}
		return r.naclEntry(ctx, d)
	case ledger.KindStandby:
		var d ledger.StandbyData
		if err := r.decode(e, &d); err != nil {
			return err
		}
		return r.standby(ctx, d)
	case ledger.KindTargetGroup:
		var d ledger.TargetGroupData
		if err := r.decode(e, &d); err != nil {
			return err
		}
		return r.targetGroup(ctx, d)
	case ledger.KindDrain:
		var d ledger.DrainData
		if err := r.decode(e, &d); err != nil {
			return err
		}
		return r.drain(ctx, d)
	case ledger.KindInstanceProtection:
		var d ledger.InstanceProtectionData
		if err := r.decode(e, &d); err != nil {
			return err
		}
		return r.protection(ctx, d)
	case ledger.KindRolePolicy:
		var d ledger.RolePolicyData
		if err := r.decode(e, &d); err != nil {
			return err
		}
		return r.rolePolicy(ctx, d)
	case ledger.KindDesiredCount:
		var d ledger.DesiredCountData
		if err := r.decode(e, &d); err != nil {
			return err
		}
		return r.desiredCount(ctx, d)
	case ledger.KindTaskDefinition:
		var d ledger.TaskDefinitionData
		if err := r.decode(e, &d); err != nil {
			return err
		}
		return r.taskDefinition(ctx, d)
	}
	return refuse("release does not know how to undo a %q entry", e.Kind)
}

// Kinds are the ledger kinds this action undoes (the catalog's Undo
// declarations name exactly these).
var Kinds = []string{ledger.KindNACLEntry, ledger.KindSecurityGroups, ledger.KindStandby, ledger.KindTargetGroup,
	ledger.KindDrain, ledger.KindInstanceProtection, ledger.KindRolePolicy, ledger.KindDesiredCount, ledger.KindTaskDefinition}

// decode reads an entry's record; a malformed one is refused, not fatal.
func (r *run) decode(e ledger.Entry, v any) error {
	if err := e.Decode(v); err != nil {
		return refuse("%v", err)
	}
	return nil
}

func apiCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}
