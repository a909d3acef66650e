package handler

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	gdtypes "github.com/aws/aws-sdk-go-v2/service/guardduty/types"
	"github.com/aws/smithy-go"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/mac"
)

// guardDutyAPI confirms a finding. Until the strict AWS layer serves it,
// tests answer it with fakes and an httptest stub (moto has no GuardDuty).
type guardDutyAPI interface {
	GetFindings(ctx context.Context, in *guardduty.GetFindingsInput, opts ...func(*guardduty.Options)) (*guardduty.GetFindingsOutput, error)
}

// requester establishes who asked for the response and sets
// inc.Requester. Only two things vouch for a requester:
//
//   - a GuardDuty finding that guardduty:GetFindings confirms (same id,
//     account, task ARN and type): the requester is aws.guardduty. A
//     finding GuardDuty does not confirm is refused (InvalidInputError
//     naming detail.id): it is a hand-made input, not a finding;
//   - the start API's envelope, whose MAC (the deployment's HMAC key)
//     binds the caller its signed request proved to this very state
//     machine, execution name and input: the requester is that caller.
//     A forged or replayed envelope is refused.
//
// Anything else (a console input's typed-in requestedBy) is recorded as
// claimed and unverified; every gate then needs two distinct approvers.
func (h *Handler) requester(ctx context.Context, p *contract.Payload, inc *incident.Incident, exec incident.Execution) error {
	if inc.Source == incident.SourceGuardDuty {
		if err := h.confirmFinding(ctx, inc); err != nil {
			return err
		}
		inc.Requester = &incident.Requester{ID: inc.RequestedBy, Verified: true, Via: incident.ViaGuardDuty}
		return nil
	}
	env, digest, err := incident.StartEnvelopeOf(p.Input)
	if err != nil {
		return invalid(err)
	}
	if env == nil {
		inc.Requester = incident.Claimed(inc)
		return nil
	}
	if err := h.checkEnvelope(ctx, inc, exec, env, digest); err != nil {
		return err
	}
	inc.Requester = &incident.Requester{ID: env.Caller, Verified: true, Via: incident.ViaStartAPI}
	return nil
}

// checkEnvelope verifies the start API's envelope around a console input.
func (h *Handler) checkEnvelope(ctx context.Context, inc *incident.Incident, exec incident.Execution, env *incident.StartEnvelope, digest string) error {
	return mac.VerifyStart(ctx, h.MAC, contract.StateMachineARNOf(exec.ID), exec.Name, exec.StartTime, env, digest, inc.RequestedBy)
}

// findingARN is arn:PARTITION:guardduty:REGION:ACCOUNT:detector/ID/finding/ID.
var findingARN = regexp.MustCompile(`^arn:[a-z-]+:guardduty:([a-z0-9-]+):([0-9]{12}):detector/([A-Za-z0-9]{1,300})/finding/([A-Za-z0-9_-]{1,300})$`)

// confirmFinding asks GuardDuty for the finding and compares what matters
// (https://docs.aws.amazon.com/guardduty/latest/APIReference/API_GetFindings.html):
// the id, the account, the task ARN and the type. The detector is the
// deployment's (IRFLOW_GUARDDUTY_DETECTOR_ID: a delegated administrator's
// detector sees its members' findings), else the one the finding's ARN names.
func (h *Handler) confirmFinding(ctx context.Context, inc *incident.Incident) error {
	f := inc.Finding
	refuse := func(format string, args ...any) error {
		return &contract.InvalidInputError{Field: "detail.id", Reason: fmt.Sprintf("GuardDuty does not confirm finding %s: ", f.ID) + fmt.Sprintf(format, args...)}
	}
	detector, fromInput := h.DetectorID, false
	if detector == "" {
		m := findingARN.FindStringSubmatch(f.Arn)
		if m == nil || m[4] != f.ID || m[1] != inc.Region {
			return refuse("detail.arn does not name a GuardDuty detector of region %s holding it, and no detector is configured (IRFLOW_GUARDDUTY_DETECTOR_ID)", inc.Region)
		}
		detector, fromInput = m[3], true
	}
	if h.GuardDuty == nil {
		return &contract.PreconditionFailedError{Reason: "no GuardDuty client to confirm the finding"}
	}
	out, err := h.GuardDuty.GetFindings(ctx, &guardduty.GetFindingsInput{DetectorId: aws.String(detector), FindingIds: []string{f.ID}})
	if err != nil {
		var api smithy.APIError
		if fromInput && errors.As(err, &api) && api.ErrorCode() == "BadRequestException" {
			return refuse("GuardDuty refused detector %s named by the finding: %s", detector, api.ErrorMessage())
		}
		return contract.AWSError("guardduty:GetFindings", err)
	}
	var got *gdtypes.Finding
	for i := range out.Findings {
		if aws.ToString(out.Findings[i].Id) == f.ID {
			got = &out.Findings[i]
		}
	}
	if got == nil {
		return refuse("detector %s has no such finding", detector)
	}
	task, instance := "", ""
	if r := got.Resource; r != nil && r.EcsClusterDetails != nil && r.EcsClusterDetails.TaskDetails != nil {
		task = aws.ToString(r.EcsClusterDetails.TaskDetails.Arn)
	}
	if r := got.Resource; r != nil && r.InstanceDetails != nil {
		instance = aws.ToString(r.InstanceDetails.InstanceId)
	}
	switch {
	case aws.ToString(got.AccountId) != inc.Account:
		return refuse("it is in account %s, the input says %s", aws.ToString(got.AccountId), inc.Account)
	case inc.IsHost() && (task != "" || instance != inc.InstanceID):
		// A host finding names the instance and no task.
		return refuse("it names instance %q and task %q, the input says instance %s", instance, task, inc.InstanceID)
	case !inc.IsHost() && task != inc.TaskArn:
		return refuse("it names task %q, the input says %s", task, inc.TaskArn)
	case aws.ToString(got.Type) != f.Type:
		return refuse("its type is %s, the input says %s", aws.ToString(got.Type), f.Type)
	}
	return nil
}

// invalid turns a normalization error into the InvalidInputError naming its field.
func invalid(err error) error {
	var fe *incident.FieldError
	if errors.As(err, &fe) {
		return &contract.InvalidInputError{Field: fe.Field, Reason: fe.Message}
	}
	return &contract.InvalidInputError{Field: "input", Reason: err.Error()}
}
