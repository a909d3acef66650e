package main

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
	"github.com/irflow/irflow/ops"
)

// TestNagHasNoUnsuppressedErrors: cdk-nag's AwsSolutions pack finds nothing
// that is not suppressed (an aws:cdk:error annotation is what fails `cdk
// synth`), and it has no warnings either.
func TestNagHasNoUnsuppressedErrors(t *testing.T) {
	s := defaultSynth(t)
	ann := assertions.Annotations_FromStack(s.stack)
	errs := ann.FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
	for _, e := range *errs {
		t.Errorf("cdk-nag error: %s %v", *e.Id, e.Entry.Data)
	}
	warns := ann.FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
	for _, w := range *warns {
		t.Errorf("cdk-nag warning: %s %v", *w.Id, w.Entry.Data)
	}
}

// TestNagCatchesViolations proves the check above can fail: the same pack
// on a stack with a bare bucket reports errors.
func TestNagCatchesViolations(t *testing.T) {
	app := NewApp(nil, "")
	stack := awscdk.NewStack(app, jsii.String("Bare"), nil)
	awss3.NewBucket(stack, jsii.String("Bare"), nil)
	ApplyNag(app)
	errs := assertions.Annotations_FromStack(stack).FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-S1")))
	if len(*errs) == 0 {
		t.Fatal("cdk-nag did not report a bucket without access logs")
	}
}

// TestSuppressionsAreNarrow: every suppression carries a reason; IAM5
// suppressions list the exact findings they accept, and "*" is accepted only
// on roles whose statements need it.
func TestSuppressionsAreNarrow(t *testing.T) {
	s := defaultSynth(t)
	n := 0
	for id, r := range s.resources {
		for _, raw := range list(path(r.Metadata, "cdk_nag", "rules_to_suppress")) {
			n++
			rule, _ := path(raw, "id").(string)
			reason, _ := path(raw, "reason").(string)
			if len(reason) < 40 {
				t.Errorf("%s: %s suppressed without a real reason (%q)", id, rule, reason)
			}
			switch rule {
			case "AwsSolutions-IAM5":
				applies := strs(path(raw, "applies_to"))
				if len(applies) == 0 {
					t.Errorf("%s: IAM5 suppressed for every finding; name them", id)
				}
				for _, a := range applies {
					if !strings.HasPrefix(a, "Resource::") {
						t.Errorf("%s: IAM5 suppression of %q; only resource wildcards may be accepted", id, a)
					}
				}
			case "AwsSolutions-SQS3":
				if r.Type != "AWS::SQS::Queue" || !strings.HasPrefix(id, "TriggerDeadLetterQueue") {
					t.Errorf("%s: SQS3 suppressed on something other than the dead-letter queue", id)
				}
			default:
				t.Errorf("%s: unexpected suppression of %s", id, rule)
			}
		}
	}
	if n == 0 {
		t.Fatal("no suppression metadata found: the walk is broken")
	}
}

// TestNoWildcardActions: no Allow statement anywhere in the template (role
// and managed policies, key, bucket, topic and queue policies, Lambda
// permissions) names an action with a wildcard or uses NotAction.
func TestNoWildcardActions(t *testing.T) {
	s := defaultSynth(t)
	allows := 0
	for id, r := range s.resources {
		walkStatements(r.Properties, func(st map[string]any) {
			if st["Effect"] != "Allow" {
				return
			}
			allows++
			if st["NotAction"] != nil {
				t.Errorf("%s: Allow with NotAction %v", id, st["NotAction"])
			}
			for _, a := range strs(st["Action"]) {
				if strings.Contains(a, "*") {
					t.Errorf("%s: Allow %s", id, a)
				}
			}
		})
		if r.Type == "AWS::Lambda::Permission" && strings.Contains(jsonString(r.Properties["Action"]), "*") {
			t.Errorf("%s: permission %v", id, r.Properties["Action"])
		}
	}
	if allows < 50 {
		t.Fatalf("only %d Allow statements found: the walk is broken", allows)
	}
}

// TestAlarmsAndOutputs: failed and timed-out executions of every state
// machine, and dead letters, alarm to the topic; the outputs give each state
// machine's ARN and console link and the approval URL.
func TestAlarmsAndOutputs(t *testing.T) {
	s := defaultSynth(t)
	topicID, _ := s.byPrefix(t, "AWS::SNS::Topic", "Topic")
	for _, pb := range s.playbooks {
		id := pascal(pb.Result.Name)
		smID, _ := s.byPrefix(t, "AWS::StepFunctions::StateMachine", id+"StateMachine")
		for _, metric := range []string{"ExecutionsFailed", "ExecutionsTimedOut"} {
			_, a := s.byPrefix(t, "AWS::CloudWatch::Alarm", id+metric+"Alarm")
			p := a.Properties
			if p["MetricName"] != metric || p["Namespace"] != "AWS/States" || getAtt(path(list(p["Dimensions"])[0], "Value")) != smID {
				t.Errorf("%s %s alarm watches %v %v", pb.Result.Name, metric, p["MetricName"], p["Dimensions"])
			}
			if getAtt(list(p["AlarmActions"])[0]) != topicID {
				t.Errorf("%s %s alarm action %v; want the topic", pb.Result.Name, metric, p["AlarmActions"])
			}
		}
		arnKey := ops.StateMachineOutput(pb.Result.Name)
		if getAtt(path(s.outputs[arnKey], "Value")) != smID {
			t.Errorf("output %s = %v; want the ARN of %s", arnKey, s.outputs[arnKey], smID)
		}
		console := "StateMachine" + id + "ConsoleUrl"
		if !strings.Contains(jsonString(s.outputs[console]), "console.aws.amazon.com/states/home") {
			t.Errorf("output %s = %v; want a console link", console, s.outputs[console])
		}
	}
	_, dl := s.byPrefix(t, "AWS::CloudWatch::Alarm", "TriggerDeadLetterAlarm")
	if dl.Properties["Namespace"] != "AWS/SQS" || getAtt(list(dl.Properties["AlarmActions"])[0]) != topicID {
		t.Errorf("dead-letter alarm %v", dl.Properties)
	}
	// The operator commands find the stack's resources by these keys.
	if !strings.Contains(jsonString(s.outputs[ops.OutputApprovalURL]), "FunctionUrl") {
		t.Errorf("%s output %v; want the Function URL", ops.OutputApprovalURL, s.outputs[ops.OutputApprovalURL])
	}
	for key, prefix := range map[string]string{ops.OutputAuditTable: "AuditTable", ops.OutputApprovalsTable: "ApprovalsTable", ops.OutputIncidentsTable: "IncidentsTable"} {
		if id := getAtt(path(s.outputs[key], "Value")); !strings.HasPrefix(id, prefix) || s.resources[id].Type != "AWS::DynamoDB::Table" {
			t.Errorf("output %s = %v; want the %s", key, s.outputs[key], prefix)
		}
	}
}

// walkStatements calls f for every IAM statement below v: any list under a
// "Statement" key.
func walkStatements(v any, f func(map[string]any)) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if k == "Statement" {
				for _, st := range list(x) {
					if m, ok := st.(map[string]any); ok {
						f(m)
					}
				}
				continue
			}
			walkStatements(x, f)
		}
	case []any:
		for _, x := range v {
			walkStatements(x, f)
		}
	}
}
