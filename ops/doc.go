// Package ops is what irflow's operator commands (approvals, approve,
// start, audit) do against a deployed stack: load AWS configuration the
// standard way, find the stack's outputs, sign requests to the approval
// API, validate and start executions. cmd/irflow keeps the flags, the
// printing and the exit codes; this package keeps the AWS calls, behind
// narrow interfaces the tests fake. It never imports CDK.
package ops
