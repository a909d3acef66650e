package handler

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/ledger"
	"github.com/irflow/irflow/tasks/taskrt"
)

// ec2API reads and sets the instance's protection attributes.
type ec2API interface {
	DescribeInstanceAttribute(ctx context.Context, in *ec2.DescribeInstanceAttributeInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstanceAttributeOutput, error)
	ModifyInstanceAttribute(ctx context.Context, in *ec2.ModifyInstanceAttributeInput, opts ...func(*ec2.Options)) (*ec2.ModifyInstanceAttributeOutput, error)
}

// asgAPI finds the instance's Auto Scaling group and puts it in Standby.
type asgAPI interface {
	DescribeAutoScalingInstances(ctx context.Context, in *autoscaling.DescribeAutoScalingInstancesInput, opts ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingInstancesOutput, error)
	EnterStandby(ctx context.Context, in *autoscaling.EnterStandbyInput, opts ...func(*autoscaling.Options)) (*autoscaling.EnterStandbyOutput, error)
}

// elbAPI finds the target groups that hold the instance and takes it out.
type elbAPI interface {
	DescribeTargetGroups(ctx context.Context, in *elb.DescribeTargetGroupsInput, opts ...func(*elb.Options)) (*elb.DescribeTargetGroupsOutput, error)
	DescribeTargetHealth(ctx context.Context, in *elb.DescribeTargetHealthInput, opts ...func(*elb.Options)) (*elb.DescribeTargetHealthOutput, error)
	DeregisterTargets(ctx context.Context, in *elb.DeregisterTargetsInput, opts ...func(*elb.Options)) (*elb.DeregisterTargetsOutput, error)
}

// ecsAPI reads and drains the container instance.
type ecsAPI interface {
	DescribeContainerInstances(ctx context.Context, in *ecs.DescribeContainerInstancesInput, opts ...func(*ecs.Options)) (*ecs.DescribeContainerInstancesOutput, error)
	UpdateContainerInstancesState(ctx context.Context, in *ecs.UpdateContainerInstancesStateInput, opts ...func(*ecs.Options)) (*ecs.UpdateContainerInstancesStateOutput, error)
}

// Handler protects the container instance.
type Handler struct {
	EC2    ec2API
	ASG    asgAPI
	ELB    elbAPI
	ECS    ecsAPI
	Ledger ledger.Appender
	Now    func() time.Time
}

// Params are the step's `with:` (tasks/catalog/params/protect-instance.json);
// nil means the schema's default, true.
type Params struct {
	TerminationProtection *bool `json:"terminationProtection"`
	StopProtection        *bool `json:"stopProtection"`
	Standby               *bool `json:"standby"`
	DeregisterTargets     *bool `json:"deregisterTargets"`
	Drain                 *bool `json:"drain"`
}

func on(b *bool) bool { return b == nil || *b }

// New builds the handler with real clients.
func New(cfg aws.Config, env taskrt.Env) taskrt.HandlerFunc {
	h := &Handler{EC2: ec2.NewFromConfig(cfg), ASG: autoscaling.NewFromConfig(cfg), ELB: elb.NewFromConfig(cfg),
		ECS: ecs.NewFromConfig(cfg), Ledger: ledger.NewStore(env.Home(cfg), env.IncidentsTable), Now: time.Now}
	return h.Handle
}

var instanceID = regexp.MustCompile(`^i-[0-9a-f]{8,17}$`)

// run carries one invocation's state: what was read, what will change (as
// ledger entries and the calls that make them), and the undo commands.
type run struct {
	h       *Handler
	p       *contract.Payload
	inst    string
	dry     bool
	undo    []string
	entries []ledger.Entry
	changes []func(context.Context) error
}

// change queues a change, recorded in the ledger first.
func (r *run) change(e ledger.Entry, err error, do func(context.Context) error, undo string) error {
	if err != nil {
		return err
	}
	r.entries = append(r.entries, e)
	r.changes = append(r.changes, do)
	r.undo = append(r.undo, undo)
	return nil
}

func (r *run) entry(id, kind, resource string, data any) (ledger.Entry, error) {
	now := time.Now
	if r.h.Now != nil {
		now = r.h.Now
	}
	return ledger.New(id, kind, r.p.Step, r.p.Action, resource, data, now())
}

// Handle reads every part, records what will change, then changes it in
// order: the protections, standby, the target groups, the drain.
func (h *Handler) Handle(ctx context.Context, p *contract.Payload) (*contract.Result, error) {
	var params Params
	if err := p.DecodeWith(&params); err != nil {
		return nil, err
	}
	if p.Target == nil || p.Target.InstanceID == "" {
		return nil, &contract.PreconditionFailedError{Reason: "the target has no EC2 container instance (Fargate?): there is no instance to protect"}
	}
	if !instanceID.MatchString(p.Target.InstanceID) {
		return nil, &contract.InvalidInputError{Field: "target.instanceId", Reason: "not an EC2 instance id"}
	}
	r := &run{h: h, p: p, inst: p.Target.InstanceID, dry: p.DryRun()}
	term, err := r.attribute(ctx, "disableApiTermination", on(params.TerminationProtection))
	if err != nil {
		return nil, err
	}
	stop, err := r.attribute(ctx, "disableApiStop", on(params.StopProtection))
	if err != nil {
		return nil, err
	}
	standby, err := r.standby(ctx, on(params.Standby))
	if err != nil {
		return nil, err
	}
	targets, err := r.targets(ctx, on(params.DeregisterTargets))
	if err != nil {
		return nil, err
	}
	drain, err := r.drain(ctx, on(params.Drain))
	if err != nil {
		return nil, err
	}
	if !r.dry {
		if len(r.entries) > 0 {
			if _, err := h.Ledger.Append(ctx, p.CaseID(), r.entries...); err != nil {
				return nil, err
			}
		}
		for _, do := range r.changes {
			if err := do(ctx); err != nil {
				return nil, err
			}
		}
	}
	res := contract.OK(r.summary("protected", term, stop, standby, targets, drain))
	if r.dry {
		res = contract.DryRun(r.summary("would protect", term, stop, standby, targets, drain))
	}
	res.With("instanceId", r.inst).With("terminationProtection", term).With("stopProtection", stop).
		With("standby", standby).With("targetGroups", targets).With("drain", drain).With("undo", nonNil(r.undo))
	if w := warning(p, drain); w != "" {
		res.With("warning", w)
	}
	return res, nil
}

// summary is one line: what changed, what was already so, what was skipped.
func (r *run) summary(verb string, term, stop Setting, standby Standby, targets *TargetGroups, drain Drain) string {
	var changed, already []string
	add := func(name string, s Setting) {
		switch {
		case !s.Requested || s.Note != "" && !s.Enabled:
		case s.Changed:
			changed = append(changed, name)
		default:
			already = append(already, name)
		}
	}
	add("termination protection", term)
	add("stop protection", stop)
	switch {
	case standby.Changed:
		changed = append(changed, "Standby in "+standby.AutoScalingGroup+" (desired capacity kept)")
	case standby.State == "Standby":
		already = append(already, "Standby")
	}
	if n := len(targets.Deregistered); n > 0 {
		changed = append(changed, "out of "+countOf(n, "target group registration"))
	}
	if drain.Changed {
		changed = append(changed, "DRAINING")
	} else if drain.Status == "DRAINING" {
		already = append(already, "DRAINING")
	}
	s := verb + " " + r.inst + ": "
	if len(changed) == 0 {
		s += "nothing to change"
	} else {
		s += strings.Join(changed, ", ")
	}
	if len(already) > 0 {
		s += " (already: " + strings.Join(already, ", ") + ")"
	}
	for _, note := range []string{standby.Note, targets.Note, drain.Note} {
		if note != "" && !strings.HasPrefix(note, "not requested") {
			s += "; " + note
		}
	}
	return s
}

// warning tells the responder that draining stops the target and every
// other task on the instance.
func warning(p *contract.Payload, d Drain) string {
	if !d.Requested || d.Status == "" || p.Target == nil {
		return ""
	}
	w := "draining stops every task on the instance (ECS replaces a service's tasks elsewhere): the target included"
	if p.Target.Service != "" || strings.HasPrefix(p.Target.Group, "service:") {
		w += "; the target's service starts a replacement unless it is scaled down (scale-service)"
	}
	return w
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
