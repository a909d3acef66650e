package report

import (
	"bytes"
	"encoding/json"
	"sort"
	"time"

	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
)

// Version identifies the report's JSON shape.
const Version = "irflow.case-report/v1"

// Input is what the report is built from: the final state finalize-case
// receives and the case's audit records.
type Input struct {
	CaseID      string
	Outcome     string
	DryRun      bool
	ExecutionID string
	Incident    *incident.Incident
	Target      *incident.Target
	// Steps are $.steps: each a task result or a caught {Error, Cause}.
	Steps map[string]json.RawMessage
	// Errors are $.errors: {Error, Cause} of the steps that failed and continued.
	Errors  map[string]contract.StateError
	Failure *contract.Failure
	Records []audit.Record
	Now     time.Time
	// EvidenceBucket and EvidenceRegion are where the evidence lands (the
	// home account's bucket); "" leaves Where out.
	EvidenceBucket, EvidenceRegion string
}

// Where says where the response acted and where its evidence is: with
// Organizations the target is in a member account and region, the
// evidence always in the administrator's bucket (docs/deploy.md).
type Where struct {
	TargetAccount  string `json:"targetAccount"`
	TargetRegion   string `json:"targetRegion"`
	EvidenceBucket string `json:"evidenceBucket"`
	EvidenceRegion string `json:"evidenceRegion"`
}

// Report is a case report. Its JSON is deterministic for a given input.
type Report struct {
	Version      string             `json:"version"`
	CaseID       string             `json:"caseId"`
	Outcome      string             `json:"outcome"`
	DryRun       bool               `json:"dryRun"`
	StateMachine string             `json:"stateMachine,omitempty"`
	ExecutionID  string             `json:"executionId"`
	GeneratedAt  string             `json:"generatedAt"`
	Incident     *incident.Incident `json:"incident"`
	Target       *incident.Target   `json:"target"`
	Where        *Where             `json:"where,omitempty"`
	Steps        []Step             `json:"steps"`
	Approvals    []Approval         `json:"approvals"`
	Artifacts    []Artifact         `json:"artifacts"`
	Errors       []StepError        `json:"errors"`
	Failure      *contract.Failure  `json:"failure,omitempty"`
	Timeline     []Event            `json:"timeline"`
	Chain        audit.ChainStatus  `json:"auditChain"`
	// OtherExecutions counts the case's audit records of another
	// execution: the report leaves them out (a case has one execution).
	OtherExecutions int `json:"otherExecutionRecords,omitempty"`
}

// Step is one step's final result.
type Step struct {
	ID      string `json:"id"`
	Action  string `json:"action,omitempty"`
	Status  string `json:"status"`
	Summary string `json:"summary"`
}

// Approval is one gate: who was asked, who decided, how, when and why.
type Approval struct {
	ApprovalID  string   `json:"approvalId,omitempty"`
	Step        string   `json:"step"`
	Prompt      string   `json:"prompt,omitempty"`
	Approvers   []string `json:"approvers"`
	RequestedBy string   `json:"requestedBy,omitempty"`
	// RequesterVerified says the requester was verified; a claimed one
	// makes the gate need two approvers.
	RequesterVerified bool `json:"requesterVerified"`
	// RequiredApprovals is how many distinct approvers the gate needed;
	// ApprovedBy are those who approved, in order.
	RequiredApprovals int      `json:"requiredApprovals,omitempty"`
	ApprovedBy        []string `json:"approvedBy,omitempty"`
	RequestedAt       string   `json:"requestedAt,omitempty"`
	ExpiresAt         string   `json:"expiresAt,omitempty"`
	OnTimeout         string   `json:"onTimeout,omitempty"`
	// Status is PENDING, APPROVED, REJECTED, TIMED_OUT or CLOSED.
	Status    string `json:"status"`
	Decision  string `json:"decision,omitempty"`
	Approver  string `json:"approver,omitempty"`
	Reason    string `json:"reason,omitempty"`
	DecidedAt string `json:"decidedAt,omitempty"`
	// Note says what else the audit knows (a decision that never arrived).
	Note string `json:"note,omitempty"`
}

// Artifact is one evidence object.
type Artifact struct {
	URI    string `json:"uri"`
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
	Step   string `json:"step"`
	Action string `json:"action"`
}

// StepError is a step's caught error.
type StepError struct {
	Step  string `json:"step"`
	Error string `json:"error"`
	Cause string `json:"cause"`
}

// Event is one audit record on the timeline.
type Event struct {
	Seq     int64  `json:"seq"`
	At      string `json:"at"`
	Step    string `json:"step"`
	Action  string `json:"action"`
	Event   string `json:"event"`
	Status  string `json:"status"`
	Summary string `json:"summary"`
}

// Build assembles the report. The chain is verified whole; the timeline,
// steps, approvals and artifacts come from this execution's records only.
func Build(in Input) *Report {
	chain := audit.Check(in.Records)
	own, other := ownRecords(in.Records, in.ExecutionID)
	in.Records = own
	r := &Report{
		Version: Version, CaseID: in.CaseID, Outcome: in.Outcome, DryRun: in.DryRun, ExecutionID: in.ExecutionID,
		StateMachine: stateMachineName(in.ExecutionID), GeneratedAt: in.Now.UTC().Format(time.RFC3339Nano),
		Incident: in.Incident, Target: in.Target, Failure: in.Failure,
		Timeline: Timeline(in.Records), Chain: chain, OtherExecutions: other,
	}
	if r.Outcome == "" {
		r.Outcome = "UNKNOWN"
	}
	if in.EvidenceRegion != "" {
		r.Where = &Where{EvidenceBucket: in.EvidenceBucket, EvidenceRegion: in.EvidenceRegion}
		if in.Incident != nil {
			r.Where.TargetAccount, r.Where.TargetRegion = in.Incident.Account, in.Incident.Region
		}
	}
	r.Steps = steps(in)
	r.Approvals = approvals(in)
	r.Artifacts = artifacts(in)
	r.Errors = stepErrors(in)
	return r
}

// ownRecords keeps the records of execution (all of them when it is "")
// and counts the others.
func ownRecords(records []audit.Record, execution string) ([]audit.Record, int) {
	if execution == "" {
		return records, 0
	}
	own := make([]audit.Record, 0, len(records))
	for _, r := range records {
		if r.ExecutionID == execution {
			own = append(own, r)
		}
	}
	return own, len(records) - len(own)
}

// Timeline is the records as events, in seq order.
func Timeline(records []audit.Record) []Event {
	out := make([]Event, 0, len(records))
	for _, rec := range records {
		out = append(out, Event{Seq: rec.Seq, At: rec.At, Step: rec.Step, Action: rec.Action, Event: rec.Event,
			Status: rec.Status, Summary: rec.Summary})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}

// JSON is the report as indented JSON with a final newline.
func (r *Report) JSON() []byte { return IndentJSON(r) }

// IndentJSON is v as irflow writes the JSON documents people read (the
// report, the manifest, an execution input to paste): indented by two
// spaces, <, > and & left as they are, a final newline.
func IndentJSON(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return b.Bytes()
}

// stateMachineName is the state machine's name in an execution ARN, ""
// for anything else.
func stateMachineName(executionID string) string {
	e, _ := contract.ParseExecutionARN(executionID)
	return e.StateMachine
}
