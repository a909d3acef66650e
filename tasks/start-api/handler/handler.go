package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/irflow/irflow/tasks/approval-api/approval"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/funcurl"
	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/mac"
	"github.com/irflow/irflow/tasks/start-api/start"
	"github.com/irflow/irflow/tasks/taskrt"
	"github.com/irflow/irflow/tasks/termsafe"
)

// The wire types are package start's; these names keep the handler's
// code short.
type (
	Request       = start.Request
	Response      = start.Response
	ErrorResponse = start.ErrorResponse
)

// Refusal codes (start.Code*).
const (
	CodeBadRequest   = start.CodeBadRequest
	CodeInvalidInput = start.CodeInvalidInput
	CodeNoIdentity   = start.CodeNoIdentity
	CodeUnknown      = start.CodeUnknown
	CodeDuplicate    = start.CodeDuplicate
	CodeFailed       = start.CodeFailed
)

// sfnAPI starts executions.
type sfnAPI interface {
	StartExecution(ctx context.Context, in *sfn.StartExecutionInput, opts ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
}

// Handler starts responses.
type Handler struct {
	SFN sfnAPI
	// MAC seals the input (IRFLOW_MAC_KEY_ARN).
	MAC *mac.Key
	// StateMachinePrefix is arn:P:states:R:A:stateMachine:irflow-
	// (IRFLOW_STATE_MACHINE_PREFIX): a playbook's name completes it.
	StateMachinePrefix string
	Now                func() time.Time
	Log                *slog.Logger
}

// New builds the handler with real clients.
func New(cfg aws.Config, env taskrt.Env) *Handler {
	return &Handler{SFN: sfn.NewFromConfig(cfg), MAC: taskrt.NewMACKey(cfg, env), StateMachinePrefix: env.StateMachinePrefix,
		Now: time.Now, Log: taskrt.NewLogger(nil)}
}

// maxBody bounds a request body.
const maxBody = 16 * 1024

var playbookRE = regexp.MustCompile(`^[a-z][a-z0-9-]{1,62}$`)

// HandleURL serves POST /start on the Function URL. It never returns an
// error: every failure is an HTTP answer with a JSON body.
func (h *Handler) HandleURL(ctx context.Context, req events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
	return funcurl.Response(h.route(ctx, req)), nil
}

func (h *Handler) route(ctx context.Context, req events.LambdaFunctionURLRequest) (int, []byte) {
	method, path := funcurl.Route(req)
	if path != "/start" {
		return answer(http.StatusNotFound, ErrorResponse{Code: CodeBadRequest, Message: "no route " + method + " " + path + " (POST /start)"})
	}
	if method != http.MethodPost {
		return answer(http.StatusMethodNotAllowed, ErrorResponse{Code: CodeBadRequest, Message: method + " is not allowed on /start"})
	}
	var r Request
	if msg := funcurl.Decode(req, maxBody, &r, func(err error) string {
		return `the body must be {"playbook", "taskArn", "reason", "dryRun", "caseId", "steps"}: ` + termsafe.Line(err.Error())
	}); msg != "" {
		return answer(http.StatusBadRequest, ErrorResponse{Code: CodeBadRequest, Message: msg})
	}
	caller := ""
	if a := req.RequestContext.Authorizer; a != nil && a.IAM != nil {
		caller = a.IAM.UserARN
		if p, err := approval.ParsePrincipal(caller); err != nil || (a.IAM.AccountID != "" && a.IAM.AccountID != p.Account) {
			caller = ""
		}
	}
	return h.Start(ctx, caller, r)
}

// Start starts the response for caller and returns the HTTP answer. The
// HTTP route and tests start through it.
func (h *Handler) Start(ctx context.Context, caller string, r Request) (int, []byte) {
	log := h.log().With("caller", caller, "playbook", r.Playbook, "caseId", r.CaseID)
	status, body := h.start(ctx, caller, r)
	if status >= 300 {
		log.Warn("start refused", "status", status, "answer", string(body))
	} else {
		log.Info("started", "answer", string(body))
	}
	return status, body
}

func (h *Handler) start(ctx context.Context, caller string, r Request) (int, []byte) {
	if caller == "" {
		return answer(http.StatusForbidden, ErrorResponse{Code: CodeNoIdentity,
			Message: "the request carries no IAM identity of an IAM user or role session (the Function URL must use AWS_IAM auth)"})
	}
	if !playbookRE.MatchString(r.Playbook) {
		return answer(http.StatusBadRequest, ErrorResponse{Code: CodeInvalidInput, Field: "playbook",
			Message: fmt.Sprintf("%q is not a playbook name (lower-case letters, digits and -)", termsafe.Line(clip(r.Playbook)))})
	}
	if h.StateMachinePrefix == "" || !h.MAC.Configured() {
		return answer(http.StatusServiceUnavailable, ErrorResponse{Code: CodeFailed,
			Message: "the start API is not configured (IRFLOW_STATE_MACHINE_PREFIX, IRFLOW_MAC_KEY_ARN)"})
	}
	now := h.now()
	if r.Playbook == start.ReleasePlaybook {
		return h.startRelease(ctx, caller, r, now)
	}
	if len(r.Steps) > 0 {
		return answer(http.StatusBadRequest, ErrorResponse{Code: CodeInvalidInput, Field: "steps", Message: "steps selects what a release undoes; a playbook runs all its steps"})
	}
	if r.CaseID == "" {
		r.CaseID = NewCaseID(now)
	}
	input, err := json.Marshal(map[string]any{"taskArn": r.TaskArn, "reason": r.Reason, "requestedBy": caller, "dryRun": r.DryRun, "caseId": r.CaseID})
	if err != nil {
		return answer(http.StatusBadRequest, ErrorResponse{Code: CodeBadRequest, Message: err.Error()})
	}
	// The same check the execution's first state makes: refuse here what
	// it would refuse, naming the field.
	if _, err := incident.Normalize(input, incident.Execution{Name: r.CaseID, StartTime: now}); err != nil {
		var fe *incident.FieldError
		if errors.As(err, &fe) {
			return answer(http.StatusBadRequest, ErrorResponse{Code: CodeInvalidInput, Field: fe.Field, Message: fe.Message})
		}
		return answer(http.StatusBadRequest, ErrorResponse{Code: CodeInvalidInput, Field: "input", Message: err.Error()})
	}
	return h.startSealed(ctx, caller, r, now, r.CaseID, input)
}

// startRelease starts the release state machine for the case: its input
// is incident.ReleaseInput with the caller as requestedBy, sealed like a
// playbook's; release-containment's resolve mode verifies the seal and
// loads the case. The execution is named after the case and the time, so
// a case can be released again later (a second release changes nothing).
func (h *Handler) startRelease(ctx context.Context, caller string, r Request, now time.Time) (int, []byte) {
	if r.TaskArn != "" {
		return answer(http.StatusBadRequest, ErrorResponse{Code: CodeInvalidInput, Field: "taskArn", Message: "a release names the case, not a task: the case's claim names its task"})
	}
	in := incident.ReleaseInput{CaseID: r.CaseID, Steps: r.Steps, DryRun: r.DryRun, Reason: r.Reason, RequestedBy: caller}
	if err := in.Validate(); err != nil {
		var fe *incident.FieldError
		if errors.As(err, &fe) {
			return answer(http.StatusBadRequest, ErrorResponse{Code: CodeInvalidInput, Field: fe.Field, Message: fe.Message})
		}
		return answer(http.StatusBadRequest, ErrorResponse{Code: CodeInvalidInput, Field: "input", Message: err.Error()})
	}
	input, err := json.Marshal(in)
	if err != nil {
		return answer(http.StatusBadRequest, ErrorResponse{Code: CodeBadRequest, Message: err.Error()})
	}
	return h.startSealed(ctx, caller, r, now, incident.ReleaseExecutionName(r.CaseID, now), input)
}

// startSealed seals the input for the state machine of r.Playbook and the
// execution name, and starts it.
func (h *Handler) startSealed(ctx context.Context, caller string, r Request, now time.Time, name string, input []byte) (int, []byte) {
	sm := h.StateMachinePrefix + r.Playbook
	sealed, err := Seal(ctx, h.MAC, sm, name, caller, now, input)
	if err != nil {
		return answer(http.StatusServiceUnavailable, ErrorResponse{Code: CodeFailed, Message: "sealing the input: " + err.Error()})
	}
	out, err := h.SFN.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String(name),
		Input: aws.String(string(sealed))})
	var (
		exists  *sfntypes.ExecutionAlreadyExists
		missing *sfntypes.StateMachineDoesNotExist
	)
	switch {
	case errors.As(err, &exists):
		return answer(http.StatusConflict, ErrorResponse{Code: CodeDuplicate, Field: "caseId", Message: fmt.Sprintf(
			"case %s already has an execution %s of %s: executions are named after their case id; choose another case id or follow it with irflow audit %s",
			r.CaseID, name, sm, r.CaseID)})
	case errors.As(err, &missing):
		return answer(http.StatusNotFound, ErrorResponse{Code: CodeUnknown, Field: "playbook", Message: fmt.Sprintf("this deployment has no playbook %s (%s)", r.Playbook, sm)})
	case err != nil:
		return answer(http.StatusBadGateway, ErrorResponse{Code: CodeFailed, Message: contract.AWSError("states:StartExecution "+sm, err).Error()})
	}
	return answer(http.StatusOK, Response{CaseID: r.CaseID, ExecutionArn: aws.ToString(out.ExecutionArn), StateMachineArn: sm,
		RequestedBy: caller, StartedAt: now.UTC().Format(time.RFC3339Nano)})
}

// NewCaseID returns case-<yyyymmdd-hhmmss>-<4 hex>, in UTC.
func NewCaseID(now time.Time) string { return start.NewCaseID(now) }

func answer(status int, v any) (int, []byte) {
	b, _ := json.Marshal(v)
	return status, b
}

func clip(s string) string {
	if len(s) > 100 {
		return s[:100]
	}
	return s
}

func (h *Handler) now() time.Time { return taskrt.NowUTC(h.Now) }

func (h *Handler) log() *slog.Logger { return taskrt.LoggerOr(h.Log) }
