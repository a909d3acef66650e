package handler

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/ecsservice"
	"github.com/irflow/irflow/tasks/ledger"
	"github.com/irflow/irflow/tasks/taskrt"
)

// ecsAPI reads, records and scales the service.
type ecsAPI = ecsservice.API

// Handler scales the target task's service.
type Handler struct {
	ECS ecsAPI
	// Ledger is the case's containment ledger (release-containment reads
	// the scaling back from it); nil records nothing there (the service's
	// irflow: tags still hold the original count).
	Ledger ledger.Appender
	Now    func() time.Time
}

// New builds the handler from the process's AWS config.
func New(cfg aws.Config, env taskrt.Env) taskrt.HandlerFunc {
	h := &Handler{ECS: ecs.NewFromConfig(cfg), Now: time.Now, Ledger: ledger.Optional(env.Home(cfg), env.IncidentsTable)}
	return h.Handle
}

// params are the step's with: (tasks/catalog/params/scale-service.json).
type params struct {
	DesiredCount *int `json:"desiredCount"`
}

const maxDesiredCount = 10000

// The tags that record the original desired count (shared with pin-service).
const (
	tagPrevious = ecsservice.TagPreviousCount
	tagCase     = ecsservice.TagScaledByCase
)

// Handle scales the service to the step's desired count.
func (h *Handler) Handle(ctx context.Context, p *contract.Payload) (*contract.Result, error) {
	var prm params
	if err := p.DecodeWith(&prm); err != nil {
		return nil, err
	}
	want := 0
	if prm.DesiredCount != nil {
		want = *prm.DesiredCount
	}
	if want < 0 || want > maxDesiredCount {
		return nil, &contract.InvalidInputError{Field: "with.desiredCount", Reason: fmt.Sprintf("must be 0 to %d", maxDesiredCount)}
	}
	if p.Target == nil {
		return nil, &contract.InvalidInputError{Field: "target", Reason: "scale-service needs the resolved target"}
	}
	cluster, svc, err := ecsservice.Owner(ctx, h.ECS, p, "scale")
	if err != nil {
		return nil, err
	}
	s, err := ecsservice.ScaleRecorded(ctx, h.ECS, cluster, svc, int32(want), p.CaseID(), p.DryRun(), func(s *ecsservice.Scaling) error {
		return h.record(ctx, p, cluster, s)
	})
	if err != nil {
		return nil, err
	}
	r := contract.OK(s.Summary)
	if p.DryRun() {
		r = contract.DryRun(s.Summary)
	}
	return result(r, s), nil
}

// record writes the scaling to the case's containment ledger before the
// count changes.
func (h *Handler) record(ctx context.Context, p *contract.Payload, cluster string, s *ecsservice.Scaling) error {
	if h.Ledger == nil || p.CaseID() == "" {
		return nil
	}
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	e, err := ledger.New(ledger.DesiredCountID(s.ServiceArn), ledger.KindDesiredCount, p.Step, p.Action, s.ServiceArn,
		ledger.DesiredCountData{Cluster: cluster, Service: s.Service, ServiceArn: s.ServiceArn, Previous: s.Previous, DesiredCount: s.DesiredCount}, now())
	if err != nil {
		return err
	}
	_, err = h.Ledger.Append(ctx, p.CaseID(), e)
	return err
}

func result(r *contract.Result, s *ecsservice.Scaling) *contract.Result {
	return r.With("service", s.Service).With("serviceArn", s.ServiceArn).With("clusterArn", s.ClusterArn).
		With("previousDesiredCount", s.Previous).With("desiredCount", s.DesiredCount).With("recorded", s.Recorded)
}
