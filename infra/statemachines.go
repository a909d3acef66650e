package main

import (
	"fmt"
	"regexp"
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/jsii-runtime-go"
	"github.com/irflow/irflow/tasks/catalog"
)

// machine is a deployed playbook.
type machine struct {
	playbook Playbook
	sm       awsstepfunctions.StateMachine
}

// substitution matches the ${Name} placeholders of a compiled definition.
var substitution = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

// newStateMachines creates one STANDARD state machine per playbook from the
// ASL the generator compiled at synth time.
func newStateMachines(stack awscdk.Stack, cfg Config, playbooks []Playbook, fns *functions, key awskms.IKey) []machine {
	var out []machine
	for _, pb := range playbooks {
		out = append(out, machine{pb, newStateMachine(stack, cfg, pb, fns, key)})
	}
	return out
}

// newStateMachine deploys one playbook: DefinitionSubstitutions fill each
// ${Fn_<action>} with that function's ARN, every execution is logged with
// its data and traced, and the role may invoke exactly the functions the
// definition names.
func newStateMachine(stack awscdk.Stack, cfg Config, pb Playbook, fns *functions, key awskms.IKey) awsstepfunctions.StateMachine {
	id := pascal(pb.Result.Name)
	subs := map[string]*string{}
	var invoke []string
	for _, name := range pb.Result.Functions {
		fn, ok := fns.byName[name]
		if !ok {
			panic(fmt.Sprintf("infra: playbook %s uses %s, which has no function", pb.Result.Name, name))
		}
		subs[catalog.FunctionPlaceholder(name)] = fn.FunctionArn()
		invoke = append(invoke, *fn.FunctionArn())
	}
	checkSubstitutions(pb, subs)

	// /aws/vendedlogs/ keeps CloudWatch Logs' resource policy small; the
	// stack id suffix lets a retained group outlive a deleted stack without
	// blocking the next deployment.
	stackUUID := awscdk.Fn_Select(jsii.Number(2), awscdk.Fn_Split(jsii.String("/"), stack.StackId(), nil))
	logs := awslogs.NewLogGroup(stack, jsii.String(id+"ExecutionLogs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String("/aws/vendedlogs/states/" + cfg.NamePrefix + "-" + pb.Result.Name + "-" + *stackUUID),
		Retention:     logRetention[cfg.LogRetentionDays],
		EncryptionKey: key,
		RemovalPolicy: removalPolicy(cfg),
	})

	role := awsiam.NewRole(stack, jsii.String(id+"StateMachineRole"), &awsiam.RoleProps{
		Path: jsii.String(RolePath),
		AssumedBy: awsiam.NewPrincipalWithConditions(
			awsiam.NewServicePrincipal(jsii.String("states.amazonaws.com"), nil),
			&map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()}},
		),
		Description: jsii.String("irflow playbook " + pb.Result.Name + ": invokes the functions its definition names"),
		InlinePolicies: &map[string]awsiam.PolicyDocument{
			"invoke": awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{
				Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
					Actions:   jsii.Strings("lambda:InvokeFunction"),
					Resources: jsii.Strings(invoke...),
				})},
			}),
		},
	})

	sm := awsstepfunctions.NewStateMachine(stack, jsii.String(id+"StateMachine"), &awsstepfunctions.StateMachineProps{
		StateMachineName:        jsii.String(cfg.NamePrefix + "-" + pb.Result.Name),
		StateMachineType:        awsstepfunctions.StateMachineType_STANDARD,
		DefinitionBody:          awsstepfunctions.DefinitionBody_FromString(jsii.String(string(pb.Result.CompactASL()))),
		DefinitionSubstitutions: &subs,
		Role:                    role,
		Logs: &awsstepfunctions.LogOptions{
			Destination:          logs,
			Level:                awsstepfunctions.LogLevel_ALL,
			IncludeExecutionData: jsii.Bool(true),
		},
		TracingEnabled: jsii.Bool(true),
		Comment:        jsii.String(pb.Result.Title),
	})
	awscdk.Tags_Of(sm).Add(jsii.String("irflow:playbook"), jsii.String(pb.Result.Name), nil)
	awscdk.Tags_Of(sm).Add(jsii.String("irflow:manual"), jsii.String(fmt.Sprint(pb.Result.Triggers.Manual)), nil)
	for _, w := range pb.Warnings {
		awscdk.Annotations_Of(sm).AddWarningV2(jsii.String("irflow:playbook-warning"), jsii.String(w), nil)
	}
	suppressStateMachineServiceWildcards(role, pb.Result.Name)
	return sm
}

// checkSubstitutions fails the synth when the definition holds a
// placeholder no substitution fills, or a substitution nothing uses: either
// means the generator and the catalog disagree.
func checkSubstitutions(pb Playbook, subs map[string]*string) {
	used := map[string]bool{}
	for _, m := range substitution.FindAllStringSubmatch(string(pb.Result.ASL), -1) {
		used[m[1]] = true
	}
	var problems []string
	for name := range used {
		if _, ok := subs[name]; !ok {
			problems = append(problems, "${"+name+"} has no value")
		}
	}
	for name := range subs {
		if !used[name] {
			problems = append(problems, name+" is never used")
		}
	}
	sort.Strings(problems)
	if len(problems) > 0 {
		panic(fmt.Sprintf("infra: playbook %s: %v", pb.Result.Name, problems))
	}
}
