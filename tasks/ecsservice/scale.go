package ecsservice

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Tags that record a service's original desired count.
const (
	TagPreviousCount = "irflow:previous-desired-count"
	TagScaledByCase  = "irflow:scaled-by-case"
)

// Scaling is what it takes to restore a scaled service, and what was done.
type Scaling struct {
	Service, ServiceArn, ClusterArn string
	Previous, DesiredCount          int32
	// Recorded says Previous is on the service's tag (or, in a dry run, would be).
	Recorded bool
	// Changed says the count was changed (or, in a dry run, would be).
	Changed bool
	// Summary is the one line a result reports.
	Summary string
}

// Scale sets svc's desired count to want. The original count is tagged on
// the service before the count changes, unless this case's record is
// already there (it holds the count from before the incident even when
// auto scaling or a partial run moved it since). Already at want, nothing
// changes and the tagged original, if any, is reported. In a dry run
// nothing is called that changes anything.
func Scale(ctx context.Context, api API, cluster string, svc *ecstypes.Service, want int32, caseID string, dry bool) (*Scaling, error) {
	return ScaleRecorded(ctx, api, cluster, svc, want, caseID, dry, nil)
}

// ScaleRecorded is Scale that calls record (when not nil) with what it is
// about to do, after the tag and before the count changes: the caller
// writes it to the case's containment ledger, so a run cut short between
// the two leaves a record, never an unrecorded change.
func ScaleRecorded(ctx context.Context, api API, cluster string, svc *ecstypes.Service, want int32, caseID string, dry bool,
	record func(*Scaling) error) (*Scaling, error) {
	name := aws.ToString(svc.ServiceName)
	s := &Scaling{Service: name, ServiceArn: aws.ToString(svc.ServiceArn), ClusterArn: cluster, Previous: svc.DesiredCount, DesiredCount: want}
	tagged, byCase, hasTag := recordedCount(svc.Tags)

	if svc.DesiredCount == want {
		note := "no original recorded on the service"
		if hasTag {
			s.Previous, s.Recorded = tagged, true
			note = s.Note()
		}
		s.Summary = fmt.Sprintf("already scaled: service %s has desired count %d (%s)", name, want, note)
		if dry {
			s.Summary = "would do nothing: " + s.Summary
		}
		return s, nil
	}

	keep := hasTag && byCase == caseID
	if keep {
		s.Previous = tagged
	}
	s.Recorded, s.Changed = true, true
	if dry {
		s.Summary = fmt.Sprintf("would scale service %s from desired count %d to %d (%s)", name, svc.DesiredCount, want, s.Note())
		return s, nil
	}
	if !keep {
		var err error
		s.Recorded, err = Record(ctx, api, s.ServiceArn, map[string]string{TagPreviousCount: strconv.Itoa(int(s.Previous)), TagScaledByCase: caseID})
		if err != nil {
			return nil, err
		}
	}
	if record != nil {
		if err := record(s); err != nil {
			return nil, err
		}
	}
	in := &ecs.UpdateServiceInput{Service: aws.String(name), DesiredCount: aws.Int32(want)}
	if cluster != "" {
		in.Cluster = aws.String(cluster)
	}
	if _, err := api.UpdateService(ctx, in); err != nil {
		return nil, UpdateError(name, err)
	}
	s.Summary = fmt.Sprintf("scaled service %s from desired count %d to %d (%s)", name, svc.DesiredCount, want, s.Note())
	return s, nil
}

// Note says where the original count is kept.
func (s *Scaling) Note() string {
	if s.Recorded {
		return fmt.Sprintf("original %d, recorded on the service as %s", s.Previous, TagPreviousCount)
	}
	return fmt.Sprintf("original %d, not recorded on the service: it is in this result only", s.Previous)
}

// recordedCount reads the count record an earlier run left.
func recordedCount(tags []ecstypes.Tag) (count int32, caseID string, ok bool) {
	if v, found := TagValue(tags, TagPreviousCount); found {
		n, err := strconv.ParseInt(v, 10, 32)
		if err == nil && n >= 0 {
			count, ok = int32(n), true
		}
	}
	caseID, _ = TagValue(tags, TagScaledByCase)
	return count, caseID, ok
}
