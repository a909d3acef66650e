package handler

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/ecsref"
	"github.com/irflow/irflow/tasks/incident"
)

// verdict is what one task definition revision was found to be.
type verdict struct {
	TaskDefinition string `json:"taskDefinition"`
	Safe           bool   `json:"safe"`
	// TagOnly: accepted by allowTagOnly although an image is referenced by
	// tag, so the digest it will run is not proven.
	TagOnly bool   `json:"tagOnly"`
	Reason  string `json:"reason"`
}

// judge decides whether def may replace the compromised revision. An image
// pinned by digest compares directly. An image referenced by tag cannot be
// proven: ECS resolves a tag to a digest when a deployment starts ("Container
// image resolution",
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html#deployment-container-image-stability),
// and whoever pushed the compromised image may have pushed it under that
// tag, so a rollback to it may start the compromised digest again. Such a
// revision is refused unless allowTagOnly.
func judge(def *ecstypes.TaskDefinition, bad map[string]bool, allowTagOnly bool) verdict {
	v := verdict{TaskDefinition: aws.ToString(def.TaskDefinitionArn)}
	var pinned, tags []string
	for _, c := range def.ContainerDefinitions {
		image := aws.ToString(c.Image)
		d := ecsref.PinnedDigest(image)
		switch {
		case d == "":
			tags = append(tags, fmt.Sprintf("%s (%s)", aws.ToString(c.Name), image))
		case bad[d]:
			pinned = append(pinned, aws.ToString(c.Name))
		}
	}
	switch {
	case len(def.ContainerDefinitions) == 0:
		v.Reason = "no container definitions"
	case len(pinned) > 0:
		v.Reason = "container(s) " + strings.Join(pinned, ", ") + " pinned to the compromised digest"
	case len(tags) > 0 && !allowTagOnly:
		v.Reason = "image(s) by tag, digest not provable: " + strings.Join(tags, ", ")
	case len(tags) > 0:
		v.Safe, v.TagOnly = true, true
		v.Reason = "image(s) by tag, digest not proven, accepted by allowTagOnly: " + strings.Join(tags, ", ")
	default:
		v.Safe, v.Reason = true, "every image pinned to a digest other than the compromised"
	}
	return v
}

// choice is the revision a rollback goes to.
type choice struct {
	verdict
	// already: the service runs it now (a second run, or someone pinned it).
	already bool
}

// Bounds of the revision listing: ListTaskDefinitions returns at most 100
// per call (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListTaskDefinitions.html).
const (
	revisionPage     = 100
	maxRevisionPages = 10
)

// plan finds the newest ACTIVE revision of the target's family older than
// the target's whose images are provably free of the compromised digests.
// INACTIVE revisions are not candidates: a service cannot be updated to
// one (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeregisterTaskDefinition.html).
// A refusal says why no revision will do; an error is a failed call.
func (h *Handler) plan(ctx context.Context, pn *pin, target *incident.Target, bad *ecsref.Compromised, prm *params) (*choice, string, error) {
	svc := pn.svc
	if c := svc.DeploymentController; c != nil && c.Type != "" && c.Type != ecstypes.DeploymentControllerTypeEcs {
		// "Unable to update task definition on services with a CODE_DEPLOY
		// deployment controller" (API_UpdateService).
		return nil, fmt.Sprintf("service %s uses the %s deployment controller: UpdateService cannot change its task definition", pn.name(), c.Type), nil
	}
	if !bad.Complete() {
		return nil, "the compromised image digest is unknown (" + unknownNote(bad) + "): no revision can be shown to differ", nil
	}
	set := bad.Set()
	current := aws.ToString(svc.TaskDefinition)
	if current != "" && current != target.TaskDefinitionArn {
		v, err := h.judgeArn(ctx, current, set, prm.AllowTagOnly)
		if err != nil {
			return nil, "", err
		}
		pn.checked = append(pn.checked, v)
		if v.Safe {
			return &choice{verdict: v, already: true}, "", nil
		}
	}
	td, ok := ecsref.ParseTaskDefinition(target.TaskDefinitionArn)
	if !ok {
		return nil, fmt.Sprintf("the compromised task's definition %q is unknown", target.TaskDefinitionArn), nil
	}
	older, err := h.olderRevisions(ctx, td)
	if err != nil {
		return nil, "", err
	}
	for _, arn := range older[:min(len(older), *prm.MaxRevisions)] {
		if arn == current {
			continue // judged above
		}
		v, err := h.judgeArn(ctx, arn, set, prm.AllowTagOnly)
		if err != nil {
			return nil, "", err
		}
		pn.checked = append(pn.checked, v)
		if v.Safe {
			return &choice{verdict: v}, "", nil
		}
	}
	return nil, refusal(td, older, pn.checked, *prm.MaxRevisions), nil
}

// olderRevisions lists the family's ACTIVE revisions older than td's,
// newest first. The order is checked here: moto ignores sort.
func (h *Handler) olderRevisions(ctx context.Context, td ecsref.TaskDefinition) ([]string, error) {
	type rev struct {
		arn string
		n   int
	}
	var revs []rev
	var token *string
	for range maxRevisionPages {
		out, err := h.ECS.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String(td.Family), Status: ecstypes.TaskDefinitionStatusActive,
			Sort: ecstypes.SortOrderDesc, MaxResults: aws.Int32(revisionPage), NextToken: token})
		if err != nil {
			return nil, contract.AWSError("ecs:ListTaskDefinitions "+td.Family, err)
		}
		for _, arn := range out.TaskDefinitionArns {
			if r, ok := ecsref.ParseTaskDefinition(arn); ok && r.Family == td.Family && r.Revision < td.Revision {
				revs = append(revs, rev{arn, r.Revision})
			}
		}
		if next := aws.ToString(out.NextToken); next == "" || next == aws.ToString(token) {
			break
		}
		token = out.NextToken
	}
	sort.Slice(revs, func(i, j int) bool { return revs[i].n > revs[j].n })
	arns := make([]string, len(revs))
	for i, r := range revs {
		arns[i] = r.arn
	}
	return arns, nil
}

func (h *Handler) judgeArn(ctx context.Context, arn string, bad map[string]bool, allowTagOnly bool) (verdict, error) {
	out, err := h.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(arn)})
	if err != nil {
		return verdict{}, contract.AWSError("ecs:DescribeTaskDefinition "+arn, err)
	}
	if out.TaskDefinition == nil {
		return verdict{TaskDefinition: arn, Reason: "not described"}, nil
	}
	v := judge(out.TaskDefinition, bad, allowTagOnly)
	v.TaskDefinition = arn
	return v, nil
}

// refusal says why no revision will do, naming the first few judged.
func refusal(td ecsref.TaskDefinition, older []string, checked []verdict, maxRevisions int) string {
	if len(older) == 0 {
		return fmt.Sprintf("family %s has no ACTIVE revision older than %d", td.Family, td.Revision)
	}
	var parts []string
	for _, v := range checked[:min(len(checked), 5)] {
		parts = append(parts, fmt.Sprintf("%s: %s", v.TaskDefinition[strings.LastIndexByte(v.TaskDefinition, '/')+1:], v.Reason))
	}
	msg := fmt.Sprintf("none of the %d newest earlier revision(s) of family %s is free of the compromised digest (%s)", len(checked), td.Family, strings.Join(parts, "; "))
	if len(older) > maxRevisions {
		msg += fmt.Sprintf("; %d older revision(s) not examined (with.maxRevisions %d)", len(older)-maxRevisions, maxRevisions)
	}
	return msg
}

func unknownNote(bad *ecsref.Compromised) string {
	if len(bad.Unknown) == 0 {
		return "the task's containers are unknown"
	}
	return "container(s) " + strings.Join(bad.Unknown, ", ")
}
