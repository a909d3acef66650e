// Package handler is the logic of the isolate-network action.
//
// Isolation swaps security groups, so what is isolated depends on the network
// mode: an awsvpc task (every Fargate task) has ENIs of its own and only they
// change; a bridge or host task shares its instance's ENIs, so every ENI of
// the instance changes, and with it every task on the instance.
//
// The quarantine group is one per VPC and per variant, found by name and the
// tag irflow:quarantine=true: "<name>" has no rules at all (no ingress, its
// default allow-all egress revoked); "<name>-ssm" (allowSsm) allows only
// HTTPS to the ENIs of the VPC's ssm, ssmmessages and ec2messages interface
// endpoints and to its S3 endpoint, so SSM-based evidence still works. Every
// run re-asserts those rules, so a group left half-made by a failed run, or
// loosened by hand, is tightened again.
//
// Before an ENI changes, its original groups are written to the ENI's tag
// irflow:previous-security-groups; a second run finds the ENI already on the
// quarantine group and reports the tagged originals instead of the quarantine
// group. The result's outputs carry them too, so the audit chain holds
// everything needed to undo the isolation.
package handler
