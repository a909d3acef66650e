// Package handler is the logic of the request-approval action.
//
// In mode request (the gate's waitForTaskToken call) it stores a PENDING
// approval in the approvals table, keyed by a deterministic id from the
// execution and the step, with the gate's approvers, the incident's
// requester (for the four-eyes check), the deadline and the task token. A
// Step Functions retry brings a new token: a still-pending approval takes it,
// a decided one is never reopened. It appends an approval-requested record
// to the case's audit chain and publishes to the topic how to decide
// (`irflow approve ID`, the approval URL) — never the token.
//
// In mode timeout (the gate's States.Timeout catch) it marks the approval
// TIMED_OUT, records which way onTimeout decided, and returns a result shaped
// like a decision (approver "timeout") so the case report reads the same.
package handler
