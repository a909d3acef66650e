package handler

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
)

// roles returns the roles to revoke: the task role and, with
// includeExecutionRole, the execution role when it is a different role.
// note tells the summary why an asked-for execution role is not among them.
// A role resolve-target did not report is looked up in the task definition
// (a task-level override, which resolve-target reports, wins over it).
func (h *Handler) roles(ctx context.Context, t *incident.Target, withExec bool) (roles []*roleChange, note string, err error) {
	taskRole, execRole := t.TaskRoleArn, t.ExecutionRoleArn
	if (taskRole == "" || withExec && execRole == "") && t.TaskDefinitionArn != "" && h.ECS != nil {
		out, err := h.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(t.TaskDefinitionArn)})
		if err != nil {
			return nil, "", contract.AWSError("ecs:DescribeTaskDefinition "+t.TaskDefinitionArn, err)
		}
		if td := out.TaskDefinition; td != nil {
			if taskRole == "" {
				taskRole = aws.ToString(td.TaskRoleArn)
			}
			if execRole == "" {
				execRole = aws.ToString(td.ExecutionRoleArn)
			}
		}
	}
	if taskRole == "" {
		return nil, "", &contract.PreconditionFailedError{Reason: "no task role: the task has no role credentials to revoke"}
	}
	rc, err := roleRef("task", taskRole, "target.taskRoleArn")
	if err != nil {
		return nil, "", err
	}
	roles = append(roles, rc)
	switch {
	case !withExec:
	case execRole == "":
		note = "; the task has no execution role"
	case execRole == taskRole:
		note = "; the execution role is the task role"
	default:
		rc, err := roleRef("execution", execRole, "target.executionRoleArn")
		if err != nil {
			return nil, "", err
		}
		roles = append(roles, rc)
	}
	return roles, note, nil
}

// roleRef takes the role name from an ARN (arn:aws:iam::123:role/path/name).
func roleRef(kind, arn, field string) (*roleChange, error) {
	i := strings.Index(arn, ":role/")
	if !strings.HasPrefix(arn, "arn:") || i < 0 || strings.HasSuffix(arn, "/") {
		return nil, &contract.InvalidInputError{Field: field, Reason: "not an IAM role ARN: " + arn}
	}
	name := arn[strings.LastIndexByte(arn, '/')+1:]
	return &roleChange{Kind: kind, RoleName: name, RoleArn: arn}, nil
}
