package main

import (
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"
	"github.com/irflow/irflow/tasks/catalog"
)

// functionSpec is what a Lambda of irflow needs from the catalog: a catalog
// action, or a Function that is not a state (the approval API).
type functionSpec struct {
	name, description string
	timeout           catalog.Duration
	memoryMB          int
	iam               []catalog.Statement
}

// actionSpecs lists the catalog's actions, in catalog order.
func actionSpecs() []functionSpec {
	var out []functionSpec
	for _, a := range catalog.All() {
		out = append(out, functionSpec{a.Name, a.Description, a.Timeout, a.MemoryMB, a.IAM})
	}
	return out
}

// approvalAPISpec is the approval API, a Lambda that is not a state.
func approvalAPISpec() functionSpec { return specOf(catalog.ApprovalAPI) }

// startAPISpec is the start API, the other Lambda that is not a state.
func startAPISpec() functionSpec { return specOf(catalog.StartAPI) }

func specOf(f *catalog.Function) functionSpec {
	return functionSpec{f.Name, f.Description, f.Timeout, f.MemoryMB, f.IAM}
}

// functionSpecs lists every function the stack deploys.
func functionSpecs() []functionSpec { return append(actionSpecs(), approvalAPISpec(), startAPISpec()) }

// functions are the deployed Lambdas by catalog name, and the URLs of the
// approval and start APIs.
type functions struct {
	byName      map[string]awslambda.Function
	approvalURL awslambda.FunctionUrl
	startURL    awslambda.FunctionUrl
}

// functionDeps are the resources every function's environment names.
type functionDeps struct {
	cfg       Config
	storage   *storage
	topic     awssns.ITopic
	key       awskms.IKey
	macKey    awskms.IKey
	resolver  *resolver
	approvers []string
}

// newFunctions creates one function per catalog action and the approval
// API, each with its own role derived from its catalog entry. The approval
// API comes first: its Function URL goes into the others' environment.
func newFunctions(stack awscdk.Stack, d functionDeps) *functions {
	fns := &functions{byName: map[string]awslambda.Function{}}
	env := map[string]*string{
		"IRFLOW_EVIDENCE_BUCKET":   d.storage.evidence.BucketName(),
		"IRFLOW_AUDIT_TABLE":       d.storage.audit.TableName(),
		"IRFLOW_APPROVALS_TABLE":   d.storage.approvals.TableName(),
		"IRFLOW_INCIDENTS_TABLE":   d.storage.incidents.TableName(),
		"IRFLOW_TOPIC_ARN":         d.topic.TopicArn(),
		"IRFLOW_DEFAULT_APPROVERS": jsii.String(strings.Join(d.cfg.Approvers, ",")),
		"IRFLOW_AVML_URL":          jsii.String(d.cfg.AVMLURL),
		"IRFLOW_AVML_SHA256":       jsii.String(d.cfg.AVMLSha256),
		"IRFLOW_KMS_KEY_ARN":       d.key.KeyArn(),
		"IRFLOW_MAC_KEY_ARN":       d.macKey.KeyArn(),
		// The administrator account: targets elsewhere are acted on
		// through their responder role (tasks/taskrt Targets).
		"IRFLOW_HOME_ACCOUNT": stack.Account(),
	}
	if d.cfg.GuardDutyDetectorID != "" {
		env["IRFLOW_GUARDDUTY_DETECTOR_ID"] = jsii.String(d.cfg.GuardDutyDetectorID)
	}
	api := approvalAPISpec()
	apiFn := newFunction(stack, d, api, env)
	fns.byName[api.name] = apiFn
	fns.approvalURL = apiFn.AddFunctionUrl(&awslambda.FunctionUrlOptions{
		AuthType: awslambda.FunctionUrlAuthType_AWS_IAM,
	})
	// Approvers call the URL with their own credentials; the API checks
	// who they are against the gate's approvers.
	for _, a := range d.approvers {
		apiFn.GrantInvokeUrl(awsiam.NewArnPrincipal(jsii.String(a)))
	}

	// The start API starts the playbooks' state machines (<namePrefix>-<name>)
	// and seals their input; it needs no store.
	sapi := startAPISpec()
	startFn := newFunction(stack, d, sapi, map[string]*string{
		"IRFLOW_MAC_KEY_ARN": d.macKey.KeyArn(),
		"IRFLOW_STATE_MACHINE_PREFIX": jsii.String("arn:" + *stack.Partition() + ":states:" + *stack.Region() + ":" + *stack.Account() +
			":stateMachine:" + d.cfg.NamePrefix + "-"),
	})
	fns.byName[sapi.name] = startFn
	// Anyone whose IAM policy allows lambda:InvokeFunctionUrl on it may
	// start a response; the API takes who they are from the signature.
	fns.startURL = startFn.AddFunctionUrl(&awslambda.FunctionUrlOptions{AuthType: awslambda.FunctionUrlAuthType_AWS_IAM})

	withURL := map[string]*string{"IRFLOW_APPROVAL_URL": fns.approvalURL.Url()}
	for k, v := range env {
		withURL[k] = v
	}
	for _, s := range actionSpecs() {
		fns.byName[s.name] = newFunction(stack, d, s, withURL)
	}
	return fns
}

// newFunction creates a provided.al2023 arm64 function from
// <assetDir>/<name>/bootstrap with an explicit log group and a role that
// holds only its catalog statements plus writing its own log streams.
func newFunction(stack awscdk.Stack, d functionDeps, s functionSpec, env map[string]*string) awslambda.Function {
	id := pascal(s.name)
	logs := awslogs.NewLogGroup(stack, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention:     logRetention[d.cfg.LogRetentionDays],
		EncryptionKey: d.key,
		RemovalPolicy: removalPolicy(d.cfg),
	})
	statements, wildcards := d.resolver.statements(s.iam)
	statements = append(statements, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
		Resources: jsii.Strings(*logs.LogGroupArn()),
	}))
	var roleName *string
	if a := catalog.Lookup(s.name); a != nil && a.ActsInTarget() {
		// Organizations: the action's Lambda may assume its own responder
		// role in member accounts, no other (docs/deploy.md); the member
		// roles trust this role by name, so it has one, per region.
		pattern := responderPattern(*stack.Partition(), s.name)
		statements = append(statements, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("sts:AssumeRole"),
			Resources: jsii.Strings(pattern),
		}))
		wildcards = append(wildcards, "Resource::"+responderPattern("<AWS::Partition>", s.name))
		roleName = jsii.String(AdminRoleName(d.cfg.NamePrefix, s.name, *stack.Region()))
	}
	role := awsiam.NewRole(stack, jsii.String(id+"Role"), &awsiam.RoleProps{
		RoleName:    roleName,
		Path:        jsii.String(RolePath),
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("irflow " + s.name + ": the catalog's statements for this action only"),
		InlinePolicies: &map[string]awsiam.PolicyDocument{
			"catalog": awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{Statements: &statements}),
		},
	})
	if len(wildcards) > 0 {
		suppressCatalogWildcards(role, s.name, wildcards)
	}
	fn := awslambda.NewFunction(stack, jsii.String(id+"Function"), &awslambda.FunctionProps{
		Description:  jsii.String(s.description),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(filepath.Join(d.cfg.AssetDir, s.name)), nil),
		Timeout:      awscdk.Duration_Seconds(jsii.Number(float64(s.timeout.Seconds()))),
		MemorySize:   jsii.Number(float64(s.memoryMB)),
		Role:         role,
		LogGroup:     logs,
		Environment:  &env,
	})
	// The tag names the catalog entry, for operators and for the template
	// checks of scripts/test-infra.sh.
	awscdk.Tags_Of(fn).Add(jsii.String("irflow:function"), jsii.String(s.name), nil)
	return fn
}
