package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
)

// newTopic creates the topic notify, request-approval and the alarms
// publish to: encrypted with the irflow key, TLS only, one e-mail
// subscription per configured address (each must confirm it).
func newTopic(stack awscdk.Stack, cfg Config, key awskms.IKey) awssns.Topic {
	topic := awssns.NewTopic(stack, jsii.String("Topic"), &awssns.TopicProps{
		DisplayName: jsii.String("irflow"),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	// A topic policy replaces SNS's default one, so CloudWatch alarms of
	// this account need their own allow.
	topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AlarmsPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  jsii.Strings(*topic.TopicArn()),
		Conditions: &map[string]any{
			"ArnLike":      map[string]any{"aws:SourceArn": "arn:" + *stack.Partition() + ":cloudwatch:" + *stack.Region() + ":" + *stack.Account() + ":alarm:*"},
			"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()},
		},
	}))
	for _, e := range cfg.NotificationEmails {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(e), nil))
	}
	return topic
}

// newAlarms raises the topic when an execution fails or times out (a
// response that did not finish is itself an incident) and when a GuardDuty
// event lands in the dead-letter queue (a response that never started).
func newAlarms(stack awscdk.Stack, machines []machine, dlq awssqs.Queue, topic awssns.ITopic) []awscloudwatch.Alarm {
	action := awscloudwatchactions.NewSnsAction(topic)
	period := awscdk.Duration_Minutes(jsii.Number(5))
	var out []awscloudwatch.Alarm
	add := func(id, description string, metric awscloudwatch.IMetric) {
		alarm := awscloudwatch.NewAlarm(stack, jsii.String(id), &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String(description),
			Metric:             metric,
			Threshold:          jsii.Number(1),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		alarm.AddAlarmAction(action)
		out = append(out, alarm)
	}
	for _, m := range machines {
		id, name := pascal(m.playbook.Result.Name), m.playbook.Result.Name
		sum := &awscloudwatch.MetricOptions{Period: period, Statistic: jsii.String("Sum")}
		add(id+"ExecutionsFailedAlarm", "irflow "+name+": an execution failed (step failure, invalid input or unsupported launch type)",
			m.sm.MetricFailed(sum))
		add(id+"ExecutionsTimedOutAlarm", "irflow "+name+": an execution timed out",
			m.sm.MetricTimedOut(sum))
	}
	add("TriggerDeadLetterAlarm", "irflow: a GuardDuty finding could not start its playbook (see the dead-letter queue)",
		dlq.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Period: period, Statistic: jsii.String("Maximum")}))
	return out
}
