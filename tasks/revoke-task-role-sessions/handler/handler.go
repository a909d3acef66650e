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
	"github.com/irflow/irflow/tasks/ledger"
	"github.com/irflow/irflow/tasks/taskrt"
)

// iamAPI reads roles and reads and writes their inline deny policies.
type iamAPI interface {
	GetRole(ctx context.Context, in *iam.GetRoleInput, opts ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	GetRolePolicy(ctx context.Context, in *iam.GetRolePolicyInput, opts ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error)
	PutRolePolicy(ctx context.Context, in *iam.PutRolePolicyInput, opts ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error)
}

// taskDefAPI finds the roles when resolve-target could not.
type taskDefAPI interface {
	DescribeTaskDefinition(ctx context.Context, in *ecs.DescribeTaskDefinitionInput, opts ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
}

// Handler denies the sessions of the task's role (and, if asked, of its
// execution role).
type Handler struct {
	IAM    iamAPI
	ECS    taskDefAPI
	Ledger ledger.Appender
	Now    func() time.Time
}

// New builds the handler from the process's AWS config.
func New(cfg aws.Config, env taskrt.Env) taskrt.HandlerFunc {
	h := &Handler{IAM: iam.NewFromConfig(cfg), ECS: ecs.NewFromConfig(cfg), Ledger: ledger.NewStore(env.Home(cfg), env.IncidentsTable), Now: time.Now}
	return h.Handle
}

// params are the step's with: (tasks/catalog/params/revoke-task-role-sessions.json).
type params struct {
	Scope                *string `json:"scope"`
	PolicyName           *string `json:"policyName"`
	IncludeExecutionRole *bool   `json:"includeExecutionRole"`
}

// Scopes of a revocation.
const (
	scopeTask = "task"
	scopeRole = "role"
)

const (
	defaultRolePolicy = "irflow-revoke-older-sessions"
	defaultTaskPolicy = "irflow-deny-task"
	// responderPath is where irflow's own roles live (infra): never a target.
	responderPath = "/irflow/"
)

var (
	policyNameRE = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]{1,95}$`)
	taskIDRE     = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)
)

// roleChange is one role's deny; its exported fields are the outputs.
type roleChange struct {
	Kind       string `json:"kind"` // task | execution
	RoleName   string `json:"roleName"`
	RoleArn    string `json:"roleArn"`
	RoleID     string `json:"roleId,omitempty"`
	PolicyName string `json:"policyName"`
	// Condition is what the deny matches, e.g.
	// "StringLike aws:userid AROA...:0f8e..." or
	// "DateLessThan aws:TokenIssueTime 2026-03-01T12:00:01Z".
	Condition string `json:"condition"`
	// TokenIssueTime is the cut-off of scope role: sessions issued before it
	// are denied.
	TokenIssueTime string `json:"tokenIssueTime,omitempty"`
	Change         string `json:"change"` // put | replaced | kept
	// PreviousTokenIssueTime is the cut-off of the policy this run replaced.
	PreviousTokenIssueTime string `json:"previousTokenIssueTime,omitempty"`

	document, previous, sid string
}

// Handle puts (or keeps) the deny on each role.
func (h *Handler) Handle(ctx context.Context, p *contract.Payload) (*contract.Result, error) {
	var prm params
	if err := p.DecodeWith(&prm); err != nil {
		return nil, err
	}
	scope := scopeTask
	if prm.Scope != nil {
		scope = *prm.Scope
	}
	if scope != scopeTask && scope != scopeRole {
		return nil, &contract.InvalidInputError{Field: "with.scope", Reason: "must be task or role"}
	}
	withExec := prm.IncludeExecutionRole != nil && *prm.IncludeExecutionRole
	if withExec && scope == scopeTask {
		return nil, &contract.InvalidInputError{Field: "with.includeExecutionRole",
			Reason: "the execution role's sessions are not named after the task: use scope role to revoke them"}
	}
	if prm.PolicyName != nil && !policyNameRE.MatchString(*prm.PolicyName) {
		return nil, &contract.InvalidInputError{Field: "with.policyName", Reason: "must be 1 to 95 of A-Z a-z 0-9 + = , . @ _ -"}
	}
	if p.CaseID() == "" {
		return nil, &contract.InvalidInputError{Field: "incident.caseId", Reason: "the revocation is tied to its case"}
	}
	if p.Target == nil {
		return nil, &contract.InvalidInputError{Field: "target", Reason: "revoke-task-role-sessions needs the resolved target"}
	}
	roles, note, err := h.roles(ctx, p.Target, withExec)
	if err != nil {
		return nil, err
	}
	switch scope {
	case scopeTask:
		taskID := p.Target.TaskArn[strings.LastIndexByte(p.Target.TaskArn, '/')+1:]
		if !taskIDRE.MatchString(taskID) {
			return nil, &contract.InvalidInputError{Field: "target.taskArn", Reason: "no task id to name the sessions"}
		}
		name := defaultTaskPolicy
		if prm.PolicyName != nil {
			name = *prm.PolicyName
		}
		for _, rc := range roles {
			if err := h.planTask(ctx, rc, name+"-"+taskID, taskID); err != nil {
				return nil, err
			}
		}
	case scopeRole:
		name := defaultRolePolicy
		if prm.PolicyName != nil {
			name = *prm.PolicyName
		}
		cut := ceilSecond(h.now())
		for _, rc := range roles {
			if err := h.planRole(ctx, rc, name, p.CaseID(), cut); err != nil {
				return nil, err
			}
		}
	}
	if p.DryRun() {
		return outputs(contract.DryRun("would "+summary(roles, scope, true)+note), roles, scope), nil
	}
	if err := h.record(ctx, p, roles, scope); err != nil {
		return nil, err
	}
	for _, rc := range roles {
		if rc.Change == changeKept {
			continue
		}
		if _, err := h.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(rc.RoleName), PolicyName: aws.String(rc.PolicyName),
			PolicyDocument: aws.String(rc.document)}); err != nil {
			return nil, contract.AWSError("iam:PutRolePolicy "+rc.PolicyName+" on role "+rc.RoleName, err)
		}
	}
	return outputs(contract.OK(summary(roles, scope, false)+note), roles, scope), nil
}

// getRole reads the role's id and refuses the responder's own roles.
func (h *Handler) getRole(ctx context.Context, rc *roleChange) error {
	out, err := h.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(rc.RoleName)})
	if err != nil {
		return contract.AWSError("iam:GetRole "+rc.RoleName, err)
	}
	if out.Role == nil || aws.ToString(out.Role.RoleId) == "" {
		return &contract.TargetNotFoundError{Resource: "role " + rc.RoleName, Reason: "IAM returned no role id"}
	}
	if strings.HasPrefix(aws.ToString(out.Role.Path), responderPath) {
		return &contract.PreconditionFailedError{Reason: fmt.Sprintf("role %s is under %s: it is one of irflow's own roles, never a task's to revoke", rc.RoleArn, responderPath)}
	}
	rc.RoleID = aws.ToString(out.Role.RoleId)
	return nil
}

// planTask reads the role and its policy of that name and decides.
func (h *Handler) planTask(ctx context.Context, rc *roleChange, name, taskID string) error {
	if err := h.getRole(ctx, rc); err != nil {
		return err
	}
	rc.PolicyName = name
	rc.sid = taskStatementID(taskID)
	userID := rc.RoleID + ":" + taskID
	rc.Condition = "StringLike aws:userid " + userID
	rc.document = taskPolicyDocument(rc.sid, userID)
	doc, err := h.existing(ctx, rc)
	if err != nil {
		return err
	}
	switch {
	case doc == "":
		rc.Change = changePut
	case isTaskDeny(doc, userID):
		rc.Change = changeKept
	default:
		return &contract.PreconditionFailedError{Reason: fmt.Sprintf(
			"role %s already has an inline policy %s that is not irflow's deny of task %s: irflow will not overwrite it; choose another policyName", rc.RoleName, name, taskID)}
	}
	return nil
}

// planRole reads the role's policy of that name and decides the cut-off.
func (h *Handler) planRole(ctx context.Context, rc *roleChange, name, caseID string, now time.Time) error {
	if err := h.getRole(ctx, rc); err != nil {
		return err
	}
	rc.PolicyName = name
	doc, err := h.existing(ctx, rc)
	if err != nil {
		return err
	}
	var existing *revocation
	if doc != "" {
		rev, ok := parseRevocation(doc)
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
		rc.previous = doc
	}
	rc.sid = statementID(caseID)
	rc.Condition = "DateLessThan aws:TokenIssueTime " + rc.TokenIssueTime
	rc.document = policyDocument(caseID, cutoff)
	return nil
}

// existing returns the role's inline policy of rc.PolicyName ("" if none),
// decoded from the URL encoding IAM returns.
func (h *Handler) existing(ctx context.Context, rc *roleChange) (string, error) {
	out, err := h.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(rc.RoleName), PolicyName: aws.String(rc.PolicyName)})
	switch {
	case noSuchEntity(err):
		return "", nil
	case err != nil:
		return "", contract.AWSError("iam:GetRolePolicy "+rc.PolicyName+" of role "+rc.RoleName, err)
	}
	return decodeDocument(aws.ToString(out.PolicyDocument)), nil
}

// record writes each policy to the ledger before it is put.
func (h *Handler) record(ctx context.Context, p *contract.Payload, roles []*roleChange, scope string) error {
	var entries []ledger.Entry
	for _, rc := range roles {
		e, err := ledger.New(ledger.RolePolicyID(rc.RoleName, rc.PolicyName), ledger.KindRolePolicy, p.Step, p.Action, rc.RoleArn,
			ledger.RolePolicyData{RoleName: rc.RoleName, RoleArn: rc.RoleArn, PolicyName: rc.PolicyName, Sid: rc.sid, Scope: scope,
				Condition: rc.Condition, PreviousDocument: rc.previous}, h.now())
		if err != nil {
			return err
		}
		entries = append(entries, e)
	}
	_, err := h.Ledger.Append(ctx, p.CaseID(), entries...)
	return err
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func noSuchEntity(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == "NoSuchEntity"
}

func summary(roles []*roleChange, scope string, dry bool) string {
	var parts []string
	for _, rc := range roles {
		what := fmt.Sprintf("every action to the task's own sessions of %s role %s (%s)", rc.Kind, rc.RoleName, rc.Condition)
		if scope == scopeRole {
			what = fmt.Sprintf("every action to sessions of %s role %s issued before %s", rc.Kind, rc.RoleName, rc.TokenIssueTime)
		}
		switch {
		case rc.Change == changeKept && dry:
			parts = append(parts, "keep the deny of "+what+" (already in place)")
		case rc.Change == changeKept:
			parts = append(parts, "already denied: "+what)
		case dry:
			parts = append(parts, "deny "+what)
		default:
			parts = append(parts, "denied "+what)
		}
		parts[len(parts)-1] += " in inline policy " + rc.PolicyName
	}
	return strings.Join(parts, "; ") + "; IAM applies it within minutes"
}

// outputs carry what undoing takes: per role, the policy and its condition.
func outputs(r *contract.Result, roles []*roleChange, scope string) *contract.Result {
	r.With("scope", scope).With("roles", roles)
	if len(roles) > 0 {
		r.With("policyName", roles[0].PolicyName)
	}
	return r
}
