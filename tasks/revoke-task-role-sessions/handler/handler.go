package handler

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/taskrt"
)

// iamAPI reads and writes the role's inline revocation policy.
type iamAPI interface {
	GetRolePolicy(ctx context.Context, in *iam.GetRolePolicyInput, opts ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error)
	PutRolePolicy(ctx context.Context, in *iam.PutRolePolicyInput, opts ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error)
}

// taskDefAPI finds the roles when resolve-target could not.
type taskDefAPI interface {
	DescribeTaskDefinition(ctx context.Context, in *ecs.DescribeTaskDefinitionInput, opts ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
}

// Handler revokes the sessions of the task's role (and, if asked, of its
// execution role).
type Handler struct {
	IAM iamAPI
	ECS taskDefAPI
	Now func() time.Time
}

// New builds the handler from the process's AWS config.
func New(cfg aws.Config, _ taskrt.Env) taskrt.HandlerFunc {
	h := &Handler{IAM: iam.NewFromConfig(cfg), ECS: ecs.NewFromConfig(cfg), Now: time.Now}
	return h.Handle
}

// params are the step's with: (tasks/catalog/params/revoke-task-role-sessions.json).
type params struct {
	PolicyName           *string `json:"policyName"`
	IncludeExecutionRole *bool   `json:"includeExecutionRole"`
}

const defaultPolicyName = "irflow-revoke-older-sessions"

var policyNameRE = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]{1,128}$`)

// roleChange is one role's revocation; its fields are the outputs.
type roleChange struct {
	Kind           string `json:"kind"` // task | execution
	RoleName       string `json:"roleName"`
	RoleArn        string `json:"roleArn"`
	TokenIssueTime string `json:"tokenIssueTime"` // sessions issued before it are denied
	Change         string `json:"change"`         // put | replaced | kept
	// PreviousTokenIssueTime is the cut-off of the policy this run replaced.
	PreviousTokenIssueTime string `json:"previousTokenIssueTime,omitempty"`

	document string
}

// Handle puts (or keeps) the deny on each role.
func (h *Handler) Handle(ctx context.Context, p *contract.Payload) (*contract.Result, error) {
	var prm params
	if err := p.DecodeWith(&prm); err != nil {
		return nil, err
	}
	name := defaultPolicyName
	if prm.PolicyName != nil {
		name = *prm.PolicyName
	}
	if !policyNameRE.MatchString(name) {
		return nil, &contract.InvalidInputError{Field: "with.policyName", Reason: "must be 1 to 128 of A-Z a-z 0-9 + = , . @ _ -"}
	}
	if p.CaseID() == "" {
		return nil, &contract.InvalidInputError{Field: "incident.caseId", Reason: "the revocation is tied to its case"}
	}
	if p.Target == nil {
		return nil, &contract.InvalidInputError{Field: "target", Reason: "revoke-task-role-sessions needs the resolved target"}
	}
	roles, note, err := h.roles(ctx, p.Target, prm.IncludeExecutionRole != nil && *prm.IncludeExecutionRole)
	if err != nil {
		return nil, err
	}
	now := h.Now
	if now == nil {
		now = time.Now
	}
	cut := ceilSecond(now())
	for _, rc := range roles {
		if err := h.plan(ctx, rc, name, p.CaseID(), cut); err != nil {
			return nil, err
		}
	}
	if p.DryRun() {
		return outputs(contract.DryRun("would "+summary(roles, name, true)+note), roles, name), nil
	}
	for _, rc := range roles {
		if rc.Change == changeKept {
			continue
		}
		if _, err := h.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(rc.RoleName), PolicyName: aws.String(name), PolicyDocument: aws.String(rc.document)}); err != nil {
			return nil, contract.AWSError("iam:PutRolePolicy "+name+" on role "+rc.RoleName, err)
		}
	}
	return outputs(contract.OK(summary(roles, name, false)+note), roles, name), nil
}

// plan reads the role's policy of that name and decides the cut-off.
func (h *Handler) plan(ctx context.Context, rc *roleChange, name, caseID string, now time.Time) error {
	var existing *revocation
	out, err := h.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(rc.RoleName), PolicyName: aws.String(name)})
	switch {
	case noSuchEntity(err):
		// No policy of that name (or no role: PutRolePolicy will say which).
	case err != nil:
		return contract.AWSError("iam:GetRolePolicy "+name+" of role "+rc.RoleName, err)
	default:
		rev, ok := parseRevocation(aws.ToString(out.PolicyDocument))
		if !ok {
			return &contract.PreconditionFailedError{Reason: fmt.Sprintf(
				"role %s already has an inline policy %s that is not a session revocation: irflow will not overwrite it; choose another policyName", rc.RoleName, name)}
		}
		existing = rev
	}
	cutoff, change := decide(existing, caseID, now)
	rc.Change, rc.TokenIssueTime = change, cutoff.Format(time.RFC3339)
	if change == changeReplaced {
		rc.PreviousTokenIssueTime = existing.Cutoff.Format(time.RFC3339)
	}
	rc.document = policyDocument(caseID, cutoff)
	return nil
}

func noSuchEntity(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == "NoSuchEntity"
}

func summary(roles []*roleChange, name string, dry bool) string {
	var parts []string
	for _, rc := range roles {
		switch {
		case rc.Change == changeKept && dry:
			parts = append(parts, fmt.Sprintf("keep the deny on %s role %s for sessions issued before %s (already revoked)", rc.Kind, rc.RoleName, rc.TokenIssueTime))
		case rc.Change == changeKept:
			parts = append(parts, fmt.Sprintf("already revoked: %s role %s denies sessions issued before %s", rc.Kind, rc.RoleName, rc.TokenIssueTime))
		case dry:
			parts = append(parts, fmt.Sprintf("deny every action to sessions of %s role %s issued before %s", rc.Kind, rc.RoleName, rc.TokenIssueTime))
		default:
			parts = append(parts, fmt.Sprintf("revoked sessions of %s role %s issued before %s", rc.Kind, rc.RoleName, rc.TokenIssueTime))
		}
	}
	return strings.Join(parts, "; ") + " (inline policy " + name + ")"
}

// outputs carry what undoing takes: the policy name and, per role, its cut-off.
func outputs(r *contract.Result, roles []*roleChange, name string) *contract.Result {
	return r.With("policyName", name).With("roles", roles)
}
