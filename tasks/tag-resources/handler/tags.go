package handler

import (
	"context"
	"errors"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/tasks/contract"
)

// plan is what gets tagged: ECS resources by ARN (the task, its container
// instance) and EC2 resources by id (ENIs, instance, volumes).
type plan struct {
	ECS []string `json:"ecs"`
	EC2 []string `json:"ec2"`
}

func (p plan) count() int { return len(p.ECS) + len(p.EC2) }

// planFor lists the target's resources: on Fargate the task and its ENI; on
// EC2 also the container instance, the instance, its ENIs and volumes.
func planFor(p *contract.Payload) plan {
	t := p.Target
	out := plan{ECS: []string{}, EC2: []string{}}
	seen := map[string]bool{}
	add := func(list *[]string, id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			*list = append(*list, id)
		}
	}
	add(&out.ECS, t.TaskArn)
	add(&out.ECS, t.ContainerInstanceArn)
	for _, e := range t.ENIs {
		add(&out.EC2, e.ID)
	}
	add(&out.EC2, t.InstanceID)
	for _, v := range t.VolumeIDs {
		add(&out.EC2, v)
	}
	return out
}

// apply tags what exists. A resource that is gone (the task stopped, its
// ENI was deleted) is reported as missing rather than failing the step:
// the rest still deserves its tags.
func (h *Handler) apply(ctx context.Context, pl plan, tags map[string]string) (done plan, missing []string, err error) {
	done = plan{ECS: []string{}, EC2: []string{}}
	var ecsTags []ecstypes.Tag
	var ec2Tags []ec2types.Tag
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		ecsTags = append(ecsTags, ecstypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
		ec2Tags = append(ec2Tags, ec2types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	// A resource that cannot be tagged does not stop the others: every one
	// is tried, then the first error is returned (a retry re-tags, which
	// changes nothing on the ones already done).
	var firstErr error
	for _, arn := range pl.ECS {
		_, err := h.ECS.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(arn), Tags: ecsTags})
		if gone, err := classify("ecs:TagResource "+arn, err); err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		} else if gone {
			missing = append(missing, arn)
			continue
		}
		done.ECS = append(done.ECS, arn)
	}
	if len(pl.EC2) == 0 {
		return done, missing, firstErr
	}
	_, err = h.EC2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: pl.EC2, Tags: ec2Tags})
	gone, err := classify("ec2:CreateTags", err)
	if err != nil {
		return done, missing, err
	}
	if !gone {
		done.EC2 = append(done.EC2, pl.EC2...)
		return done, missing, firstErr
	}
	// One of them is gone and EC2 refused the whole call: one by one.
	for _, id := range pl.EC2 {
		_, err := h.EC2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: ec2Tags})
		if gone, err := classify("ec2:CreateTags "+id, err); err != nil {
			return done, missing, err
		} else if gone {
			missing = append(missing, id)
			continue
		}
		done.EC2 = append(done.EC2, id)
	}
	return done, missing, firstErr
}

// classify reports whether err means the resource is gone, and returns any
// other error as a named one.
func classify(op string, err error) (gone bool, _ error) {
	if err == nil {
		return false, nil
	}
	err = contract.AWSError(op, err)
	var nf *contract.TargetNotFoundError
	if errors.As(err, &nf) {
		return true, nil
	}
	return false, err
}
