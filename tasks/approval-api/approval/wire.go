package approval

// DecisionRequest is the body of POST /approvals/{id} on the approval API.
type DecisionRequest struct {
	// Decision is "approve" or "reject".
	Decision string `json:"decision"`
	// Reason is why, in the approver's words; it goes into the audit chain
	// and the case report.
	Reason string `json:"reason"`
}

// DecisionResponse is the approval API's answer to a decision it recorded.
type DecisionResponse struct {
	ApprovalID string `json:"approvalId"`
	CaseID     string `json:"caseId"`
	Step       string `json:"step"`
	Status     string `json:"status"`
	Decision   string `json:"decision"`
	Approver   string `json:"approver"`
	Reason     string `json:"reason"`
	DecidedAt  string `json:"decidedAt"`
	// AuditSeq is the audit record of the decision.
	AuditSeq int64 `json:"auditSeq"`
	// Delivered says Step Functions accepted the decision.
	Delivered bool `json:"delivered"`
	// DeliveryUnknown says Step Functions' answer was lost and the
	// execution history could not tell whether the decision arrived: it
	// may have taken effect. Repeating the command finds out.
	DeliveryUnknown string `json:"deliveryUnknown,omitempty"`
	DryRun          bool   `json:"dryRun"`
	// Approvals and RequiredApprovals count the gate's approvals: an
	// approval short of the required number is recorded (status PENDING,
	// HTTP 202) and waits for another approver.
	Approvals         int `json:"approvals"`
	RequiredApprovals int `json:"requiredApprovals"`
}

// ErrorResponse is the body of every refusal: a stable code and a sentence
// for people.
type ErrorResponse struct {
	Code    string `json:"error"`
	Message string `json:"message"`
}

// Refusal codes of the approval API, with their HTTP status.
const (
	CodeBadRequest     = "bad-request"      // 400
	CodeUnauthorized   = "no-identity"      // 403: no IAM caller in the request
	CodeNotApprover    = "not-an-approver"  // 403
	CodeSelfApproval   = "self-approval"    // 403
	CodeSameApprover   = "same-approver"    // 403: this person already approved; another must
	CodeUnknown        = "unknown-approval" // 404
	CodeNotFound       = "not-found"        // 404: no such route
	CodeMethod         = "method-not-allowed"
	CodeAlreadyDecided = "already-decided" // 409
	CodeGateClosed     = "gate-closed"     // 409: the execution no longer waits
	CodeConflict       = "conflict"        // 409: the approval changed under us
	CodeExpired        = "expired"         // 410
	CodeNotDelivered   = "not-delivered"   // 502: recorded, Step Functions did not take it yet
	CodeAuditFailed    = "audit-failed"    // 503: recorded, not yet audited
	CodeInternal       = "internal"        // 500
)
