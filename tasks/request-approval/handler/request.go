package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/irflow/irflow/tasks/approval-api/approval"
	"github.com/irflow/irflow/tasks/contract"
)

// request opens the gate: store the pending approval with its token, audit,
// and tell the approvers. The task's result is not the gate's output (that
// comes from approval-api's SendTaskSuccess), but the runtime audits it.
func (h *Handler) request(ctx context.Context, p *contract.Payload, params Params) (*contract.Result, error) {
	if p.TaskToken == "" {
		return nil, &contract.InvalidInputError{Field: "taskToken", Reason: "a gate in mode request needs $$.Task.Token"}
	}
	var err error
	approvers, ignored, defaulted := h.approvers(params)
	if len(approvers) == 0 {
		return nil, &contract.PreconditionFailedError{Reason: fmt.Sprintf(
			"gate %q has no approver: name IAM user or role ARNs in the playbook's approval.approvers or in IRFLOW_DEFAULT_APPROVERS (ignored: %v)",
			p.Step, ignored)}
	}
	now := h.now()
	a := &approval.Approval{
		ID: approval.ID(p.Execution.ID, p.Step), CaseID: p.CaseID(), ExecutionID: p.Execution.ID,
		StateMachine: contract.StateMachineARNOf(p.Execution.ID), Step: p.Step, TaskArn: p.Incident.TaskArn,
		Prompt: params.Prompt, Approvers: approvers, RequestedBy: p.Incident.RequesterID(),
		RequesterVerified: p.Incident.RequesterVerified(),
		RequiredApprovals: approval.RequiredApprovals(params.MinApprovers, p.Incident.RequesterVerified()),
		AllowSelfApproval: params.AllowSelfApproval, OnTimeout: params.OnTimeout, TimeoutSeconds: params.TimeoutSeconds,
		DryRun: p.DryRun(), Status: approval.StatusPending, RequestedAt: now.Format(time.RFC3339Nano),
		ExpiresAt: now.Add(time.Duration(params.TimeoutSeconds) * time.Second).Truncate(time.Second),
		Attempts:  1, TaskToken: p.TaskToken,
	}
	if p.Target != nil {
		a.LaunchType = p.Target.LaunchType
	}
	if a.Tasks, a.TasksTruncated, a.LeftAlone, err = h.caseTasks(ctx, p); err != nil {
		return nil, err
	}
	stored, err := h.store(ctx, a)
	if err != nil {
		return nil, err
	}
	detail := map[string]any{
		"approvalId": stored.ID, "approvers": stored.Approvers, "defaultApprovers": defaulted,
		"requestedBy": stored.RequestedBy, "requesterVerified": stored.RequesterVerified,
		"requiredApprovals": stored.Required(), "allowSelfApproval": stored.AllowSelfApproval,
		"onTimeout": stored.OnTimeout, "expiresAt": stored.ExpiresAt.Format(time.RFC3339), "attempt": stored.Attempts,
		"prompt": stored.Prompt, "tasks": stored.Tasks,
	}
	if len(stored.LeftAlone) > 0 {
		detail["leftAlone"] = stored.LeftAlone
	}
	if len(ignored) > 0 {
		detail["ignoredApprovers"] = ignored
	}
	summary := fmt.Sprintf("approval %s requested from %d approver(s), %d approval(s) needed, decide by %s: %s",
		stored.ID, len(stored.Approvers), stored.Required(), stored.ExpiresAt.Format(time.RFC3339), stored.Prompt)
	if err := h.audit(ctx, p, "approval-requested", approval.StatusPending, summary, detail); err != nil {
		return nil, err
	}
	notified, err := h.notify(ctx, p, stored)
	if err != nil {
		return nil, err
	}
	return contract.OK(summary).
		With("approvalId", stored.ID).
		With("expiresAt", stored.ExpiresAt.Format(time.RFC3339)).
		With("approvers", stored.Approvers).
		With("attempt", stored.Attempts).
		With("requiredApprovals", stored.Required()).
		With("requesterVerified", stored.RequesterVerified).
		With("notified", notified), nil
}

// approvers returns the gate's approvers (or the deployment's defaults when
// it names none) that are IAM principal ARNs, those it ignored, and whether
// the defaults applied.
func (h *Handler) approvers(params Params) (valid, ignored []string, defaulted bool) {
	list := params.Approvers
	if len(list) == 0 {
		list, defaulted = h.DefaultApprovers, true
	}
	valid = []string{}
	for _, a := range list {
		a = strings.TrimSpace(a)
		if _, err := approval.ParsePrincipal(a); err != nil {
			ignored = append(ignored, a)
			continue
		}
		valid = append(valid, a)
	}
	return valid, ignored, defaulted
}

// store writes a new pending approval. If the gate already has one (Step
// Functions retried the request with a new token), a pending approval takes
// the new token and deadline; a decided one is never reopened.
func (h *Handler) store(ctx context.Context, a *approval.Approval) (*approval.Approval, error) {
	item, err := a.Item()
	if err != nil {
		return nil, err
	}
	_, err = h.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(h.Table), Item: item,
		ConditionExpression: aws.String("attribute_not_exists(approvalId)"),
	})
	if err == nil {
		return a, nil
	}
	if !approval.ConditionFailed(err) {
		return nil, contract.AWSError("dynamodb:PutItem approvals", err)
	}
	out, err := h.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(h.Table),
		Key:                      approval.Key(a.ID),
		UpdateExpression:         aws.String("SET taskToken = :token, expiresAt = :expires, attempts = attempts + :one"),
		ConditionExpression:      aws.String("#status = :pending"),
		ExpressionAttributeNames: map[string]string{"#status": "status"},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":token": str(a.TaskToken), ":expires": num(a.ExpiresAt.Unix()), ":one": num(1),
			":pending": str(approval.StatusPending),
		},
		ReturnValues: ddbtypes.ReturnValueAllNew,
	})
	if err == nil {
		return approval.FromItem(out.Attributes)
	}
	if !approval.ConditionFailed(err) {
		return nil, contract.AWSError("dynamodb:UpdateItem approvals", err)
	}
	prev, err := approval.Load(ctx, h.DB, h.Table, a.ID)
	if err != nil {
		return nil, err
	}
	if prev == nil {
		return nil, &contract.RetryableError{Op: "approval " + a.ID, Err: fmt.Errorf("the record vanished while the gate was re-requested")}
	}
	// The gate asks again after a decision was recorded: its old token is
	// dead, so the decision cannot reach this attempt. Fail rather than let
	// the gate wait for a timeout whose onTimeout might contradict it.
	return nil, &contract.PreconditionFailedError{Reason: fmt.Sprintf(
		"approval %s was already decided (%s by %s at %s) and is not reopened; the gate's request was retried after the decision",
		a.ID, prev.Status, prev.DecidedBy, prev.DecidedAt)}
}

// EventFindingJoined is resolve-target's record of a finding that joined
// the case (tasks/resolve-target/handler.EventFindingJoined).
const EventFindingJoined = "finding-joined"

// caseTasks are the tasks the gate covers, read from the case's audit
// chain: the run's own task, then the sameImage list of this execution's
// find-siblings results, then the tasks of findings that joined the case,
// each once, at most approval.MaxTasks. leftAlone are the tasks those
// find-siblings results left out for a tag of the playbook's exclude:
// (siblings.excluded), which the gate does not cover.
func (h *Handler) caseTasks(ctx context.Context, p *contract.Payload) (tasks []string, truncated bool, leftAlone []string, err error) {
	out := []string{p.Incident.TaskArn}
	seen := map[string]bool{p.Incident.TaskArn: true}
	add := func(arns ...string) {
		for _, a := range arns {
			if a != "" && !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	if h.Records == nil || p.CaseID() == "" {
		return out, false, nil, nil
	}
	recs, err := h.Records.Read(ctx, p.CaseID())
	if err != nil {
		return nil, false, nil, err
	}
	var joined []string
	for _, r := range recs {
		var d struct {
			TaskArn string `json:"taskArn"`
			Outputs struct {
				Siblings *struct {
					SameImage []string `json:"sameImage"`
					Excluded  []string `json:"excluded"`
				} `json:"siblings"`
			} `json:"outputs"`
		}
		switch {
		case r.Event == "result" && r.Action == "find-siblings" && r.ExecutionID == p.Execution.ID:
			if json.Unmarshal([]byte(r.Detail), &d) == nil && d.Outputs.Siblings != nil {
				add(d.Outputs.Siblings.SameImage...)
				for _, a := range d.Outputs.Siblings.Excluded {
					if !slices.Contains(leftAlone, a) && len(leftAlone) < approval.MaxTasks {
						leftAlone = append(leftAlone, a)
					}
				}
			}
		case r.Event == EventFindingJoined:
			if json.Unmarshal([]byte(r.Detail), &d) == nil {
				joined = append(joined, d.TaskArn)
			}
		}
	}
	// A joined finding's task that find-siblings left alone is not acted
	// on either (no forEach reaches it): the gate does not cover it.
	add(slices.DeleteFunc(joined, func(a string) bool { return slices.Contains(leftAlone, a) })...)
	if len(out) > approval.MaxTasks {
		return out[:approval.MaxTasks], true, leftAlone, nil
	}
	return out, false, leftAlone, nil
}
