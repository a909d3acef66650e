package handler

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/irflow/irflow/tasks/approval-api/approval"
	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/taskrt"
)

// dynamoAPI is the part of DynamoDB the approvals table needs.
type dynamoAPI interface {
	approval.ItemAPI
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

// snsAPI publishes the request to the approvers' topic.
type snsAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Handler opens and times out approval gates.
type Handler struct {
	DB  dynamoAPI
	SNS snsAPI
	// Audit is the case's audit chain; nil skips the approval records.
	Audit audit.Auditor
	// Records reads the case's chain for the tasks the gate covers
	// (find-siblings' lists, joined findings); nil: the run's task only.
	Records audit.Reader
	// Table is the approvals table (IRFLOW_APPROVALS_TABLE).
	Table string
	// TopicArn receives approval requests (IRFLOW_TOPIC_ARN); "" sends none.
	TopicArn string
	// ApprovalURL is the approval API's Function URL, shown to approvers.
	ApprovalURL string
	// DefaultApprovers decide gates that name none (IRFLOW_DEFAULT_APPROVERS).
	DefaultApprovers []string
	Now              func() time.Time
}

// Params are the gate's `with:` (tasks/catalog/params/request-approval.json).
type Params struct {
	Prompt            string   `json:"prompt"`
	Approvers         []string `json:"approvers"`
	TimeoutSeconds    int      `json:"timeoutSeconds"`
	OnTimeout         string   `json:"onTimeout"`
	AllowSelfApproval bool     `json:"allowSelfApproval"`
	// MinApprovers is the playbook's number of distinct approvers a gate
	// needs (the language's minApprovers; absent: 1). An unverified
	// requester raises it to at least two (approval.RequiredApprovals).
	MinApprovers int `json:"minApprovers,omitempty"`
}

// Modes of the action.
const (
	ModeRequest = "request"
	ModeTimeout = "timeout"
)

// New builds the handler with real clients.
func New(cfg aws.Config, env taskrt.Env) taskrt.HandlerFunc {
	h := &Handler{
		DB:               dynamodb.NewFromConfig(env.Home(cfg)),
		SNS:              sns.NewFromConfig(env.Home(cfg)),
		Audit:            taskrt.NewChain(cfg, env),
		Records:          taskrt.NewChain(cfg, env),
		Table:            env.ApprovalsTable,
		TopicArn:         env.TopicArn,
		ApprovalURL:      env.ApprovalURL,
		DefaultApprovers: env.DefaultApprovers,
		Now:              time.Now,
	}
	return h.Handle
}

// Handle runs the gate's request or timeout call.
func (h *Handler) Handle(ctx context.Context, p *contract.Payload) (*contract.Result, error) {
	params, err := decodeParams(p)
	if err != nil {
		return nil, err
	}
	if h.Table == "" {
		return nil, &contract.PreconditionFailedError{Reason: "no approvals table configured (IRFLOW_APPROVALS_TABLE)"}
	}
	switch p.Mode {
	case ModeRequest:
		return h.request(ctx, p, params)
	case ModeTimeout:
		return h.timeout(ctx, p, params)
	}
	return nil, &contract.InvalidInputError{Field: "mode", Reason: `must be "request" or "timeout", not "` + p.Mode + `"`}
}

func decodeParams(p *contract.Payload) (Params, error) {
	var params Params
	if err := p.DecodeWith(&params); err != nil {
		return params, err
	}
	switch {
	case p.Step == "":
		return params, &contract.InvalidInputError{Field: "step", Reason: "an approval gate is a playbook step and needs its id"}
	case p.Incident == nil:
		return params, &contract.InvalidInputError{Field: "incident", Reason: "required"}
	case strings.TrimSpace(params.Prompt) == "":
		return params, &contract.InvalidInputError{Field: "with.prompt", Reason: "required"}
	case params.TimeoutSeconds < 1:
		return params, &contract.InvalidInputError{Field: "with.timeoutSeconds", Reason: "must be a positive number of seconds"}
	case params.OnTimeout != approval.DecisionApprove && params.OnTimeout != approval.DecisionReject:
		return params, &contract.InvalidInputError{Field: "with.onTimeout", Reason: `must be "approve" or "reject"`}
	}
	return params, nil
}

// audit appends one approval record to the case's chain.
func (h *Handler) audit(ctx context.Context, p *contract.Payload, event, status, summary string, detail any) error {
	if h.Audit == nil {
		return nil
	}
	d, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	_, err = h.Audit.Append(ctx, audit.Record{CaseID: p.CaseID(), ExecutionID: p.Execution.ID, Step: p.Step,
		Action: p.Action, Event: event, Status: status, Summary: summary, Detail: string(d)})
	return err
}

func (h *Handler) now() time.Time { return taskrt.NowUTC(h.Now) }

func str(s string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: s} }

func num(n int64) ddbtypes.AttributeValue {
	return &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
