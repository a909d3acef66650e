// Package approval is the record of the approvals table: the contract
// between request-approval, which stores a pending approval and its task
// token when a gate opens, approval-api, which decides it exactly once, and
// `irflow approvals`, which lists what waits for a decision.
//
// The task token is part of the record but never of its JSON, its list
// projection or anything printed: only approval-api reads it, to answer
// Step Functions.
package approval
