package handler

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/finalize-case/report"
	"github.com/irflow/irflow/tasks/taskrt"
)

// chainReader reads a case's audit records.
type chainReader interface {
	Read(ctx context.Context, caseID string) ([]audit.Record, error)
}

// evidenceWriter stores one evidence object and returns its entry.
type evidenceWriter interface {
	Put(ctx context.Context, caseID, folder, name, contentType string, body []byte) (contract.Evidence, error)
}

// dynamoAPI releases the dedupe lock.
type dynamoAPI interface {
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// Handler writes the case report and releases the lock.
type Handler struct {
	Chain    chainReader
	Evidence evidenceWriter
	DB       dynamoAPI
	// IncidentsTable holds the dedupe locks (IRFLOW_INCIDENTS_TABLE); "" skips the release.
	IncidentsTable string
	Now            func() time.Time
}

// New builds the handler with real clients.
func New(cfg aws.Config, env taskrt.Env) taskrt.HandlerFunc {
	h := &Handler{
		Chain:          taskrt.NewChain(cfg, env),
		Evidence:       taskrt.NewEvidenceWriter(cfg, env),
		DB:             dynamodb.NewFromConfig(cfg),
		IncidentsTable: env.IncidentsTable,
		Now:            time.Now,
	}
	return h.Handle
}

// Handle builds and stores the report, manifest and Markdown, then releases the lock.
func (h *Handler) Handle(ctx context.Context, p *contract.Payload) (*contract.Result, error) {
	if p.Incident == nil || p.CaseID() == "" {
		return nil, &contract.InvalidInputError{Field: "incident.caseId", Reason: "finalize-case needs the case"}
	}
	caseID := p.CaseID()
	records, err := h.Chain.Read(ctx, caseID)
	if err != nil {
		return nil, err
	}
	rep := report.Build(report.Input{
		CaseID: caseID, Outcome: p.Outcome, DryRun: p.DryRun(), ExecutionID: p.Execution.ID,
		Incident: p.Incident, Target: p.Target, Steps: p.Steps, Errors: p.Errors, Failure: p.Failure,
		Records: records, Now: h.now(),
	})
	folder := p.Folder()
	jsonEv, err := h.Evidence.Put(ctx, caseID, folder, "report.json", "application/json", rep.JSON())
	if err != nil {
		return nil, err
	}
	mdEv, err := h.Evidence.Put(ctx, caseID, folder, "report.md", "text/markdown; charset=utf-8", rep.Markdown())
	if err != nil {
		return nil, err
	}
	own := func(ev contract.Evidence) report.Artifact {
		return report.Artifact{URI: ev.URI, SHA256: ev.SHA256, Bytes: ev.Bytes, Action: p.Action}
	}
	manEv, err := h.Evidence.Put(ctx, caseID, folder, "manifest.json", "application/json", rep.Manifest(own(jsonEv), own(mdEv)).JSON())
	if err != nil {
		return nil, err
	}
	released, err := h.release(ctx, p)
	if err != nil {
		return nil, err
	}
	summary := fmt.Sprintf("case %s %s: report %s, %d artifact(s), %s", caseID, rep.Outcome, jsonEv.URI,
		len(rep.Artifacts), rep.Chain.Short())
	if p.DryRun() {
		summary = "DRY RUN: " + summary
	}
	return contract.OK(summary).Add(jsonEv, mdEv, manEv).
		With("outcome", rep.Outcome).
		With("report", jsonEv.URI).
		With("reportMarkdown", mdEv.URI).
		With("manifest", manEv.URI).
		With("artifacts", len(rep.Artifacts)).
		With("approvals", len(rep.Approvals)).
		With("chainVerified", rep.Chain.Verified).
		With("lockReleased", released), nil
}

// release deletes the task's dedupe lock if this execution holds it. A lock
// that is gone or held by another execution is left alone.
func (h *Handler) release(ctx context.Context, p *contract.Payload) (bool, error) {
	if h.IncidentsTable == "" || p.Incident.TaskArn == "" {
		return false, nil
	}
	_, err := h.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(h.IncidentsTable),
		Key:                       map[string]ddbtypes.AttributeValue{"taskArn": &ddbtypes.AttributeValueMemberS{Value: p.Incident.TaskArn}},
		ConditionExpression:       aws.String("executionId = :me"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":me": &ddbtypes.AttributeValueMemberS{Value: p.Execution.ID}},
	})
	var ccf *ddbtypes.ConditionalCheckFailedException
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &ccf) || strings.Contains(err.Error(), "ConditionalCheckFailed"):
		return false, nil
	}
	return false, contract.AWSError("dynamodb:DeleteItem incidents lock", err)
}

func (h *Handler) now() time.Time {
	if h.Now == nil {
		return time.Now().UTC()
	}
	return h.Now().UTC()
}
