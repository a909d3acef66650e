// Command infra is irflow's AWS CDK v2 app. At synth time it compiles every
// playbook of workflows/ with the generator and deploys, in one stack, the
// customer-managed key, the Object Lock evidence bucket, the audit,
// approvals and incidents tables, the notification topic, one Lambda per
// catalog action (each with a role derived from its catalog statements), the
// approval API behind an AWS_IAM Function URL, and per playbook a STANDARD
// state machine, a GuardDuty EventBridge rule and alarms.
//
// It lives in its own Go module so that `go test ./...` at the repository
// root never builds the CDK (minutes and a gigabyte the first time). cdk-nag's
// AwsSolutions pack runs on every synth; its suppressions are all in nag.go.
// docs/deploy.md explains context keys, bootstrap and permissions.
package main
