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
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/ops"
)

func init() {
	register(command{name: "start", summary: "start a response on a deployed playbook for an ECS task", run: runStart})
}

var playbookNameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{1,62}$`)

func runStart(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("start", "PLAYBOOK --task ARN --reason TEXT [--dry-run] [--case-id ID] [--requested-by WHO] [--state-machine ARN] [--format text|json] [AWS flags]", stderr)
	var o ops.Options
	o.AddFlags(fs)
	var req ops.StartRequest
	fs.StringVar(&req.TaskArn, "task", "", "the ECS task to respond to (arn:aws:ecs:REGION:ACCOUNT:task/CLUSTER/ID)")
	fs.StringVar(&req.Reason, "reason", "", "why the response starts (required); goes into the case report and tags")
	fs.BoolVar(&req.DryRun, "dry-run", false, "record what every mutating action would do and change nothing")
	fs.StringVar(&req.CaseID, "case-id", "", "the case id, also the execution name (default case-<yyyymmdd-hhmmss>-<4 hex>)")
	fs.StringVar(&req.RequestedBy, "requested-by", "", "who asks for the response (default: your IAM identity from sts:GetCallerIdentity)")
	smArn := fs.String("state-machine", "", "the state machine ARN (default: the stack's StateMachine<Name>Arn output)")
	format := fs.String("format", "text", "output format: text or json")
	pos, help, err := parseArgs(fs, args)
	if help {
		return exitOK
	}
	switch {
	case err != nil:
	case len(pos) != 1:
		err = fmt.Errorf("give exactly one playbook (a name such as crypto-mining, or its file)")
	default:
		err = choice("format", *format, "text", "json")
	}
	var name string
	if err == nil {
		name, err = playbookName(pos[0])
	}
	if err != nil {
		fmt.Fprintf(stderr, "irflow start: %v\n", err)
		fs.Usage()
		return exitUsage
	}
	if req.CaseID == "" {
		req.CaseID = ops.NewCaseID(time.Now())
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	// Check the input before any AWS call: a bad flag should not wait for
	// credentials. Without --requested-by, a placeholder stands in until
	// sts:GetCallerIdentity answers.
	probe := req
	if probe.RequestedBy == "" {
		probe.RequestedBy = "arn:aws:iam::000000000000:user/placeholder"
	}
	if code := checkInput(probe, stderr); code != exitOK {
		return code
	}
	cfg, err := o.Config(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "irflow start: %v\n", err)
		return exitError
	}
	if req.RequestedBy == "" {
		id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			fmt.Fprintf(stderr, "irflow start: finding who you are (or pass --requested-by): %v\n", err)
			return exitError
		}
		req.RequestedBy = aws.ToString(id.Arn)
		if code := checkInput(req, stderr); code != exitOK {
			return code
		}
	}
	if *smArn == "" {
		stack := &ops.Lazy{CFN: cloudformation.NewFromConfig(cfg), Stack: o.Stack}
		if *smArn, err = stack.Get(ctx, ops.StateMachineOutput(name), "--state-machine"); err != nil {
			if all, oerr := stack.Outputs(ctx); oerr == nil && len(all.StateMachines()) > 0 {
				err = fmt.Errorf("%w; the stack deploys: %s", err, strings.Join(all.StateMachines(), ", "))
			}
			fmt.Fprintf(stderr, "irflow start: %v\n", err)
			return exitError
		}
	}
	execArn, err := ops.Start(ctx, sfn.NewFromConfig(cfg), *smArn, req.CaseID, req.Input())
	if err != nil {
		var dup *ops.DuplicateCaseError
		if errors.As(err, &dup) {
			fmt.Fprintf(stderr, "irflow start: refused: %v\n", err)
		} else {
			fmt.Fprintf(stderr, "irflow start: %v\n", err)
		}
		return exitError
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(map[string]any{"caseId": req.CaseID, "executionArn": execArn, "stateMachineArn": *smArn,
			"input": json.RawMessage(req.Input())})
		return exitOK
	}
	mode := ""
	if req.DryRun {
		mode = " (dry run)"
	}
	fmt.Fprintf(stdout, "started case %s%s on %s\n  execution:    %s\n  requested by: %s\n", req.CaseID, mode, *smArn, execArn, req.RequestedBy)
	fmt.Fprintf(stdout, "Follow it with: irflow audit %s; decide its gates with: irflow approvals\n", req.CaseID)
	return exitOK
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
	flags := map[string]string{"taskArn": "--task", "reason": "--reason", "requestedBy": "--requested-by", "caseId": "--case-id", "dryRun": "--dry-run"}
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
