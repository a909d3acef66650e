// Package handler is the logic of the isolate-network action.
//
// Isolation acts on what AWS lets the account change. An awsvpc task's ENI
// (every Fargate task, awsvpc on EC2) belongs to ECS: its security groups
// cannot be changed, so the task's addresses are denied by network ACL
// entries, inbound and outbound, in every network ACL of its VPC, each
// ahead of that ACL's first allow rule; the whole plan is made first and
// any ACL without room fails it before anything changes. A bridge or host
// task shares its instance's ENIs: those the account owns move through an
// all-traffic group (so their flows become untracked) to a per-VPC
// quarantine group, as AWS's AWSSupport-ContainEC2Instance runbook does;
// ENIs ECS manages on the instance are left alone. The quarantine keeps
// HTTPS to the VPC's ECS endpoints so the stop that follows reaches the
// container agent, and with allowSsm to its SSM and S3 endpoints (falling
// back to deny-all when they are missing).
//
// Every change is recorded in the case's containment ledger before it is
// made: network ACL entries cannot be tagged, and stop-task and release
// find them there. The outputs say per flow class what stays open and why
// (isolation complete|partial|none, residuals), so the approver and the
// playbook see it.
package handler
