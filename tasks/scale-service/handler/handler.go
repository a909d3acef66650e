package handler

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/taskrt"
)

// ecsAPI reads, records and scales the service.
type ecsAPI interface {
	DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, opts ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	TagResource(ctx context.Context, in *ecs.TagResourceInput, opts ...func(*ecs.Options)) (*ecs.TagResourceOutput, error)
	UpdateService(ctx context.Context, in *ecs.UpdateServiceInput, opts ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error)
}

// Handler scales the target task's service.
type Handler struct {
	ECS ecsAPI
}

// New builds the handler from the process's AWS config.
func New(cfg aws.Config, _ taskrt.Env) taskrt.HandlerFunc {
	h := &Handler{ECS: ecs.NewFromConfig(cfg)}
	return h.Handle
}

// params are the step's with: (tasks/catalog/params/scale-service.json).
type params struct {
	DesiredCount *int `json:"desiredCount"`
}

const maxDesiredCount = 10000

// Tags that record the original desired count on the service.
const (
	tagPrevious = "irflow:previous-desired-count"
	tagCase     = "irflow:scaled-by-case"
)

// outcome is what it takes to restore the service (the result's outputs).
type outcome struct {
	Service, ServiceArn, ClusterArn string
	Previous, DesiredCount          int32
	// Recorded says Previous is on the service's tag (or, in a dry run, would be).
	Recorded bool
}

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
	name := p.Target.Service
	if name == "" && strings.HasPrefix(p.Target.Group, "service:") {
		name = strings.TrimPrefix(p.Target.Group, "service:")
	}
	if name == "" {
		return nil, &contract.PreconditionFailedError{Reason: "standalone task: it has no service to scale; stop-task is the containment"}
	}
	cluster := p.Target.ClusterArn
	if cluster == "" && p.Incident != nil {
		cluster = p.Incident.ClusterArn
	}
	svc, err := h.describe(ctx, cluster, name)
	if err != nil {
		return nil, err
	}
	o := &outcome{Service: name, ServiceArn: aws.ToString(svc.ServiceArn), ClusterArn: cluster, Previous: svc.DesiredCount, DesiredCount: int32(want)}
	tagged, byCase, hasTag := recorded(svc.Tags)

	if svc.DesiredCount == int32(want) {
		if hasTag {
			o.Previous, o.Recorded = tagged, true
		}
		note := "no original recorded on the service"
		if hasTag {
			note = originNote(o)
		}
		msg := fmt.Sprintf("already scaled: service %s has desired count %d (%s)", name, want, note)
		if p.DryRun() {
			return result(contract.DryRun("would do nothing: "+msg), o), nil
		}
		return result(contract.OK(msg), o), nil
	}

	// The same case's record stands: it holds the count from before the
	// incident even when auto scaling or a partial run moved it since.
	keep := hasTag && byCase == p.CaseID()
	if keep {
		o.Previous = tagged
	}
	o.Recorded = true
	if p.DryRun() {
		return result(contract.DryRun(fmt.Sprintf("would scale service %s from desired count %d to %d (%s)", name, svc.DesiredCount, want, originNote(o))), o), nil
	}
	if !keep {
		o.Recorded, err = h.record(ctx, o, p.CaseID())
		if err != nil {
			return nil, err
		}
	}
	_, err = h.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(cluster), Service: aws.String(name), DesiredCount: aws.Int32(int32(want))})
	if err != nil {
		if apiCode(err) == "ServiceNotActiveException" {
			return nil, &contract.TargetNotFoundError{Resource: "service " + name, Reason: "no longer active"}
		}
		return nil, contract.AWSError("ecs:UpdateService "+name, err)
	}
	msg := fmt.Sprintf("scaled service %s from desired count %d to %d (%s)", name, svc.DesiredCount, want, originNote(o))
	return result(contract.OK(msg), o), nil
}

// describe returns the active service with its tags.
func (h *Handler) describe(ctx context.Context, cluster, name string) (*ecstypes.Service, error) {
	in := &ecs.DescribeServicesInput{Services: []string{name}, Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags}}
	if cluster != "" {
		in.Cluster = aws.String(cluster)
	}
	out, err := h.ECS.DescribeServices(ctx, in)
	if err != nil {
		return nil, contract.AWSError("ecs:DescribeServices "+name, err)
	}
	for i, s := range out.Services {
		if aws.ToString(s.ServiceName) != name && aws.ToString(s.ServiceArn) != name {
			continue
		}
		if st := aws.ToString(s.Status); st != "ACTIVE" {
			return nil, &contract.TargetNotFoundError{Resource: "service " + name, Reason: "status " + st}
		}
		return &out.Services[i], nil
	}
	reason := "not in the cluster"
	for _, f := range out.Failures {
		reason = aws.ToString(f.Reason)
	}
	return nil, &contract.TargetNotFoundError{Resource: "service " + name, Reason: reason}
}

// record tags the service with its count before the change. A tag that
// cannot be written (no ecs:TagResource, a service with a short ARN) does
// not stop the containment: the outputs and the audit still hold the count.
func (h *Handler) record(ctx context.Context, o *outcome, caseID string) (bool, error) {
	_, err := h.ECS.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(o.ServiceArn), Tags: []ecstypes.Tag{
		{Key: aws.String(tagPrevious), Value: aws.String(strconv.Itoa(int(o.Previous)))},
		{Key: aws.String(tagCase), Value: aws.String(caseID)},
	}})
	switch apiCode(err) {
	case "":
		if err != nil {
			return false, contract.AWSError("ecs:TagResource "+o.ServiceArn, err)
		}
		return true, nil
	case "AccessDeniedException", "AccessDenied", "InvalidParameterException":
		return false, nil
	}
	return false, contract.AWSError("ecs:TagResource "+o.ServiceArn, err)
}

// recorded reads the tags an earlier run left.
func recorded(tags []ecstypes.Tag) (count int32, caseID string, ok bool) {
	for _, t := range tags {
		switch aws.ToString(t.Key) {
		case tagPrevious:
			n, err := strconv.ParseInt(aws.ToString(t.Value), 10, 32)
			if err == nil && n >= 0 {
				count, ok = int32(n), true
			}
		case tagCase:
			caseID = aws.ToString(t.Value)
		}
	}
	return count, caseID, ok
}

func originNote(o *outcome) string {
	if o.Recorded {
		return fmt.Sprintf("original %d, recorded on the service as %s", o.Previous, tagPrevious)
	}
	return fmt.Sprintf("original %d, not recorded on the service: it is in this result only", o.Previous)
}

func result(r *contract.Result, o *outcome) *contract.Result {
	return r.With("service", o.Service).With("serviceArn", o.ServiceArn).With("clusterArn", o.ClusterArn).
		With("previousDesiredCount", o.Previous).With("desiredCount", o.DesiredCount).With("recorded", o.Recorded)
}

func apiCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}
