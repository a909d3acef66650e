package main

import (
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/irflow/irflow/ops"
)

// IrflowStackProps configures NewIrflowStack.
type IrflowStackProps struct {
	awscdk.StackProps
	Config Config
	// Playbooks are compiled before the stack is built (LoadPlaybooks), so
	// a playbook error is reported as diagnostics, not as a construct panic.
	Playbooks []Playbook
}

// NewIrflowStack is all of irflow in one account and region: the key, the
// evidence bucket and tables, the topic, one function per catalog action and
// the approval API, one state machine, GuardDuty rule and alarm pair per
// playbook, and the outputs the CLI and the operator need.
func NewIrflowStack(scope constructs.Construct, id string, props *IrflowStackProps) awscdk.Stack {
	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	cfg := props.Config
	removal := removalPolicy(cfg)

	key := newKey(stack, removal, cfg.MemberAccounts)
	macKey := newMACKey(stack, removal)
	st := newStorage(stack, cfg, key, removal)
	topic := newTopic(stack, cfg, key)

	fns := newFunctions(stack, functionDeps{
		cfg:       cfg,
		storage:   st,
		topic:     topic,
		key:       key,
		macKey:    macKey,
		resolver:  newResolver(stack, cfg, st, topic, key, macKey),
		approvers: approvers(cfg, props.Playbooks),
	})
	machines := newStateMachines(stack, cfg, props.Playbooks, fns, key)
	newReleaseStateMachine(stack, cfg, props.Playbooks, fns, key)

	dlq := newDeadLetterQueue(stack, key, removal)
	suppressDeadLetterQueue(dlq)
	newTriggers(stack, machines, dlq)
	newAlarms(stack, machines, dlq, topic)

	newOutputs(stack, machines, fns, st, topic, macKey)
	return stack
}

// removalPolicy maps the removalPolicy context value.
func removalPolicy(cfg Config) awscdk.RemovalPolicy {
	if cfg.RemovalPolicy == "destroy" {
		return awscdk.RemovalPolicy_DESTROY
	}
	return awscdk.RemovalPolicy_RETAIN
}

// approvers are the principals allowed to call the approval URL: the
// deployment's default approvers and every playbook's, sorted and unique.
// The approval API still checks each caller against the gate's own list.
func approvers(cfg Config, playbooks []Playbook) []string {
	seen := map[string]bool{}
	var out []string
	add := func(a string) {
		if !seen[a] && principalARN.MatchString(a) {
			seen[a] = true
			out = append(out, a)
		}
	}
	for _, a := range cfg.Approvers {
		add(a)
	}
	for _, pb := range playbooks {
		for _, a := range pb.Result.Approvers {
			add(a)
		}
	}
	sort.Strings(out)
	return out
}

// newOutputs publishes what an operator needs. The keys are the ones the
// operator commands read (package ops): StateMachine<Playbook>Arn per
// playbook, ApprovalUrl, AuditTable, ApprovalsTable; the console links and
// the evidence bucket and topic are for people.
func newOutputs(stack awscdk.Stack, machines []machine, fns *functions, st *storage, topic awssns.ITopic, macKey awskms.IKey) {
	out := func(key, description string, value *string) {
		// The construct id must not clash with a resource's (AuditTable);
		// the output key is set exactly.
		o := awscdk.NewCfnOutput(stack, jsii.String("Output"+key), &awscdk.CfnOutputProps{Value: value, Description: jsii.String(description)})
		o.OverrideLogicalId(jsii.String(key))
	}
	for _, m := range machines {
		name := m.playbook.Result.Name
		arnKey := ops.StateMachineOutput(name)
		out(arnKey, "irflow playbook "+name, m.sm.StateMachineArn())
		out(strings.TrimSuffix(arnKey, "Arn")+"ConsoleUrl", "irflow playbook "+name+" in the Step Functions console",
			jsii.String("https://"+*stack.Region()+".console.aws.amazon.com/states/home?region="+*stack.Region()+
				"#/statemachines/view/"+*m.sm.StateMachineArn()))
	}
	out(ops.OutputApprovalURL, "approval API Function URL (AWS_IAM auth), used by irflow approve", fns.approvalURL.Url())
	out(ops.OutputStartURL, "start API Function URL (AWS_IAM auth), used by irflow start: the requester verified", fns.startURL.Url())
	out(ops.OutputMACKey, "HMAC key of audit records and manifests (irflow audit --verify needs kms:VerifyMac on it)", macKey.KeyArn())
	out(ops.OutputAuditTable, "audit chain table", st.audit.TableName())
	out(ops.OutputApprovalsTable, "approvals table", st.approvals.TableName())
	out(ops.OutputIncidentsTable, "incidents table (case claims, dedupe locks), listed by irflow cases", st.incidents.TableName())
	out(ops.OutputEvidenceBucket, "evidence bucket (Object Lock), where irflow audit --verify reads a case's manifest", st.evidence.BucketName())
	out("TopicArn", "notification topic", topic.TopicArn())
}
