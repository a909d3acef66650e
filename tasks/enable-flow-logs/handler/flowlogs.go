package handler

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/irflow/irflow/tasks/contract"
)

// existing maps each ENI that already has the case's flow log to its id.
// A flow log counts when it carries the case's tag or delivers to the
// case's folder.
func (h *Handler) existing(ctx context.Context, caseID, dest string, enis []string) (map[string]string, error) {
	out := map[string]string{}
	in := &ec2.DescribeFlowLogsInput{Filter: []ec2types.Filter{{Name: aws.String("resource-id"), Values: enis}}}
	for {
		page, err := h.EC2.DescribeFlowLogs(ctx, in)
		if err != nil {
			return nil, contract.AWSError("ec2:DescribeFlowLogs", err)
		}
		for _, fl := range page.FlowLogs {
			if ours(fl, caseID, dest) {
				out[aws.ToString(fl.ResourceId)] = aws.ToString(fl.FlowLogId)
			}
		}
		next := aws.ToString(page.NextToken)
		if next == "" || next == aws.ToString(in.NextToken) {
			return out, nil
		}
		in.NextToken = aws.String(next)
	}
}

func ours(fl ec2types.FlowLog, caseID, dest string) bool {
	for _, t := range fl.Tags {
		if aws.ToString(t.Key) == TagCaseID && aws.ToString(t.Value) == caseID {
			return true
		}
	}
	return strings.TrimSuffix(aws.ToString(fl.LogDestination), "/") == strings.TrimSuffix(dest, "/")
}

// create turns on the flow logs of todo. ENIs that already have an
// equivalent flow log count as existing; ENIs that are gone are skipped;
// any other refusal fails the step (a retry creates only what is missing).
func (h *Handler) create(ctx context.Context, p *contract.Payload, params Params, dest string, todo []string, existing map[string]string) ([]string, error) {
	out, err := h.EC2.CreateFlowLogs(ctx, &ec2.CreateFlowLogsInput{
		ResourceIds:            todo,
		ResourceType:           ec2types.FlowLogsResourceTypeNetworkInterface,
		TrafficType:            ec2types.TrafficType(params.TrafficType),
		MaxAggregationInterval: aws.Int32(params.MaxAggregationIntervalSeconds),
		LogDestinationType:     ec2types.LogDestinationTypeS3,
		LogDestination:         aws.String(dest),
		ClientToken:            aws.String(clientToken(p, todo)),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeVpcFlowLog, Tags: []ec2types.Tag{
			{Key: aws.String(TagCaseID), Value: aws.String(p.CaseID())},
			{Key: aws.String("Name"), Value: aws.String("irflow " + p.CaseID())},
		}}},
	})
	if err != nil {
		var api smithy.APIError
		if errors.As(err, &api) && api.ErrorCode() == "FlowLogAlreadyExists" {
			// The SDK resent a request whose reply was lost, and the first
			// one created the flow logs: what exists now is the answer.
			return h.createdMeanwhile(ctx, p.CaseID(), dest, todo, err)
		}
		return nil, contract.AWSError("ec2:CreateFlowLogs "+strings.Join(todo, ","), err)
	}
	var failed, gone []string
	for _, u := range out.Unsuccessful {
		id, code := aws.ToString(u.ResourceId), ""
		if u.Error != nil {
			code = aws.ToString(u.Error.Code)
		}
		switch {
		case code == "FlowLogAlreadyExists":
			existing[id] = "(equivalent flow log)"
		case strings.HasSuffix(code, "NotFound"):
			gone = append(gone, id)
		default:
			msg := code
			if u.Error != nil {
				msg += ": " + aws.ToString(u.Error.Message)
			}
			failed = append(failed, id+" ("+msg+")")
		}
	}
	if len(failed) > 0 {
		return nil, &contract.PreconditionFailedError{Reason: "ec2:CreateFlowLogs refused " + strings.Join(failed, "; ")}
	}
	if len(gone) == len(todo) {
		return nil, &contract.TargetNotFoundError{Resource: strings.Join(gone, ","), Reason: "the ENIs no longer exist"}
	}
	return nonNil(out.FlowLogIds), nil
}

// createdMeanwhile answers a whole-request FlowLogAlreadyExists: the case's
// flow logs on todo, when every ENI of todo now has one; the refusal
// otherwise.
func (h *Handler) createdMeanwhile(ctx context.Context, caseID, dest string, todo []string, refusal error) ([]string, error) {
	now, err := h.existing(ctx, caseID, dest, todo)
	if err != nil {
		return nil, err
	}
	ids := []string{}
	for _, id := range todo {
		fl, ok := now[id]
		if !ok {
			return nil, &contract.PreconditionFailedError{Reason: fmt.Sprintf("ec2:CreateFlowLogs %s: %v, but %s has no flow log of case %s", strings.Join(todo, ","), refusal, id, caseID)}
		}
		ids = append(ids, fl)
	}
	return ids, nil
}
