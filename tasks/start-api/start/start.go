// Package start is the wire of the start API: what `irflow start` sends
// (Request) and what it gets back (Response, or an ErrorResponse naming
// the refusal), shared by tasks/start-api/handler and ops without either
// pulling in the other.
package start

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// Request is the body of POST /start.
type Request struct {
	// Playbook is the playbook's metadata.name; its state machine is <namePrefix>-<name>.
	Playbook string `json:"playbook"`
	TaskArn  string `json:"taskArn"`
	Reason   string `json:"reason"`
	DryRun   bool   `json:"dryRun"`
	// CaseID is the case id and execution name (default case-<utc time>-<4 hex>).
	// For the release (Playbook ReleasePlaybook) it names the case to
	// release and is required; the execution is named
	// incident.ReleaseExecutionName.
	CaseID string `json:"caseId,omitempty"`
	// Steps are, for the release only, the playbook steps whose changes to
	// undo (none: all).
	Steps []string `json:"steps,omitempty"`
}

// ReleasePlaybook is the name under which the start API starts the
// deployment's release state machine (<namePrefix>-release, which no
// playbook may take): its input is incident.ReleaseInput, not a task.
const ReleasePlaybook = "release"

// Response is the answer to a started response.
type Response struct {
	CaseID          string `json:"caseId"`
	ExecutionArn    string `json:"executionArn"`
	StateMachineArn string `json:"stateMachineArn"`
	// RequestedBy is the caller, as the signed request proved it.
	RequestedBy string `json:"requestedBy"`
	StartedAt   string `json:"startedAt"`
}

// ErrorResponse is every refusal: a stable code, a sentence, and the input
// field at fault when there is one.
type ErrorResponse struct {
	Code    string `json:"error"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// Refusal codes of the start API.
const (
	CodeBadRequest   = "bad-request"      // 400
	CodeInvalidInput = "invalid-input"    // 400: the input the execution would refuse, naming the field
	CodeNoIdentity   = "no-identity"      // 403
	CodeUnknown      = "unknown-playbook" // 404
	CodeDuplicate    = "duplicate-case"   // 409: the case id already has an execution
	CodeFailed       = "failed"           // 502/503
)

// NewCaseID returns case-<yyyymmdd-hhmmss>-<4 hex>, in UTC.
func NewCaseID(now time.Time) string {
	var b [2]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("case-%s-%s", now.UTC().Format("20060102-150405"), hex.EncodeToString(b[:]))
}
