package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/generator/simulate"
)

func init() {
	register(command{name: "simulate", summary: "run a playbook locally on an input, with simulated actions and virtual time", run: runSimulate})
}

// realHandlers builds the real task handlers against an AWS-compatible
// endpoint (irflow simulate --aws-endpoint). tasks/registry sets it from an
// init function in this package; a binary built without it refuses the flag.
var realHandlers func(ctx context.Context, endpoint string) (simulate.Handlers, error)

const simulateHelp = `Runs the playbook's compiled state machine on an execution input, in process
and in virtual time: approval timeouts, waits and retry backoff cost nothing.
Without --aws-endpoint, input validation and normalization are the real code
resolve-target runs, and every other action returns a simulated result. With
it, the real task handlers run against that AWS-compatible endpoint (moto).

A console input names only a task ARN; --launch-type says what the task runs
on. Without it irflow assumes FARGATE and says so on stderr. A GuardDuty
finding carries its own launch type, which wins.

A GuardDuty finding is confirmed by a simulated GuardDuty, as GuardDuty
confirms the findings it published; --unconfirmed-finding makes it not know
the finding (a hand-made input): the execution ends INVALID_INPUT. A console
input's requestedBy is a claim nobody verified: every gate then needs two
distinct approvers (requiredApprovals in --format json).

Gates (approval steps) are approved unless --reject names them; --timeout
leaves a gate unanswered so its onTimeout decides. --fail STEP[=ErrorName]
makes every Task state of the step throw that error (default
States.TaskFailed) on every attempt.

Exit: 0 the execution SUCCEEDED (outcome COMPLETED, REJECTED or DUPLICATE),
3 it FAILED (outcome FAILED, UNSUPPORTED or INVALID_INPUT), 1 playbook
errors, 2 usage or input errors (unreadable or non-JSON input, unknown gate
or step names).`

func runSimulate(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("simulate", "PLAYBOOK --input FILE [--launch-type EC2|FARGATE] [--reject GATE]... [--timeout GATE]... [--fail STEP[=ErrorName]]... [--unconfirmed-finding] [--aws-endpoint URL] [--format text|json]", stderr)
	inputPath := fs.String("input", "", "execution input `FILE`: a GuardDuty EventBridge event or a console input (JSON)")
	launchType := fs.String("launch-type", "", "launch type of a console input's task: EC2 or FARGATE (default FARGATE)")
	var reject, timeout, fail multiFlag
	fs.Var(&reject, "reject", "reject approval step `GATE` (repeatable)")
	fs.Var(&timeout, "timeout", "leave approval step `GATE` unanswered until it times out (repeatable)")
	fs.Var(&fail, "fail", "make the step's Task states throw ErrorName (default States.TaskFailed) on every attempt: `STEP[=ErrorName]` (repeatable)")
	endpoint := fs.String("aws-endpoint", "", "run the real task handlers against this AWS-compatible endpoint `URL`")
	unconfirmed := fs.Bool("unconfirmed-finding", false, "the simulated GuardDuty does not know the input's finding (a hand-made one)")
	format := fs.String("format", "text", "output: text (one line per state, then a summary) or json")
	withHelp(fs, stderr, simulateHelp)
	paths, help, err := parseFormat(fs, args, format, "text", "json")
	if help {
		return exitOK
	}
	if err == nil && *launchType != "" {
		err = choice("launch-type", *launchType, "EC2", "FARGATE")
	}
	switch {
	case err != nil:
	case len(paths) != 1:
		err = fmt.Errorf("give exactly one playbook, not %d", len(paths))
	case *inputPath == "":
		err = fmt.Errorf("--input FILE is required")
	}
	if err != nil {
		return usageError(fs, stderr, err)
	}
	opts := simulate.Options{LaunchType: *launchType, Reject: reject, Timeout: timeout, UnconfirmedFinding: *unconfirmed}
	for _, f := range fail {
		sf, err := simulate.ParseStepFailure(f)
		if err != nil {
			fmt.Fprintf(stderr, "irflow simulate: %v\n", err)
			return exitUsage
		}
		opts.Fail = append(opts.Fail, sf)
	}

	if paths[0] == "-" && *inputPath == "-" {
		fmt.Fprintln(stderr, "irflow simulate: the playbook and --input cannot both be standard input (-)")
		return exitUsage
	}
	src, name, err := readSource(paths[0])
	if err != nil {
		fmt.Fprintf(stderr, "irflow simulate: %v\n", err)
		return exitUsage
	}
	r, ds := generator.Compile(src, name, generator.Options{})
	if len(ds) > 0 {
		_ = writeDiagnostics(stderr, ds, *format)
	}
	if r == nil {
		return exitPlaybook
	}
	input, _, err := readSource(*inputPath)
	if err != nil {
		fmt.Fprintf(stderr, "irflow simulate: %v\n", err)
		return exitUsage
	}
	ctx := rootCtx
	if *endpoint != "" && *unconfirmed {
		fmt.Fprintln(stderr, "irflow simulate: --unconfirmed-finding applies to the simulated GuardDuty only, not with --aws-endpoint")
		return exitUsage
	}
	if *endpoint != "" {
		if realHandlers == nil {
			fmt.Fprintln(stderr, "irflow simulate: --aws-endpoint: real handlers are not built into this binary")
			return exitUsage
		}
		if opts.Handlers, err = realHandlers(ctx, *endpoint); err != nil {
			fmt.Fprintf(stderr, "irflow simulate: --aws-endpoint %s: %v\n", *endpoint, err)
			return exitUsage
		}
	}
	if *format == "text" {
		opts.Trace = stdout
	}
	run, err := simulate.Run(ctx, r, input, opts)
	var inErr *simulate.InputError
	var optErr *simulate.OptionError
	switch {
	case errors.As(err, &inErr):
		fmt.Fprintf(stderr, "irflow simulate: %s: %v\n", *inputPath, inErr)
		return exitUsage
	case errors.As(err, &optErr):
		fmt.Fprintf(stderr, "irflow simulate: %v\n", optErr)
		return exitUsage
	case err != nil:
		fmt.Fprintf(stderr, "irflow simulate: cannot simulate %s: %v\n", paths[0], err)
		return exitPlaybook
	}
	for _, n := range run.Notes {
		fmt.Fprintf(stderr, "irflow simulate: note: %s\n", n)
	}
	if *format == "json" {
		err = run.WriteJSON(stdout)
	} else {
		err = run.WriteSummary(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "irflow simulate: %v\n", err)
		return exitUsage
	}
	if !run.Succeeded() {
		return exitFailed
	}
	return exitOK
}
