package handler

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/taskrt"
)

// ecsAPI tags the task and its container instance.
type ecsAPI interface {
	TagResource(ctx context.Context, in *ecs.TagResourceInput, opts ...func(*ecs.Options)) (*ecs.TagResourceOutput, error)
}

// ec2API tags ENIs, the instance and its volumes.
type ec2API interface {
	CreateTags(ctx context.Context, in *ec2.CreateTagsInput, opts ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error)
}

// Handler tags the target's resources.
type Handler struct {
	ECS ecsAPI
	EC2 ec2API
}

// Tag keys irflow owns; extraTags cannot override them.
const (
	TagCaseID = "irflow:case-id"
	TagStatus = "irflow:status"
)

// DefaultStatus is the catalog default of with.status.
const DefaultStatus = "UNDER_INVESTIGATION"

// Params are the step's `with:` (tasks/catalog/params/tag-resources.json).
type Params struct {
	Status    string            `json:"status"`
	ExtraTags map[string]string `json:"extraTags"`
}

var (
	tagKeyRE   = regexp.MustCompile(`^[A-Za-z0-9_.:/=+@ -]{1,128}$`)
	tagValueRE = regexp.MustCompile(`^[A-Za-z0-9_.:/=+@ -]{0,256}$`)
)

// New builds the handler with real clients.
func New(cfg aws.Config, _ taskrt.Env) taskrt.HandlerFunc {
	h := &Handler{ECS: ecs.NewFromConfig(cfg), EC2: ec2.NewFromConfig(cfg)}
	return h.Handle
}

// Handle tags every resource of the target, or says what it would tag.
func (h *Handler) Handle(ctx context.Context, p *contract.Payload) (*contract.Result, error) {
	if p.Incident == nil || p.Target == nil {
		return nil, &contract.InvalidInputError{Field: "target", Reason: "tag-resources needs the incident and target resolve-target returns"}
	}
	tags, err := tagsFor(p)
	if err != nil {
		return nil, err
	}
	plan := planFor(p)
	if plan.count() == 0 {
		return contract.Skipped("nothing to tag: the target names no resources"), nil
	}
	if p.DryRun() {
		return contract.DryRun(fmt.Sprintf("would tag %d resources with %s", plan.count(), describe(tags))).
			With("resources", plan).With("tags", tags), nil
	}
	done, missing, err := h.apply(ctx, plan, tags)
	if err != nil {
		return nil, err
	}
	if done.count() == 0 {
		return nil, &contract.TargetNotFoundError{Resource: p.Target.TaskArn, Reason: "none of the task's resources exists any more: " + strings.Join(missing, ", ")}
	}
	summary := fmt.Sprintf("tagged %d resources with %s (setting the same tags again changes nothing)", done.count(), describe(tags))
	if len(missing) > 0 {
		summary += fmt.Sprintf("; %d gone: %s", len(missing), strings.Join(missing, ", "))
	}
	return contract.OK(summary).With("resources", done).With("tags", tags).With("missing", nonNil(missing)), nil
}

// tagsFor is the tag set: extraTags, then irflow's own keys.
func tagsFor(p *contract.Payload) (map[string]string, error) {
	params := Params{Status: DefaultStatus}
	if err := p.DecodeWith(&params); err != nil {
		return nil, err
	}
	if params.Status == "" {
		params.Status = DefaultStatus
	}
	if len(params.Status) > 128 || !tagValueRE.MatchString(params.Status) {
		return nil, &contract.InvalidInputError{Field: "with.status", Reason: "must be 1 to 128 letters, digits, spaces or _.:/=+@-"}
	}
	if len(params.ExtraTags) > 20 {
		return nil, &contract.InvalidInputError{Field: "with.extraTags", Reason: fmt.Sprintf("has %d tags; at most 20", len(params.ExtraTags))}
	}
	tags := map[string]string{}
	for k, v := range params.ExtraTags {
		switch {
		case !tagKeyRE.MatchString(k) || strings.HasPrefix(strings.ToLower(k), "aws:"):
			return nil, &contract.InvalidInputError{Field: "with.extraTags", Reason: fmt.Sprintf("%q is not a tag key you may set", k)}
		case k == TagCaseID || k == TagStatus:
			return nil, &contract.InvalidInputError{Field: "with.extraTags." + k, Reason: "is set by irflow"}
		case !tagValueRE.MatchString(v):
			return nil, &contract.InvalidInputError{Field: "with.extraTags." + k, Reason: "value must be at most 256 letters, digits, spaces or _.:/=+@-"}
		}
		tags[k] = v
	}
	tags[TagCaseID] = p.CaseID()
	tags[TagStatus] = params.Status
	return tags, nil
}

func describe(tags map[string]string) string {
	s := fmt.Sprintf("%s=%s, %s=%s", TagCaseID, tags[TagCaseID], TagStatus, tags[TagStatus])
	if n := len(tags) - 2; n > 0 {
		s += fmt.Sprintf(" and %d more", n)
	}
	return s
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
