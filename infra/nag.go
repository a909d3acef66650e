package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Every cdk-nag suppression of the app is in this file. Each names one rule,
// the narrowest construct it applies to (and, for IAM5, the exact findings)
// and why the finding is accepted.

// ApplyNag runs cdk-nag's AwsSolutions pack on every construct of the app.
// Its findings become aws:cdk:error metadata in cdk.out, which make `cdk
// synth` fail; scripts/synth.sh checks for them too.
func ApplyNag(app awscdk.App) {
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{
		Verbose: jsii.Bool(true),
	}), nil)
}

func suppress(c any, applyToChildren bool, rule, reason string, appliesTo ...string) {
	s := &cdknag.NagPackSuppression{Id: jsii.String(rule), Reason: jsii.String(reason)}
	if len(appliesTo) > 0 {
		list := make([]any, len(appliesTo))
		for i, a := range appliesTo {
			list[i] = a
		}
		s.AppliesTo = &list
	}
	cdknag.NagSuppressions_AddResourceSuppressions(c, &[]*cdknag.NagPackSuppression{s}, jsii.Bool(applyToChildren))
}

// suppressCatalogWildcards accepts the wildcard resources a function role
// inherits from its catalog entry, by exact finding.
func suppressCatalogWildcards(role awsiam.Role, action string, findings []string) {
	suppress(role, false, "AwsSolutions-IAM5",
		"irflow "+action+": resource patterns from tasks/catalog. The task, ENI, instance, volume, "+
			"snapshot and evidence-key ids are known only during an incident, so each pattern is scoped to its "+
			"resource type in this account and region (and the evidence bucket's cases/ prefix); \"*\" appears "+
			"only for calls IAM cannot scope to a resource (Describe*, log delivery, task tokens).",
		findings...)
}

// suppressStateMachineServiceWildcards accepts the statements CDK adds to a
// state machine role for logging and tracing.
func suppressStateMachineServiceWildcards(role awsiam.Role, playbook string) {
	suppress(role, true, "AwsSolutions-IAM5",
		"irflow playbook "+playbook+": logging level ALL needs the CloudWatch Logs log-delivery calls "+
			"(logs:CreateLogDelivery, ...) and tracing needs xray:PutTraceSegments and friends; neither "+
			"service supports resource-level permissions, so AWS documents Resource \"*\" for them.",
		"Resource::*")
}

// suppressDeadLetterQueue accepts that the dead-letter queue has none.
func suppressDeadLetterQueue(queue awssqs.Queue) {
	suppress(queue, false, "AwsSolutions-SQS3",
		"This queue is the dead-letter queue of the GuardDuty rules' targets (EventBridge DeadLetterConfig, "+
			"which cdk-nag cannot see); a dead-letter queue of its own would only move the same messages.")
}
