package handler

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/ecsref"
	"github.com/irflow/irflow/tasks/ecsservice"
	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/ledger"
	"github.com/irflow/irflow/tasks/taskrt"
)

// ecsAPI reads the service, its tasks and its family's revisions, records
// the undo on the service and changes it.
type ecsAPI interface {
	ecsservice.API
	DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, opts ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error)
	ListTasks(ctx context.Context, in *ecs.ListTasksInput, opts ...func(*ecs.Options)) (*ecs.ListTasksOutput, error)
	ListTaskDefinitions(ctx context.Context, in *ecs.ListTaskDefinitionsInput, opts ...func(*ecs.Options)) (*ecs.ListTaskDefinitionsOutput, error)
	DescribeTaskDefinition(ctx context.Context, in *ecs.DescribeTaskDefinitionInput, opts ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
}

// Handler pins the target task's service.
type Handler struct {
	ECS ecsAPI
	// Ledger is the case's containment ledger: the pin is recorded there
	// before the service changes (release-containment undoes it); nil
	// (no incidents table) keeps the record on the service's tags only.
	Ledger ledger.Appender
	Now    func() time.Time
}

// New builds the handler from the process's AWS config.
func New(cfg aws.Config, env taskrt.Env) taskrt.HandlerFunc {
	h := &Handler{ECS: ecs.NewFromConfig(cfg), Ledger: ledger.Optional(env.Home(cfg), env.IncidentsTable)}
	return h.Handle
}

// recorder writes one change of this step to the case's ledger.
func (h *Handler) recorder(p *contract.Payload) func(ctx context.Context, id, kind, resource string, data any) error {
	return func(ctx context.Context, id, kind, resource string, data any) error {
		if h.Ledger == nil || p.CaseID() == "" {
			return nil
		}
		now := time.Now
		if h.Now != nil {
			now = h.Now
		}
		e, err := ledger.New(id, kind, p.Step, p.Action, resource, data, now())
		if err != nil {
			return err
		}
		_, err = h.Ledger.Append(ctx, p.CaseID(), e)
		return err
	}
}

// Modes and fallbacks (tasks/catalog/params/pin-service.json).
const (
	modeRollback    = "rollback"
	modeScaleToZero = "scale-to-zero"
	fallbackNone    = "none"
)

// params are the step's with:.
type params struct {
	Mode         string   `json:"mode"`
	Fallback     string   `json:"fallback"`
	AllowTagOnly bool     `json:"allowTagOnly"`
	Containers   []string `json:"containers"`
	MaxRevisions *int     `json:"maxRevisions"`
}

const (
	defaultMaxRevisions = 20
	maxMaxRevisions     = 100
)

func decode(p *contract.Payload) (*params, error) {
	prm := params{Mode: modeRollback, Fallback: fallbackNone}
	if err := p.DecodeWith(&prm); err != nil {
		return nil, err
	}
	if prm.MaxRevisions == nil {
		prm.MaxRevisions = aws.Int(defaultMaxRevisions)
	}
	switch {
	case prm.Mode != modeRollback && prm.Mode != modeScaleToZero:
		return nil, &contract.InvalidInputError{Field: "with.mode", Reason: fmt.Sprintf("%q is not rollback or scale-to-zero", prm.Mode)}
	case prm.Fallback != fallbackNone && prm.Fallback != modeScaleToZero:
		return nil, &contract.InvalidInputError{Field: "with.fallback", Reason: fmt.Sprintf("%q is not none or scale-to-zero", prm.Fallback)}
	case *prm.MaxRevisions < 1 || *prm.MaxRevisions > maxMaxRevisions:
		return nil, &contract.InvalidInputError{Field: "with.maxRevisions", Reason: fmt.Sprintf("must be 1 to %d", maxMaxRevisions)}
	}
	return &prm, nil
}

// Handle observes the service at pin time (deployments, replacements
// running the compromised digest), then rolls it back or scales it to zero.
func (h *Handler) Handle(ctx context.Context, p *contract.Payload) (*contract.Result, error) {
	prm, err := decode(p)
	if err != nil {
		return nil, err
	}
	if p.Target == nil || p.Target.TaskArn == "" {
		return nil, &contract.InvalidInputError{Field: "target", Reason: "pin-service needs the resolved target"}
	}
	cluster, svc, err := ecsservice.Owner(ctx, h.ECS, p, "pin")
	if err != nil {
		return nil, err
	}
	target := *p.Target
	if ecsref.NeedsRefresh(&target, prm.Containers) || target.TaskDefinitionArn == "" {
		if err := ecsref.Describe(ctx, h.ECS, cluster, &target); err != nil {
			return nil, err
		}
	}
	bad, err := ecsref.CompromisedOf(&target, prm.Containers, "with.containers")
	if err != nil {
		return nil, err
	}
	obs, err := h.observe(ctx, cluster, svc, &target, bad)
	if err != nil {
		return nil, err
	}
	pn := &pin{RequestedMode: prm.Mode, svc: svc, cluster: cluster, caseID: p.CaseID(), dry: p.DryRun(), checked: []verdict{}, record: h.recorder(p)}
	if prm.Mode == modeScaleToZero {
		err = h.scale(ctx, pn)
	} else {
		err = h.rollbackOrFallback(ctx, pn, &target, bad, prm)
	}
	if err != nil {
		return nil, err
	}
	return pn.result(bad, obs), nil
}

// rollbackOrFallback rolls the service back to a safe revision, or, when
// none is, scales it to zero if the step allows it.
func (h *Handler) rollbackOrFallback(ctx context.Context, pn *pin, target *incident.Target, bad *ecsref.Compromised, prm *params) error {
	ch, refusal, err := h.plan(ctx, pn, target, bad, prm)
	if err != nil {
		return err
	}
	if refusal == "" {
		return h.rollback(ctx, pn, ch)
	}
	if prm.Fallback != modeScaleToZero {
		return &contract.PreconditionFailedError{Reason: "no safe revision to roll back to: " + refusal + "; with.fallback: scale-to-zero would scale the service to zero"}
	}
	pn.FallbackReason = refusal
	return h.scale(ctx, pn)
}
