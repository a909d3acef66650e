package handler

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/ecsref"
	"github.com/irflow/irflow/tasks/ecsservice"
	"github.com/irflow/irflow/tasks/ledger"
)

// Tags that record a rollback on the service, written before it.
// scale-to-zero records with ecsservice's count tags, as scale-service does.
const (
	tagPreviousTaskDefinition = "irflow:previous-task-definition"
	tagPinnedTaskDefinition   = "irflow:pinned-task-definition"
	tagPinnedByCase           = "irflow:pinned-by-case"
)

// pin is one run: what was (or, in a dry run, would be) done, and what
// undoes it.
type pin struct {
	svc     *ecstypes.Service
	cluster string
	caseID  string
	dry     bool
	checked []verdict
	// record writes a change to the case's containment ledger before it
	// is made (Handler.recorder).
	record func(ctx context.Context, id, kind, resource string, data any) error

	Mode, RequestedMode, FallbackReason string
	PreviousTaskDefinition              string
	TaskDefinition                      string
	PreviousDesiredCount, DesiredCount  int32
	Recorded, Changed, TagOnly          bool
	Summary                             string
	Warnings                            []string
}

func (pn *pin) name() string { return aws.ToString(pn.svc.ServiceName) }

// rollback points the service at the chosen revision. Changing the task
// definition starts a new deployment: "Amazon ECS spawns a task with the
// new version of the task definition and then stops an old task after the
// new version is running" (UpdateService, taskDefinition,
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateService.html),
// so no forceNewDeployment is needed, the desired count is kept, and the
// compromised tasks run until the deployment replaces them.
func (h *Handler) rollback(ctx context.Context, pn *pin, ch *choice) error {
	svc := pn.svc
	current := aws.ToString(svc.TaskDefinition)
	previous, hasPrevious := ecsservice.TagValue(svc.Tags, tagPreviousTaskDefinition)
	byCase, _ := ecsservice.TagValue(svc.Tags, tagPinnedByCase)
	pn.Mode, pn.TaskDefinition, pn.TagOnly = modeRollback, ch.TaskDefinition, ch.TagOnly
	pn.PreviousDesiredCount, pn.DesiredCount = svc.DesiredCount, svc.DesiredCount
	if ch.TagOnly {
		pn.Warnings = append(pn.Warnings, fmt.Sprintf("%s references an image by tag: ECS resolves the tag when the deployment starts, so the digest it runs is not proven (allowTagOnly)", ch.TaskDefinition))
	}

	if ch.already {
		pn.PreviousTaskDefinition, pn.Recorded = current, hasPrevious
		note := "no earlier task definition recorded on the service"
		if hasPrevious {
			pn.PreviousTaskDefinition, note = previous, pn.note()
		}
		pn.Summary = fmt.Sprintf("already pinned: service %s runs %s, free of the compromised digest (%s)", pn.name(), current, note)
		if pn.dry {
			pn.Summary = "would do nothing: " + pn.Summary
		}
		return nil
	}

	// The same case's record stands: it names the revision from before
	// the incident even if someone redeployed since.
	keep := hasPrevious && byCase == pn.caseID
	pn.PreviousTaskDefinition = current
	if keep {
		pn.PreviousTaskDefinition = previous
	}
	pn.Recorded, pn.Changed = true, true
	pn.Warnings = append(pn.Warnings, "the compromised tasks run until the new deployment replaces them, at the pace of its minimumHealthyPercent and maximumPercent")
	if b := svc.DeploymentConfiguration; b != nil && b.DeploymentCircuitBreaker != nil && b.DeploymentCircuitBreaker.Enable && b.DeploymentCircuitBreaker.Rollback {
		// "If rollback is on, when a service deployment fails, the service
		// is rolled back to the last deployment that completed successfully"
		// (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentCircuitBreaker.html).
		pn.Warnings = append(pn.Warnings, "the deployment circuit breaker's rollback is on: if the rollback deployment fails, ECS returns the service to its last completed deployment, the compromised one; watch the deployment, or pin with mode scale-to-zero")
	}
	if pn.dry {
		pn.Summary = fmt.Sprintf("would roll service %s back from %s to %s (%s)", pn.name(), current, ch.TaskDefinition, pn.note())
		return nil
	}
	if !keep {
		var err error
		pn.Recorded, err = ecsservice.Record(ctx, h.ECS, aws.ToString(svc.ServiceArn), map[string]string{
			tagPreviousTaskDefinition: pn.PreviousTaskDefinition, tagPinnedTaskDefinition: ch.TaskDefinition, tagPinnedByCase: pn.caseID})
		if err != nil {
			return err
		}
	}
	// The ledger entry release-containment undoes, before the change.
	arn := aws.ToString(svc.ServiceArn)
	if err := pn.record(ctx, ledger.TaskDefinitionID(arn), ledger.KindTaskDefinition, arn, ledger.TaskDefinitionData{
		Cluster: pn.cluster, Service: pn.name(), ServiceArn: arn, Previous: pn.PreviousTaskDefinition, Pinned: ch.TaskDefinition}); err != nil {
		return err
	}
	in := &ecs.UpdateServiceInput{Service: aws.String(pn.name()), TaskDefinition: aws.String(ch.TaskDefinition)}
	if pn.cluster != "" {
		in.Cluster = aws.String(pn.cluster)
	}
	if _, err := h.ECS.UpdateService(ctx, in); err != nil {
		return ecsservice.UpdateError(pn.name(), err)
	}
	pn.Summary = fmt.Sprintf("rolled service %s back from %s to %s, the newest earlier revision free of the compromised digest (%s)", pn.name(), current, ch.TaskDefinition, pn.note())
	return nil
}

// note says where the previous task definition is kept.
func (pn *pin) note() string {
	if pn.Recorded {
		return fmt.Sprintf("previous %s, recorded on the service as %s", pn.PreviousTaskDefinition, tagPreviousTaskDefinition)
	}
	return fmt.Sprintf("previous %s, not recorded on the service: it is in this result only", pn.PreviousTaskDefinition)
}

// scale sets the service's desired count to zero, as scale-service does
// (one record, one undo for both).
func (h *Handler) scale(ctx context.Context, pn *pin) error {
	s, err := ecsservice.ScaleRecorded(ctx, h.ECS, pn.cluster, pn.svc, 0, pn.caseID, pn.dry, func(s *ecsservice.Scaling) error {
		// scale-service's entry: one undo for both.
		return pn.record(ctx, ledger.DesiredCountID(s.ServiceArn), ledger.KindDesiredCount, s.ServiceArn, ledger.DesiredCountData{
			Cluster: pn.cluster, Service: s.Service, ServiceArn: s.ServiceArn, Previous: s.Previous, DesiredCount: s.DesiredCount})
	})
	if err != nil {
		return err
	}
	current := aws.ToString(pn.svc.TaskDefinition)
	pn.Mode, pn.PreviousTaskDefinition, pn.TaskDefinition = modeScaleToZero, current, current
	pn.PreviousDesiredCount, pn.DesiredCount, pn.Recorded, pn.Changed = s.Previous, s.DesiredCount, s.Recorded, s.Changed
	pn.Summary = s.Summary
	if pn.FallbackReason != "" {
		pn.Summary = "no safe revision to roll back to, so " + s.Summary + "; " + pn.FallbackReason
	}
	return nil
}

// result is the step's result: what undoes the pin, and the service as it
// was at pin time.
func (pn *pin) result(bad *ecsref.Compromised, obs *observation) *contract.Result {
	r := contract.OK(pn.Summary)
	if pn.dry {
		r = contract.DryRun(pn.Summary)
	}
	undo := map[string]any{"taskDefinition": pn.PreviousTaskDefinition}
	if pn.Mode == modeScaleToZero {
		undo = map[string]any{"desiredCount": pn.PreviousDesiredCount}
	}
	warnings := append([]string{}, pn.Warnings...)
	warnings = append(warnings, obs.warnings...)
	return r.With("mode", pn.Mode).With("requestedMode", pn.RequestedMode).With("fallbackReason", pn.FallbackReason).
		With("service", pn.name()).With("serviceArn", aws.ToString(pn.svc.ServiceArn)).With("clusterArn", pn.cluster).
		With("previousTaskDefinition", pn.PreviousTaskDefinition).With("taskDefinition", pn.TaskDefinition).
		With("previousDesiredCount", pn.PreviousDesiredCount).With("desiredCount", pn.DesiredCount).
		With("recorded", pn.Recorded).With("changed", pn.Changed).With("tagOnly", pn.TagOnly).With("undo", undo).
		With("compromisedDigests", bad.Digests).With("revisionsChecked", pn.checked).
		With("deployments", obs.Deployments).With("replacementsFromCompromisedDigest", obs.capped(obs.Replacements)).
		With("replacementsUnknownDigest", obs.capped(obs.Unknown)).
		With("replacementCounts", map[string]any{"fromCompromisedDigest": len(obs.Replacements), "unknownDigest": len(obs.Unknown),
			"serviceTasks": obs.ServiceTasks, "complete": obs.Complete}).
		With("warnings", warnings)
}
