package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/irflow/irflow/ops"
	"github.com/irflow/irflow/tasks/approval-api/approval"
	"github.com/irflow/irflow/tasks/termsafe"
)

func init() {
	register(command{name: "approvals", summary: "list the approval gates waiting for a decision", run: runApprovals})
}

// opTimeout bounds an operator command's AWS calls.
const opTimeout = 2 * time.Minute

// exitError is an operator command's failure: a refused decision, an audit
// chain that does not verify, a refused start, an AWS error. It shares
// exit code 1 with playbook errors.
const exitError = exitPlaybook

func runApprovals(args []string, stdout, stderr io.Writer) int {
	var o ops.Options
	fs := newOpsFlags("approvals", "[--status PENDING|APPROVED|REJECTED|TIMED_OUT|CLOSED|ALL] [--table NAME] [--format text|json] [AWS flags]", "", &o, stderr)
	status := fs.String("status", approval.StatusPending, "which approvals to list; ALL for every one")
	table := fs.String("table", "", "the approvals table (default: the stack's "+ops.OutputApprovalsTable+" output)")
	format := fs.String("format", "text", "output format: text or json")
	pos, help, err := parseFormat(fs, args, format, "text", "json")
	if help {
		return exitOK
	}
	st := strings.ToUpper(*status)
	if err == nil {
		err = choice("status", st, approval.StatusPending, approval.StatusApproved, approval.StatusRejected,
			approval.StatusTimedOut, approval.StatusClosed, "ALL")
	}
	if err == nil && len(pos) > 0 {
		err = fmt.Errorf("unexpected argument %q", pos[0])
	}
	if err != nil {
		return usageError(fs, stderr, err)
	}
	if st == "ALL" {
		st = ""
	}
	ctx, cancel := context.WithTimeout(rootCtx, opTimeout)
	defer cancel()
	cfg, _, err := stackConfig(ctx, o, ops.Need{Value: table, Output: ops.OutputApprovalsTable, Flag: "--table"})
	if err != nil {
		fmt.Fprintf(stderr, "irflow approvals: %v\n", err)
		return exitError
	}
	list, err := approval.List(ctx, dynamodb.NewFromConfig(cfg), *table, st)
	if err != nil {
		fmt.Fprintf(stderr, "irflow approvals: %v\n", err)
		return exitError
	}
	if *format == "json" {
		if list == nil {
			list = []*approval.Approval{}
		}
		b, _ := json.MarshalIndent(map[string]any{"approvals": list}, "", "  ")
		_, _ = stdout.Write(append(termsafe.JSON(b), '\n'))
		return exitOK
	}
	writeApprovals(stdout, list, st, time.Now())
	return exitOK
}

// writeApprovals prints one approval per line: id, case, step, deadline,
// requester and question. Tokens are never read, so never printed.
func writeApprovals(w io.Writer, list []*approval.Approval, status string, now time.Time) {
	what := "approval"
	if status != "" {
		what = strings.ToLower(strings.ReplaceAll(status, "_", " ")) + " approval"
	}
	if len(list) == 0 {
		fmt.Fprintf(w, "no %ss\n", what)
		return
	}
	if len(list) > 1 {
		what += "s"
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCASE\tSTEP\tSTATUS\tEXPIRES\tREQUESTED BY\tPROMPT")
	for _, a := range list {
		// Everything here came from the approvals table: prompts from
		// playbooks, requesters from inputs. Nothing reaches the terminal raw.
		line := termsafe.Line
		step := a.Step
		if a.LaunchType != "" {
			step += " (" + a.LaunchType + ")"
		}
		if a.DryRun {
			step += " [dry run]"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", line(a.ID), line(a.CaseID), line(step), line(a.Status), expires(a, now),
			line(a.RequestedBy), line(a.Prompt))
	}
	tw.Flush()
	fmt.Fprintf(w, "%d %s.", len(list), what)
	if status == approval.StatusPending {
		fmt.Fprint(w, " Decide with: irflow approve ID --reason TEXT [--reject]")
	}
	fmt.Fprintln(w)
}

func expires(a *approval.Approval, now time.Time) string {
	at := a.ExpiresAt.UTC().Format(time.RFC3339)
	if a.Status != approval.StatusPending {
		return at
	}
	if left := a.ExpiresAt.Sub(now); left > 0 {
		if left < time.Minute {
			return at + " (in <1m)"
		}
		return fmt.Sprintf("%s (in %s)", at, strings.TrimSuffix(left.Round(time.Minute).String(), "0s"))
	}
	return at + " (expired: onTimeout " + a.OnTimeout + " applies)"
}
