package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/taskrt"
)

// snsAPI publishes the notification.
type snsAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// auditReader reads the case's audit chain, where an earlier attempt of the
// same notification left its result.
type auditReader = audit.Reader

// Handler sends case notifications.
type Handler struct {
	SNS   snsAPI
	Audit auditReader
	// TopicArn is IRFLOW_TOPIC_ARN; ApprovalURL is shown where approvals matter.
	TopicArn    string
	ApprovalURL string
}

// Params are the step's `with:` (tasks/catalog/params/notify.json).
type Params struct {
	Subject string `json:"subject"`
	Message string `json:"message"`
	Event   string `json:"event"`
}

// Events the compiler sets; a playbook's own notify steps have none and are
// reported as EventNotification.
const (
	EventStepFailed        = "step-failed"
	EventUnsupported       = "unsupported-launch-type"
	EventResolveFailed     = "resolve-failed"
	EventNotification      = "notification"
	maxSubjectParam        = 90
	maxMessageParam        = 4096
	maxSubjectBytes        = 99 // SNS: "less than 100 characters", ASCII
	maxMessageBytes        = 240 * 1024
	messageAttributesSlack = 4 * 1024 // attributes count towards the 256 KB too
)

var eventRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,39}$`)

// New builds the handler with real clients.
func New(cfg aws.Config, env taskrt.Env) taskrt.HandlerFunc {
	h := &Handler{SNS: sns.NewFromConfig(env.Home(cfg)), Audit: taskrt.NewChain(cfg, env), TopicArn: env.TopicArn, ApprovalURL: env.ApprovalURL}
	return h.Handle
}

// Handle publishes one notification.
func (h *Handler) Handle(ctx context.Context, p *contract.Payload) (*contract.Result, error) {
	params, err := decodeParams(p)
	if err != nil {
		return nil, err
	}
	if h.TopicArn == "" {
		return nil, &contract.PreconditionFailedError{Reason: "no topic configured (IRFLOW_TOPIC_ARN)"}
	}
	n := build(p, params, h.ApprovalURL)
	if prior := h.sentBefore(ctx, p, n.Event); prior != "" {
		return contract.OK(fmt.Sprintf("%s notification for case %s already sent (message %s)", n.Event, n.CaseID, prior)).
			With("event", n.Event).With("messageId", prior).With("alreadySent", true), nil
	}
	subject := n.subject(params.Subject)
	message := n.render()
	out, err := h.SNS.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(h.TopicArn), Subject: aws.String(subject), Message: aws.String(message),
		MessageAttributes: n.attributes(),
	})
	if err != nil {
		return nil, contract.AWSError("sns:Publish "+h.TopicArn, err)
	}
	id := aws.ToString(out.MessageId)
	summary := fmt.Sprintf("sent %q (%s, %d bytes)", subject, n.Event, len(message))
	return contract.OK(summary).With("event", n.Event).With("messageId", id).With("subject", subject).With("alreadySent", false), nil
}

func decodeParams(p *contract.Payload) (Params, error) {
	var params Params
	if err := p.DecodeWith(&params); err != nil {
		return params, err
	}
	switch {
	case utf8.RuneCountInString(params.Subject) > maxSubjectParam:
		return params, &contract.InvalidInputError{Field: "with.subject", Reason: fmt.Sprintf("is longer than %d characters", maxSubjectParam)}
	case hasControl(params.Subject):
		return params, &contract.InvalidInputError{Field: "with.subject", Reason: "contains a control character"}
	case utf8.RuneCountInString(params.Message) > maxMessageParam:
		return params, &contract.InvalidInputError{Field: "with.message", Reason: fmt.Sprintf("is longer than %d characters", maxMessageParam)}
	case params.Event != "" && !eventRE.MatchString(params.Event):
		return params, &contract.InvalidInputError{Field: "with.event", Reason: "must be lower-case letters, digits and dashes"}
	}
	return params, nil
}

// sentBefore returns the message id an earlier attempt of this step of this
// execution already published, or "". Reading the chain is best effort: when
// it fails, sending twice beats not sending.
func (h *Handler) sentBefore(ctx context.Context, p *contract.Payload, event string) string {
	if h.Audit == nil || p.CaseID() == "" || p.Execution.ID == "" {
		return ""
	}
	recs, err := h.Audit.Read(ctx, p.CaseID())
	if err != nil {
		return ""
	}
	for _, r := range recs {
		if r.Event != "result" || r.Action != p.Action || r.Step != p.Step || r.ExecutionID != p.Execution.ID ||
			(r.Status != contract.StatusOK && r.Status != contract.StatusDryRun) {
			continue
		}
		var d struct {
			Outputs struct {
				Event     string `json:"event"`
				MessageID string `json:"messageId"`
			} `json:"outputs"`
		}
		if json.Unmarshal([]byte(r.Detail), &d) == nil && d.Outputs.Event == event && d.Outputs.MessageID != "" {
			return d.Outputs.MessageID
		}
	}
	return ""
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

func attr(v string) snstypes.MessageAttributeValue {
	return snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
}
