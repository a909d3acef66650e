package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/ops"
	"github.com/irflow/irflow/tasks/termsafe"
)

func init() {
	register(command{name: "start", summary: "start a response through the start API (the requester verified from your credentials)", run: runStart})
}

var playbookNameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{1,62}$`)

const startHelp = `irflow start calls the deployment's start API (a Function URL with AWS_IAM
auth, found from the stack's StartUrl output or --endpoint) with a
SigV4-signed request. The API takes the requester from your credentials,
never from a flag, starts the playbook's state machine with the execution
named after the case id, and seals the input with the deployment's HMAC
key: resolve-target verifies the seal, so the response's requester is
verified and four eyes hold. An input typed into the Step Functions console
carries only a claimed requester, and each of its approval gates needs two
distinct approvers. Your credentials need lambda:InvokeFunctionUrl on the
start API.`

func runStart(args []string, stdout, stderr io.Writer) int {
	var o ops.Options
	fs := newOpsFlags("start", "PLAYBOOK --task ARN --reason TEXT [--dry-run] [--case-id ID] [--endpoint URL] [--format text|json] [AWS flags]", startHelp, &o, stderr)
	var req ops.StartRequest
	fs.StringVar(&req.TaskArn, "task", "", "the ECS task to respond to (arn:aws:ecs:REGION:ACCOUNT:task/CLUSTER/ID)")
	fs.StringVar(&req.Reason, "reason", "", "why the response starts (required); goes into the case report and tags")
	fs.BoolVar(&req.DryRun, "dry-run", false, "record what every mutating action would do and change nothing")
	fs.StringVar(&req.CaseID, "case-id", "", "the case id, also the execution name (default case-<yyyymmdd-hhmmss>-<4 hex>)")
	endpoint := fs.String("endpoint", "", "the start API's Function URL (default: the stack's "+ops.OutputStartURL+" output)")
	format := fs.String("format", "text", "output format: text or json")
	arg, help, err := parseOne(fs, args, "playbook (a name such as crypto-mining, or its file)", format, "text", "json")
	if help {
		return exitOK
	}
	var name string
	if err == nil {
		name, err = playbookName(arg)
	}
	if err != nil {
		return usageError(fs, stderr, err)
	}
	if req.CaseID == "" {
		req.CaseID = ops.NewCaseID(time.Now())
	}
	// Check the input before any AWS call: a bad flag should not wait for
	// credentials. The start API fills in the requester from the signed
	// request; a placeholder stands in for it here.
	probe := req
	probe.RequestedBy = "arn:aws:iam::000000000000:user/placeholder"
	if code := checkInput(probe, stderr); code != exitOK {
		return code
	}
	ctx, cancel := context.WithTimeout(rootCtx, opTimeout)
	defer cancel()
	client, err := startClient(ctx, o, *endpoint)
	if err != nil {
		fmt.Fprintf(stderr, "irflow start: %v\n", err)
		return exitError
	}
	res, err := client.Start(ctx, name, req)
	if code := startRefused("start", err, stderr); code != exitOK {
		return code
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(res)
		return exitOK
	}
	mode := ""
	if req.DryRun {
		mode = " (dry run)"
	}
	line := termsafe.Line
	fmt.Fprintf(stdout, "started case %s%s on %s\n  execution:    %s\n  requested by: %s (verified: the start API took it from your credentials)\n",
		line(res.CaseID), mode, line(res.StateMachineArn), line(res.ExecutionArn), line(res.RequestedBy))
	fmt.Fprintf(stdout, "Follow it with: irflow audit %s; decide its gates with: irflow approvals\n", line(res.CaseID))
	return exitOK
}

// startClient is the signed client of the deployment's start API: at
// endpoint, or at the stack's StartUrl output. irflow start and irflow
// release both start executions through it.
func startClient(ctx context.Context, o ops.Options, endpoint string) (*ops.StartClient, error) {
	cfg, _, err := stackConfig(ctx, o, ops.Need{Value: &endpoint, Output: ops.OutputStartURL, Flag: "--endpoint"})
	if err != nil {
		return nil, err
	}
	return &ops.StartClient{Endpoint: endpoint, Credentials: cfg.Credentials, Region: cfg.Region}, nil
}

// stackConfig is the AWS config of the operator flags o, with every empty
// need filled from the outputs of o's stack (read once, only if one is
// missing); the stack is returned for outputs read later.
func stackConfig(ctx context.Context, o ops.Options, needs ...ops.Need) (aws.Config, *ops.Lazy, error) {
	cfg, err := o.Config(ctx)
	if err != nil {
		return cfg, nil, err
	}
	stack := &ops.Lazy{CFN: cloudformation.NewFromConfig(cfg), Stack: o.Stack}
	return cfg, stack, stack.Fill(ctx, needs...)
}

// startRefused prints the start API's refusal (or the call's failure) for
// command cmd and returns its exit code; exitOK when err is nil.
func startRefused(cmd string, err error, stderr io.Writer) int {
	var refused *ops.RefusedError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &refused) && refused.Code == "invalid-input":
		fmt.Fprintf(stderr, "irflow %s: invalid input: %s: %s (the execution would fail with InvalidInputError)\n",
			cmd, flagOf(refused.Field), termsafe.Line(refused.Message))
		return exitUsage
	case errors.As(err, &refused):
		fmt.Fprintf(stderr, "irflow %s: refused (%s): %s\n", cmd, refusedStatus(refused), termsafe.Line(refused.Message))
		return exitError
	}
	fmt.Fprintf(stderr, "irflow %s: %v\n", cmd, err)
	return exitError
}

// checkInput validates the execution input the way the state machine's
// first state will, naming the field (usage error, exit 2).
func checkInput(req ops.StartRequest, stderr io.Writer) int {
	if err := req.Validate(); err != nil {
		var ie *ops.InputError
		if errors.As(err, &ie) {
			fmt.Fprintf(stderr, "irflow start: invalid input: %s: %s (the execution would fail with InvalidInputError)\n", flagOf(ie.Field), ie.Message)
			return exitUsage
		}
		fmt.Fprintf(stderr, "irflow start: %v\n", err)
		return exitError
	}
	return exitOK
}

// flagOf names an input field with the flag that sets it.
func flagOf(field string) string {
	flags := map[string]string{"taskArn": "--task", "reason": "--reason", "caseId": "--case-id", "dryRun": "--dry-run", "playbook": "PLAYBOOK", "steps": "--steps"}
	if f, ok := flags[field]; ok {
		return field + " (" + f + ")"
	}
	return field
}

// playbookName is the playbook's metadata.name: the argument itself, or,
// for a file, what the file declares (after checking it compiles and
// allows manual starts).
func playbookName(arg string) (string, error) {
	isFile := strings.HasSuffix(arg, ".yaml") || strings.HasSuffix(arg, ".yml") || strings.ContainsRune(arg, os.PathSeparator)
	if !isFile {
		if !playbookNameRE.MatchString(arg) {
			return "", fmt.Errorf("%q is neither a playbook name (lower-case letters, digits, -) nor a playbook file", arg)
		}
		return arg, nil
	}
	src, err := os.ReadFile(arg)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %v", arg, unwrapPathError(err))
	}
	r, ds := generator.Compile(src, arg, generator.Options{})
	if r == nil || ds.HasErrors() {
		return "", fmt.Errorf("%s does not compile (%d error(s)); run irflow validate %s", arg, ds.Errors(), arg)
	}
	if !r.Triggers.Manual {
		return "", fmt.Errorf("playbook %s does not allow manual starts (triggers.manual is false)", r.Name)
	}
	return r.Name, nil
}
