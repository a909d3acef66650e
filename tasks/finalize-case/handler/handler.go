package handler

import (
	"context"
	"encoding/json"
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
	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/mac"
	"github.com/irflow/irflow/tasks/taskrt"
)

// chain reads a case's audit records and appends the record the
// manifest anchors.
type chain interface {
	audit.Reader
	Append(ctx context.Context, r audit.Record) (audit.Record, error)
}

// evidenceWriter stores one evidence object and returns its entry.
type evidenceWriter interface {
	Put(ctx context.Context, caseID, folder, name, contentType string, body []byte) (contract.Evidence, error)
}

// dynamoAPI records the outcome on the case's claim and releases the
// dedupe lock.
type dynamoAPI interface {
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// Handler writes the case report and releases the lock.
type Handler struct {
	Chain    chain
	Evidence evidenceWriter
	DB       dynamoAPI
	// MAC signs the manifest's audit anchor (IRFLOW_MAC_KEY_ARN); nil
	// writes it unsigned, which irflow audit --verify refuses.
	MAC *mac.Key
	// IncidentsTable holds the dedupe locks (IRFLOW_INCIDENTS_TABLE); "" skips the release.
	IncidentsTable string
	Now            func() time.Time
	// EvidenceBucket and EvidenceRegion (the home config's region) go
	// into the report beside the target's account and region.
	EvidenceBucket, EvidenceRegion string
}

// New builds the handler with real clients.
func New(cfg aws.Config, env taskrt.Env) taskrt.HandlerFunc {
	h := &Handler{
		Chain:          taskrt.NewChain(cfg, env),
		MAC:            taskrt.NewMACKey(cfg, env),
		Evidence:       taskrt.NewEvidenceWriter(cfg, env),
		DB:             dynamodb.NewFromConfig(env.Home(cfg)),
		IncidentsTable: env.IncidentsTable,
		Now:            time.Now,
		EvidenceBucket: env.EvidenceBucket,
		EvidenceRegion: env.Home(cfg).Region,
	}
	return h.Handle
}

// EventFinalized is the audit record finalize-case appends before the
// manifest: the head the manifest anchors.
const EventFinalized = audit.EventCaseFinalized

// Handle builds and stores the report and its Markdown, appends the
// case-finalized record, stores the manifest anchoring the chain at that
// record, then releases the lock. The task runtime appends finalize-case's
// result record right after the anchored head; the anchor says so.
func (h *Handler) Handle(ctx context.Context, p *contract.Payload) (*contract.Result, error) {
	if p.Incident == nil || p.CaseID() == "" {
		return nil, &contract.InvalidInputError{Field: "incident.caseId", Reason: "finalize-case needs the case"}
	}
	caseID := p.CaseID()
	// The service's correlation item goes first: no finding starts to
	// join the case from here on (one already joining is refused by the
	// sealed chain and retried: audit.Chain.AppendOpen).
	corrReleased, err := h.releaseCorrelation(ctx, p)
	if err != nil {
		return nil, err
	}
	records, err := h.Chain.Read(ctx, caseID)
	if err != nil {
		return nil, err
	}
	rep := report.Build(report.Input{
		CaseID: caseID, Outcome: p.Outcome, DryRun: p.DryRun(), ExecutionID: p.Execution.ID,
		Incident: p.Incident, Target: p.Target, Steps: p.Steps, Errors: p.Errors, Failure: p.Failure,
		Records: records, Now: h.now(), EvidenceBucket: h.EvidenceBucket, EvidenceRegion: h.EvidenceRegion,
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
	anchor, err := h.seal(ctx, p, rep, jsonEv, mdEv)
	if err != nil {
		return nil, err
	}
	man := rep.Manifest(own(jsonEv), own(mdEv))
	man.Audit = &anchor
	manEv, err := h.Evidence.Put(ctx, caseID, folder, "manifest.json", "application/json", man.JSON())
	if err != nil {
		return nil, err
	}
	if err := h.recordOutcome(ctx, p, rep.Outcome); err != nil {
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
		With("auditAnchor", map[string]any{"records": anchor.Records, "headHash": anchor.HeadHash, "signed": anchor.MAC != ""}).
		With("lockReleased", released).
		With("correlationReleased", corrReleased), nil
}

// releaseCorrelation deletes the service's correlation item
// (corr#<clusterArn>/<service>, triggers.correlate) if this execution holds
// it: the case that covered the service has ended, so the next finding on
// the service opens a new case instead of joining a closed one (or waiting
// out the window). An item another execution holds, or none, is left alone.
func (h *Handler) releaseCorrelation(ctx context.Context, p *contract.Payload) (bool, error) {
	if h.IncidentsTable == "" || p.Target == nil || p.Target.Service == "" || p.Target.ClusterArn == "" {
		return false, nil
	}
	return h.deleteHeld(ctx, incident.CorrelationKey(p.Target.ClusterArn, p.Target.Service), p.Execution.ID, "correlation item")
}

// seal appends the case-finalized record (outcome, report objects) and
// returns the anchor of the chain at it: what the manifest fixes.
func (h *Handler) seal(ctx context.Context, p *contract.Payload, rep *report.Report, reports ...contract.Evidence) (audit.Anchor, error) {
	detail, err := json.Marshal(map[string]any{"outcome": rep.Outcome, "artifacts": len(rep.Artifacts), "evidence": reports})
	if err != nil {
		return audit.Anchor{}, err
	}
	rec, err := h.Chain.Append(ctx, audit.Record{CaseID: p.CaseID(), ExecutionID: p.Execution.ID, Step: p.Step, Action: p.Action,
		Event: EventFinalized, Status: rep.Outcome, Summary: fmt.Sprintf("case %s finalized with outcome %s: report %s", p.CaseID(), rep.Outcome, reports[0].URI),
		Detail: string(detail)})
	if err != nil {
		return audit.Anchor{}, err
	}
	return audit.AnchorAt(ctx, h.MAC, p.CaseID(), p.Execution.ID, rec, audit.FollowedByFinalizeResult)
}

// recordOutcome sets the outcome and finalizedAt on the case's claim
// (case#<caseId>), if this execution holds it, for irflow cases. A claim
// that is gone or another execution's is left alone.
func (h *Handler) recordOutcome(ctx context.Context, p *contract.Payload, outcome string) error {
	if h.IncidentsTable == "" || p.CaseID() == "" {
		return nil
	}
	s := func(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }
	_, err := h.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(h.IncidentsTable),
		Key:                       map[string]ddbtypes.AttributeValue{incident.TablePK: s(incident.CaseClaimKey(p.CaseID()))},
		UpdateExpression:          aws.String("SET outcome = :o, finalizedAt = :t"),
		ConditionExpression:       aws.String("executionId = :me"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":o": s(outcome), ":t": s(h.now().Format(time.RFC3339)), ":me": s(p.Execution.ID)},
	})
	var ccf *ddbtypes.ConditionalCheckFailedException
	if err == nil || errors.As(err, &ccf) || strings.Contains(err.Error(), "ConditionalCheckFailed") {
		return nil
	}
	return contract.AWSError("dynamodb:UpdateItem incidents case claim", err)
}

// release deletes the task's dedupe lock (task#<taskArn>) if this
// execution holds it. A lock that is gone or held by another execution is
// left alone. The case's claim (case#<caseId>) stays: the case id is spent.
func (h *Handler) release(ctx context.Context, p *contract.Payload) (bool, error) {
	if h.IncidentsTable == "" || p.Incident.TaskArn == "" {
		return false, nil
	}
	return h.deleteHeld(ctx, p.Incident.LockKey(), p.Execution.ID, "lock")
}

// deleteHeld deletes the incidents table's item pk if execID holds it.
func (h *Handler) deleteHeld(ctx context.Context, pk, execID, what string) (bool, error) {
	_, err := h.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(h.IncidentsTable),
		Key:                       map[string]ddbtypes.AttributeValue{incident.TablePK: &ddbtypes.AttributeValueMemberS{Value: pk}},
		ConditionExpression:       aws.String("executionId = :me"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":me": &ddbtypes.AttributeValueMemberS{Value: execID}},
	})
	var ccf *ddbtypes.ConditionalCheckFailedException
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &ccf) || strings.Contains(err.Error(), "ConditionalCheckFailed"):
		return false, nil
	}
	return false, contract.AWSError("dynamodb:DeleteItem incidents "+what, err)
}

func (h *Handler) now() time.Time { return taskrt.NowUTC(h.Now) }
