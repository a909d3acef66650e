package handler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/mac"
)

// ModeResolve is the release state machine's first state: read the
// execution input (incident.ReleaseInput), load the case from its claim and
// establish who asks, before the gate.
const ModeResolve = "resolve"

// claimAPI reads a case's claim (case#<caseId>) in the incidents table.
type claimAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

// ResolveCase rebuilds the case's incident from its claim (case#<caseId>
// in the incidents table, written by resolve-target when the case began):
// the task, its launch type, and from the task's ARN the cluster, region,
// account and partition. An unknown case is an InvalidInputError naming
// caseId.
func ResolveCase(ctx context.Context, db claimAPI, table, caseID string, dry bool) (*incident.Incident, error) {
	if table == "" {
		return nil, &contract.PreconditionFailedError{Reason: "no incidents table (IRFLOW_INCIDENTS_TABLE): the case's claim cannot be read"}
	}
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		Key: map[string]ddbtypes.AttributeValue{incident.TablePK: &ddbtypes.AttributeValueMemberS{Value: incident.CaseClaimKey(caseID)}}})
	if err != nil {
		return nil, contract.AWSError("dynamodb:GetItem case claim", err)
	}
	get := func(k string) string {
		if s, ok := out.Item[k].(*ddbtypes.AttributeValueMemberS); ok {
			return s.Value
		}
		return ""
	}
	taskArn := get("taskArn")
	if taskArn == "" {
		return nil, &contract.InvalidInputError{Field: "caseId", Reason: fmt.Sprintf("case %s is unknown: no claim in %s", caseID, table)}
	}
	a, err := incident.ParseTaskARN(taskArn)
	if err != nil {
		return nil, &contract.InvalidInputError{Field: "caseId", Reason: fmt.Sprintf("the claim of case %s names task %s: %v", caseID, taskArn, err)}
	}
	lt := get("launchType")
	if lt == "" {
		lt = "UNKNOWN"
	}
	return &incident.Incident{CaseID: caseID, Source: incident.SourceManual, TaskArn: taskArn, LaunchType: lt,
		ClusterArn: a.ClusterArn(), Region: a.Region, Account: a.Account, Partition: a.Partition, DryRun: dry,
		Reason: "release of case " + caseID, ReceivedAt: time.Now().UTC().Format(time.RFC3339)}, nil
}

// resolve is ModeResolve: outputs.incident (with its requester),
// outputs.target (the case's task) and outputs.with (the steps to
// release), which the state machine passes to the gate, the release and
// the report.
func (h *Handler) resolve(ctx context.Context, p *contract.Payload) (*contract.Result, error) {
	in, env, digest, err := incident.ParseReleaseInput(p.Input)
	if err != nil {
		var fe *incident.FieldError
		if errors.As(err, &fe) {
			return nil, &contract.InvalidInputError{Field: fe.Field, Reason: fe.Message}
		}
		return nil, &contract.InvalidInputError{Field: "input", Reason: err.Error()}
	}
	if h.Claims == nil {
		return nil, &contract.PreconditionFailedError{Reason: "no incidents table client: the case's claim cannot be read"}
	}
	inc, err := ResolveCase(ctx, h.Claims, h.IncidentsTable, in.CaseID, in.DryRun)
	if err != nil {
		return nil, err
	}
	if in.Reason != "" {
		inc.Reason = in.Reason
	}
	inc.RequestedBy = in.RequestedBy
	start, _ := time.Parse(time.RFC3339Nano, p.Execution.StartTime)
	if env == nil {
		// A typed-in input: requestedBy is a claim, and the gate needs two
		// approvers besides (issue 12's rules, request-approval applies them).
		inc.Requester = incident.Claimed(inc)
	} else {
		if err := mac.VerifyStart(ctx, h.MAC, contract.StateMachineARNOf(p.Execution.ID), p.Execution.Name, start, env, digest, in.RequestedBy); err != nil {
			return nil, err
		}
		inc.Requester = &incident.Requester{ID: env.Caller, Verified: true, Via: incident.ViaStartAPI}
	}
	// The release reads the case's ledger, not the task: the target is the
	// case's task as the claim names it (a stopped task may be gone from
	// ECS), only the fields the payload schema needs.
	target := map[string]any{"taskArn": inc.TaskArn, "launchType": inc.LaunchType, "clusterArn": inc.ClusterArn}
	with := map[string]any{}
	if len(in.Steps) > 0 {
		with["steps"] = in.Steps
	}
	who := inc.RequesterID()
	if who == "" {
		who = "nobody named"
	}
	state := "claimed, not verified"
	if inc.RequesterVerified() {
		state = "verified by the start API's seal"
	}
	return contract.OK(fmt.Sprintf("release of case %s (task %s, %s) requested by %s (%s)", inc.CaseID, inc.TaskArn, inc.LaunchType, who, state)).
		With("incident", inc).With("target", target).With("with", with), nil
}
