package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/irflow/irflow/tasks/approval-api/approval"
	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/taskrt"
)

// dynamoAPI is the part of DynamoDB the approvals table needs.
type dynamoAPI interface {
	approval.ItemAPI
	approval.ScanAPI
}

// Handler decides approvals.
type Handler struct {
	DB dynamoAPI
	// Audit is the audit chain the decisions are appended to.
	Audit audit.Auditor
	// Responder answers the gate's task token.
	Responder TaskResponder
	// Table is the approvals table (IRFLOW_APPROVALS_TABLE).
	Table string
	Now   func() time.Time
	// Log gets one line per request; never a token.
	Log *slog.Logger
}

// Action is the audit records' action for decisions made here.
const Action = "approval-api"

// New builds the handler with real clients.
func New(cfg aws.Config, env taskrt.Env) *Handler {
	return &Handler{
		DB:        dynamodb.NewFromConfig(cfg),
		Audit:     taskrt.NewChain(cfg, env),
		Responder: newSFNResponder(sfn.NewFromConfig(cfg)),
		Table:     env.ApprovalsTable,
		Now:       time.Now,
		Log:       taskrt.NewLogger(nil),
	}
}

// newSFNResponder answers gates and reads histories with one client.
func newSFNResponder(c *sfn.Client) *SFNResponder { return &SFNResponder{Client: c, History: c} }

// refusal is a decision or request the API turns down, as HTTP.
type refusal struct {
	status  int
	code    string
	message string
}

func (r *refusal) Error() string { return fmt.Sprintf("%d %s: %s", r.status, r.code, r.message) }

func refuse(status int, code, format string, args ...any) *refusal {
	return &refusal{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// body is the refusal's JSON body.
func (r *refusal) body() []byte {
	b, _ := json.Marshal(approval.ErrorResponse{Code: r.code, Message: r.message})
	return b
}

func (h *Handler) now() time.Time { return taskrt.NowUTC(h.Now) }

func (h *Handler) log() *slog.Logger { return taskrt.LoggerOr(h.Log) }

// update applies one UpdateItem to an approval.
func (h *Handler) update(ctx context.Context, id, expr, cond string, names map[string]string, values map[string]ddbtypes.AttributeValue) error {
	in := &dynamodb.UpdateItemInput{
		TableName: aws.String(h.Table), Key: approval.Key(id), UpdateExpression: aws.String(expr),
		ExpressionAttributeValues: values,
	}
	if len(names) > 0 {
		in.ExpressionAttributeNames = names
	}
	if cond != "" {
		in.ConditionExpression = aws.String(cond)
	}
	_, err := h.DB.UpdateItem(ctx, in)
	return err
}

// redact removes a token from text that is about to be logged or returned.
func redact(text, token string) string {
	if token == "" {
		return text
	}
	return strings.ReplaceAll(text, token, "[task token]")
}

func str(s string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: s} }

func num(n int) ddbtypes.AttributeValue {
	return &ddbtypes.AttributeValueMemberN{Value: strconv.Itoa(n)}
}
