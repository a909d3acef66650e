package main

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
	"github.com/irflow/irflow/generator"
)

// trigger is a playbook's GuardDuty rule.
type trigger struct {
	playbook string
	rule     awsevents.Rule
}

// newDeadLetterQueue holds GuardDuty events EventBridge could not hand to a
// state machine after its retries: an incident nobody responded to, so an
// alarm watches it (alarms.go).
func newDeadLetterQueue(stack awscdk.Stack, key awskms.IKey, removal awscdk.RemovalPolicy) awssqs.Queue {
	return awssqs.NewQueue(stack, jsii.String("TriggerDeadLetterQueue"), &awssqs.QueueProps{
		Encryption:          awssqs.QueueEncryption_KMS,
		EncryptionMasterKey: key,
		EnforceSSL:          jsii.Bool(true),
		RetentionPeriod:     awscdk.Duration_Days(jsii.Number(14)),
		RemovalPolicy:       removal,
	})
}

// newTriggers creates one EventBridge rule per playbook that has GuardDuty
// finding types. A playbook with none (manual only) gets no rule.
func newTriggers(stack awscdk.Stack, machines []machine, dlq awssqs.IQueue) []trigger {
	var out []trigger
	for _, m := range machines {
		t := m.playbook.Result.Triggers
		if len(t.FindingTypes) == 0 {
			continue
		}
		id := pascal(m.playbook.Result.Name)
		rule := awsevents.NewRule(stack, jsii.String(id+"GuardDutyRule"), &awsevents.RuleProps{
			Description:  jsii.String("irflow: GuardDuty ECS runtime findings for playbook " + m.playbook.Result.Name),
			EventPattern: guardDutyPattern(t),
		})
		// The target's role may start this state machine only (CDK grants
		// states:StartExecution on it) and only EventBridge of this account assumes it.
		role := awsiam.NewRole(stack, jsii.String(id+"TriggerRole"), &awsiam.RoleProps{
			Path: jsii.String(RolePath),
			AssumedBy: awsiam.NewPrincipalWithConditions(
				awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil),
				&map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()}},
			),
			Description: jsii.String("irflow playbook " + m.playbook.Result.Name + ": GuardDuty rule starts the state machine"),
		})
		rule.AddTarget(awseventstargets.NewSfnStateMachine(m.sm, &awseventstargets.SfnStateMachineProps{
			Role:            role,
			DeadLetterQueue: dlq,
			RetryAttempts:   jsii.Number(8),
			MaxEventAge:     awscdk.Duration_Hours(jsii.Number(6)),
		}))
		out = append(out, trigger{m.playbook.Result.Name, rule})
	}
	return out
}

// guardDutyPattern matches GuardDuty findings about an ECS task of one of the
// playbook's finding types at or above its minimum severity. The whole event
// is the execution input (execution-input.v1 accepts it as is).
//
// A playbook that takes host findings (triggers.guardduty.hostFindings) also
// matches findings about an EC2 instance (resource type Instance, e.g. an
// escape that reached a container instance): a list in a pattern matches
// when any of its values does
// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-arrays.html).
//
// A finding type ending in * is an EventBridge prefix match, so types
// GuardDuty adds later under that prefix reach the playbook too; exact types
// are matched exactly.
func guardDutyPattern(t generator.Triggers) *awsevents.EventPattern {
	var types []any
	for _, ft := range t.FindingTypes {
		if prefix, wild := strings.CutSuffix(ft, "*"); wild {
			types = append(types, map[string]any{"prefix": prefix})
			continue
		}
		types = append(types, ft)
	}
	resources := []any{"ECSCluster"}
	if t.HostFindings {
		resources = append(resources, "Instance")
	}
	return &awsevents.EventPattern{
		Source:     jsii.Strings("aws.guardduty"),
		DetailType: jsii.Strings("GuardDuty Finding"),
		Detail: &map[string]any{
			"type":     types,
			"resource": map[string]any{"resourceType": resources},
			"severity": []any{map[string]any{"numeric": []any{">=", t.MinSeverity}}},
		},
	}
}
