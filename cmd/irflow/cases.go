package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/irflow/irflow/ops"
	"github.com/irflow/irflow/tasks/termsafe"
)

func init() {
	register(command{name: "cases", summary: "list the cases of the incidents table: status, outcome, target account and region, task", run: runCases})
}

const casesHelp = `Each case is a claim resolve-target took in the incidents table. STATUS is
OPEN while its execution holds the task's dedupe lock, FINALIZED once
finalize-case recorded its OUTCOME, ENDED when neither (the execution stopped
or failed after resolve-target, or its lock expired). ACCOUNT and REGION are
the task's: with Organizations, the member account the case acted in, while
irflow, this table and the evidence stay in the administrator account.`

func runCases(args []string, stdout, stderr io.Writer) int {
	var o ops.Options
	fs := newOpsFlags("cases", "[--table NAME] [--format text|json] [AWS flags]", casesHelp, &o, stderr)
	table := fs.String("table", "", "the incidents table (default: the stack's "+ops.OutputIncidentsTable+" output)")
	format := fs.String("format", "text", "output format: text or json")
	pos, help, err := parseFormat(fs, args, format, "text", "json")
	if help {
		return exitOK
	}
	if err == nil && len(pos) > 0 {
		err = fmt.Errorf("unexpected argument %q", pos[0])
	}
	if err != nil {
		return usageError(fs, stderr, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	cfg, _, err := stackConfig(ctx, o, ops.Need{Value: table, Output: ops.OutputIncidentsTable, Flag: "--table"})
	if err != nil {
		fmt.Fprintf(stderr, "irflow cases: %v\n", err)
		return exitError
	}
	list, err := ops.ListCases(ctx, dynamodb.NewFromConfig(cfg), *table, time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "irflow cases: %v\n", err)
		return exitError
	}
	if *format == "json" {
		b, _ := json.MarshalIndent(map[string]any{"cases": list}, "", "  ")
		_, _ = stdout.Write(append(termsafe.JSON(b), '\n'))
		return exitOK
	}
	writeCases(stdout, list)
	return exitOK
}

// writeCases prints one case per line. Everything came from the incidents
// table (case ids and task ARNs from inputs): nothing reaches the terminal raw.
func writeCases(w io.Writer, list []ops.Case) {
	if len(list) == 0 {
		fmt.Fprintln(w, "no cases")
		return
	}
	line := termsafe.Line
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tSTATUS\tOUTCOME\tACCOUNT\tREGION\tCLUSTER/TASK\tSTARTED")
	for _, c := range list {
		outcome := cmp.Or(c.Outcome, "-")
		if c.DryRun {
			outcome += " [dry run]"
		}
		task := c.TaskArn
		if c.Cluster != "" {
			task = c.Cluster + "/" + path.Base(c.TaskArn)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", line(c.CaseID), c.Status, line(outcome), line(c.TargetAccount), line(c.Region), line(task), line(c.StartedAt))
	}
	tw.Flush()
	fmt.Fprintf(w, "%d case(s). irflow audit CASE shows one's timeline.\n", len(list))
}
