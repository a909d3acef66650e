// Package handler is the approval API: the Lambda behind a Function URL with
// AWS_IAM auth that records who decided an approval gate and answers Step
// Functions with the gate's task token.
//
// A decision is checked in this order: the body (400), the caller's
// identity from the signed request, the approval (404), the caller against
// the gate's approvers — a role ARN admits that role's sessions, nothing
// else is a prefix match (403) — and four eyes: the person, or the role,
// that requested the response may not approve it unless the playbook allows
// it (403). A decided approval is refused (409), an expired one too (410).
// The decision is then a conditional update (still PENDING, not expired,
// same token), so exactly one decision wins; it is appended to the case's
// audit chain, and only then sent with SendTaskSuccess (a task result the
// gate's ResultSelector reads) or SendTaskFailure (ApprovalRejectedError).
//
// Each stage is recorded on the approval, so when the audit append or the
// delivery fails the same approver can repeat the same command and the
// handler resumes where it stopped rather than deciding twice.
//
// Decide is the in-process entry both the HTTP route and `make demo` use;
// TaskResponder is the seam where a local simulator answers its simulated
// gate instead of Step Functions. The task token is read from the table
// and sent to Step Functions; it is never logged, returned or listed.
package handler
