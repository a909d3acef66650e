package handler

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
)

// ModeSibling describes one task of a forEach's list for the case in the
// payload's incident: no case claim and no dedupe lock (the case's own run
// holds them), no requester check (the case already passed it).
const ModeSibling = "sibling"

// siblingInput is the input of mode sibling: {"taskArn": "..."}.
type siblingInput struct {
	TaskArn string `json:"taskArn"`
}

// sibling returns the case's incident unchanged and the listed task as the
// target. The task must be in the account and region of the case's task:
// find-siblings looks nowhere else, and the functions' roles reach nowhere
// else.
func (h *Handler) sibling(ctx context.Context, p *contract.Payload) (*contract.Result, error) {
	if p.Incident == nil || p.Incident.TaskArn == "" && !p.Incident.IsHost() {
		return nil, &contract.InvalidInputError{Field: "incident", Reason: "is required in mode sibling"}
	}
	var in siblingInput
	if err := json.Unmarshal(p.Input, &in); err != nil || in.TaskArn == "" {
		return nil, &contract.InvalidInputError{Field: "input.taskArn", Reason: "is required in mode sibling"}
	}
	arn, err := incident.ParseTaskARN(in.TaskArn)
	if err != nil {
		return nil, &contract.InvalidInputError{Field: "input.taskArn", Reason: err.Error()}
	}
	// A host case (a finding about a container instance) has no task of
	// its own: its account and region are the finding's.
	own := incident.TaskARN{Partition: p.Incident.Partition, Account: p.Incident.Account, Region: p.Incident.Region}
	if !p.Incident.IsHost() {
		if own, err = incident.ParseTaskARN(p.Incident.TaskArn); err != nil {
			return nil, &contract.InvalidInputError{Field: "incident.taskArn", Reason: err.Error()}
		}
	}
	if arn.Partition != own.Partition || arn.Account != own.Account || arn.Region != own.Region {
		return nil, &contract.InvalidInputError{Field: "input.taskArn", Reason: fmt.Sprintf(
			"is in %s/%s; the case's task is in %s/%s", arn.Account, arn.Region, own.Account, own.Region)}
	}
	task := *p.Incident
	task.TaskArn, task.ClusterArn = in.TaskArn, arn.ClusterArn()
	task.ResourceType, task.InstanceID = "", "" // the listed task, not the case's host
	target, err := h.describe(ctx, &task, nil)
	if err != nil {
		return nil, err
	}
	s := fmt.Sprintf("case %s, task of the list: %s task %s (%s", p.Incident.CaseID, target.LaunchType, shortID(target.TaskArn), target.NetworkMode)
	if target.InstanceID != "" {
		s += " on " + target.InstanceID
	}
	s += ")"
	if target.LastStatus != "" && target.LastStatus != "RUNNING" {
		s += ", last status " + target.LastStatus
	}
	return contract.OK(s).With("incident", p.Incident).With("target", target), nil
}
