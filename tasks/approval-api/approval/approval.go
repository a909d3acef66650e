package approval

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Statuses of an approval. PENDING is the only one a decision can leave;
// CLOSED means a decision was recorded but the execution no longer waited
// for it (stopped, or the gate was re-requested with a new token).
const (
	StatusPending  = "PENDING"
	StatusApproved = "APPROVED"
	StatusRejected = "REJECTED"
	StatusTimedOut = "TIMED_OUT"
	StatusClosed   = "CLOSED"
)

// Decisions an approver can send, and what onTimeout can name.
const (
	DecisionApprove = "approve"
	DecisionReject  = "reject"
)

// MaxTasks caps Approval.Tasks (an item stays far below DynamoDB's 400 KB).
const MaxTasks = 200

// TimeoutApprover is the approver recorded when nobody answered a gate.
const TimeoutApprover = "timeout"

// Approval is one gate of one execution, keyed by ID.
type Approval struct {
	ID           string `json:"approvalId" dynamodbav:"approvalId"`
	CaseID       string `json:"caseId" dynamodbav:"caseId"`
	ExecutionID  string `json:"executionId" dynamodbav:"executionId"`
	StateMachine string `json:"stateMachine" dynamodbav:"stateMachine,omitempty"`
	Step         string `json:"step" dynamodbav:"step"`
	LaunchType   string `json:"launchType,omitempty" dynamodbav:"launchType,omitempty"`
	TaskArn      string `json:"taskArn,omitempty" dynamodbav:"taskArn,omitempty"`
	// Tasks are every task the gate's decision covers, the run's own
	// first: those a find-siblings step of the run listed as running the
	// compromised image digest, and those of findings that joined the case
	// (correlation) before the request; at most MaxTasks.
	Tasks []string `json:"tasks,omitempty" dynamodbav:"tasks,omitempty"`
	// TasksTruncated says Tasks were capped at MaxTasks.
	TasksTruncated bool `json:"tasksTruncated,omitempty" dynamodbav:"tasksTruncated,omitempty"`
	// LeftAlone are the tasks the run's find-siblings steps left out of
	// their lists because they carry a tag of the playbook's exclude:
	// (siblings.excluded): the decision does not cover them; at most
	// MaxTasks.
	LeftAlone []string `json:"leftAlone,omitempty" dynamodbav:"leftAlone,omitempty"`
	Prompt    string   `json:"prompt" dynamodbav:"prompt"`
	// Approvers are IAM principal ARNs; a role ARN admits its sessions.
	Approvers   []string `json:"approvers" dynamodbav:"approvers"`
	RequestedBy string   `json:"requestedBy" dynamodbav:"requestedBy,omitempty"`
	// RequesterVerified says resolve-target verified RequestedBy (start
	// API envelope or GuardDuty); an unverified requester is a claim.
	RequesterVerified bool `json:"requesterVerified" dynamodbav:"requesterVerified"`
	// RequiredApprovals is how many distinct approvers must approve before
	// the gate opens (Required); one rejection rejects.
	RequiredApprovals int    `json:"requiredApprovals" dynamodbav:"requiredApprovals"`
	AllowSelfApproval bool   `json:"allowSelfApproval" dynamodbav:"allowSelfApproval"`
	OnTimeout         string `json:"onTimeout" dynamodbav:"onTimeout"`
	TimeoutSeconds    int    `json:"timeoutSeconds" dynamodbav:"timeoutSeconds"`
	DryRun            bool   `json:"dryRun" dynamodbav:"dryRun"`
	Status            string `json:"status" dynamodbav:"status"`
	RequestedAt       string `json:"requestedAt" dynamodbav:"requestedAt"`
	// ExpiresAt is stored as epoch seconds so a condition can compare it.
	ExpiresAt time.Time `json:"expiresAt" dynamodbav:"expiresAt,unixtime"`
	// Attempts counts request-approval calls (Step Functions retries issue new tokens).
	Attempts int `json:"attempts" dynamodbav:"attempts"`
	// Votes are the approvals given so far, in order; VoteCount is their
	// number, which every vote and decision conditions on, so concurrent
	// approvers never overwrite each other.
	Votes     []Vote `json:"votes,omitempty" dynamodbav:"votes,omitempty"`
	VoteCount int    `json:"voteCount" dynamodbav:"voteCount"`

	Decision         string `json:"decision,omitempty" dynamodbav:"decision,omitempty"`
	DecidedBy        string `json:"decidedBy,omitempty" dynamodbav:"decidedBy,omitempty"`
	DecidedByAccount string `json:"decidedByAccount,omitempty" dynamodbav:"decidedByAccount,omitempty"`
	Reason           string `json:"reason,omitempty" dynamodbav:"reason,omitempty"`
	DecidedAt        string `json:"decidedAt,omitempty" dynamodbav:"decidedAt,omitempty"`
	// AuditSeq is the audit record of the decision, once appended.
	AuditSeq int64 `json:"auditSeq,omitempty" dynamodbav:"auditSeq,omitempty"`
	// DeliveredAt is when Step Functions accepted the decision.
	DeliveredAt string `json:"deliveredAt,omitempty" dynamodbav:"deliveredAt,omitempty"`
	// Undelivered says why a recorded decision never reached the execution.
	Undelivered string `json:"undelivered,omitempty" dynamodbav:"undelivered,omitempty"`
	// DeliveryUnknown says Step Functions may or may not have received the
	// decision (its answer was lost and the execution history could not
	// tell): the decision may have taken effect.
	DeliveryUnknown string `json:"deliveryUnknown,omitempty" dynamodbav:"deliveryUnknown,omitempty"`
	// DeliveryAttempts counts the sends to Step Functions; after one whose
	// answer was lost, a refused token may mean it was delivered.
	DeliveryAttempts int `json:"deliveryAttempts,omitempty" dynamodbav:"deliveryAttempts,omitempty"`

	// TaskToken answers the gate. It never leaves approval-api: no JSON,
	// no projection, no log.
	TaskToken string `json:"-" dynamodbav:"taskToken,omitempty"`
}

var idRE = regexp.MustCompile(`^apr-[0-9a-f]{20}$`)

// ID is the approval id of a gate: deterministic from the execution and the
// step, so a retried request finds its own record.
func ID(executionID, step string) string {
	sum := sha256.Sum256([]byte(executionID + "\x00" + step))
	return "apr-" + hex.EncodeToString(sum[:])[:20]
}

// ValidID reports whether s has the shape of an approval id.
func ValidID(s string) bool { return idRE.MatchString(s) }

// Vote is one approver's approval of a gate that needs several.
type Vote struct {
	By      string `json:"by" dynamodbav:"by"`
	Account string `json:"account,omitempty" dynamodbav:"account,omitempty"`
	Reason  string `json:"reason" dynamodbav:"reason"`
	At      string `json:"at" dynamodbav:"at"`
	// AuditSeq is the vote's audit record, once appended.
	AuditSeq int64 `json:"auditSeq,omitempty" dynamodbav:"auditSeq,omitempty"`
}

// RequiredApprovals is how many distinct approvers a gate needs: the
// playbook's number (minApprovers, 1 by default), and at
// least two when the requester is not verified, since an unverified
// requester could be anyone, the approver included. A number, not a flag,
// so both rules compose.
func RequiredApprovals(playbookMin int, requesterVerified bool) int {
	n := max(playbookMin, 1)
	if !requesterVerified {
		n = max(n, 2)
	}
	return n
}

// Required is the approvals the gate needs (at least one; a record written
// before gates counted approvals needs one).
func (a *Approval) Required() int { return max(a.RequiredApprovals, 1) }

// Decided reports whether the approval has left PENDING.
func (a *Approval) Decided() bool { return a.Status != StatusPending }

// Expired reports whether the gate's deadline has passed at now.
func (a *Approval) Expired(now time.Time) bool { return !now.Before(a.ExpiresAt) }

// Item is the approval as a DynamoDB item.
func (a *Approval) Item() (map[string]ddbtypes.AttributeValue, error) {
	item, err := attributevalue.MarshalMap(a)
	if err != nil {
		return nil, fmt.Errorf("approval %s: %w", a.ID, err)
	}
	return item, nil
}

// FromItem decodes an approvals table item.
func FromItem(item map[string]ddbtypes.AttributeValue) (*Approval, error) {
	var a Approval
	if err := attributevalue.UnmarshalMap(item, &a); err != nil {
		return nil, fmt.Errorf("approvals item: %w", err)
	}
	if a.Approvers == nil {
		a.Approvers = []string{}
	}
	return &a, nil
}

// Key is the DynamoDB key of an approval.
func Key(id string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{"approvalId": &ddbtypes.AttributeValueMemberS{Value: id}}
}

// DecisionURL is where a decision about id is POSTed on the approval API
// whose Function URL is base.
func DecisionURL(base, id string) string {
	return strings.TrimRight(base, "/") + "/approvals/" + id
}

// PayloadID is the approval id of the gate a request-approval payload
// opens, for code that sees the payload but not the table (a simulator
// deciding its gates through the approval API).
func PayloadID(payload []byte) (string, error) {
	var p struct {
		Step      string `json:"step"`
		Execution struct {
			ID string `json:"Id"`
		} `json:"execution"`
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		return "", fmt.Errorf("request-approval payload: %w", err)
	}
	if p.Step == "" || p.Execution.ID == "" {
		return "", fmt.Errorf("request-approval payload: no step or execution.Id")
	}
	return ID(p.Execution.ID, p.Step), nil
}
