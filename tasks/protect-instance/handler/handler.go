package handler

import (
	"context"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/taskrt"
)

// ec2API reads and sets the instance's protection attributes.
type ec2API interface {
	DescribeInstanceAttribute(ctx context.Context, in *ec2.DescribeInstanceAttributeInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstanceAttributeOutput, error)
	ModifyInstanceAttribute(ctx context.Context, in *ec2.ModifyInstanceAttributeInput, opts ...func(*ec2.Options)) (*ec2.ModifyInstanceAttributeOutput, error)
}

// asgAPI finds the instance's Auto Scaling group and protects it from scale-in.
type asgAPI interface {
	DescribeAutoScalingInstances(ctx context.Context, in *autoscaling.DescribeAutoScalingInstancesInput, opts ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingInstancesOutput, error)
	SetInstanceProtection(ctx context.Context, in *autoscaling.SetInstanceProtectionInput, opts ...func(*autoscaling.Options)) (*autoscaling.SetInstanceProtectionOutput, error)
}

// ecsAPI drains the container instance.
type ecsAPI interface {
	UpdateContainerInstancesState(ctx context.Context, in *ecs.UpdateContainerInstancesStateInput, opts ...func(*ecs.Options)) (*ecs.UpdateContainerInstancesStateOutput, error)
}

// Handler protects the container instance.
type Handler struct {
	EC2 ec2API
	ASG asgAPI
	ECS ecsAPI
}

// Params are the step's `with:` (tasks/catalog/params/protect-instance.json);
// nil means the schema's default, true.
type Params struct {
	TerminationProtection *bool `json:"terminationProtection"`
	StopProtection        *bool `json:"stopProtection"`
	AsgProtection         *bool `json:"asgProtection"`
	Drain                 *bool `json:"drain"`
}

func on(b *bool) bool { return b == nil || *b }

// New builds the handler with real clients.
func New(cfg aws.Config, _ taskrt.Env) taskrt.HandlerFunc {
	h := &Handler{EC2: ec2.NewFromConfig(cfg), ASG: autoscaling.NewFromConfig(cfg), ECS: ecs.NewFromConfig(cfg)}
	return h.Handle
}

// Setting is what the action found and did for one protection.
type Setting struct {
	Requested bool   `json:"requested"`
	Previous  *bool  `json:"previous,omitempty"`
	Enabled   bool   `json:"enabled"`
	Changed   bool   `json:"changed"`
	Note      string `json:"note,omitempty"`
	// AutoScalingGroup is set for the scale-in protection.
	AutoScalingGroup string `json:"autoScalingGroup,omitempty"`
}

// Drain is what the action did to the container instance.
type Drain struct {
	Requested            bool   `json:"requested"`
	ContainerInstanceArn string `json:"containerInstanceArn,omitempty"`
	Status               string `json:"status,omitempty"`
	PreviousStatus       string `json:"previousStatus,omitempty"`
	Note                 string `json:"note,omitempty"`
}

var instanceID = regexp.MustCompile(`^i-[0-9a-f]{8,17}$`)

// run carries one invocation's state.
type run struct {
	h    *Handler
	p    *contract.Payload
	inst string
	dry  bool
	undo []string
}

// Handle turns on each requested protection that is not on yet.
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
	asg, err := r.scaleIn(ctx, on(params.AsgProtection))
	if err != nil {
		return nil, err
	}
	drain, err := r.drain(ctx, on(params.Drain))
	if err != nil {
		return nil, err
	}
	res := contract.OK(r.summary("protected", term, stop, asg, drain))
	if r.dry {
		res = contract.DryRun(r.summary("would protect", term, stop, asg, drain))
	}
	res.With("instanceId", r.inst).With("terminationProtection", term).With("stopProtection", stop).
		With("asgProtection", asg).With("drain", drain).With("undo", nonNil(r.undo))
	if w := serviceWarning(p, drain); w != "" {
		res.With("warning", w)
	}
	return res, nil
}

// summary is one line: what changed, what was already so, what was skipped.
func (r *run) summary(verb string, term, stop, asg Setting, drain Drain) string {
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
	add("scale-in protection", asg)
	if drain.Requested && drain.Status != "" {
		changed = append(changed, "DRAINING")
	}
	s := verb + " " + r.inst + ": "
	if len(changed) == 0 {
		s += "nothing to change"
	} else {
		s += strings.Join(changed, ", ")
	}
	if len(already) > 0 {
		s += " (already on: " + strings.Join(already, ", ") + ")"
	}
	if asg.Requested && asg.AutoScalingGroup == "" {
		s += "; not in an Auto Scaling group"
	}
	return s
}

// serviceWarning tells the responder that draining stops a service's task.
func serviceWarning(p *contract.Payload, d Drain) string {
	if !d.Requested || d.Status == "" || p.Target == nil {
		return ""
	}
	if p.Target.Service != "" || strings.HasPrefix(p.Target.Group, "service:") {
		return "the target belongs to a service: ECS stops and replaces a service's RUNNING tasks on a DRAINING instance, the target included"
	}
	return ""
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
