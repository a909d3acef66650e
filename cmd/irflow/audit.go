package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/irflow/irflow/ops"
	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/finalize-case/report"
	"github.com/irflow/irflow/tasks/termsafe"
)

func init() {
	register(command{name: "audit", summary: "print a case's audit timeline; --verify recomputes its hash chain", run: runAudit})
}

func runAudit(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("audit", "CASE [--verify] [--format text|json] [--table NAME] [AWS flags]", stderr)
	var o ops.Options
	o.AddFlags(fs)
	verify := fs.Bool("verify", false, "recompute the hash chain; exit 1 naming the first record that does not match")
	format := fs.String("format", "text", "output format: text or json")
	table := fs.String("table", "", "the audit table (default: the stack's "+ops.OutputAuditTable+" output)")
	pos, help, err := parseArgs(fs, args)
	if help {
		return exitOK
	}
	switch {
	case err != nil:
	case len(pos) != 1:
		err = fmt.Errorf("give exactly one case id")
	default:
		err = choice("format", *format, "text", "json")
	}
	if err != nil {
		fmt.Fprintf(stderr, "irflow audit: %v\n", err)
		fs.Usage()
		return exitUsage
	}
	caseID := pos[0]
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	cfg, err := o.Config(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "irflow audit: %v\n", err)
		return exitError
	}
	if *table == "" {
		stack := &ops.Lazy{CFN: cloudformation.NewFromConfig(cfg), Stack: o.Stack}
		if *table, err = stack.Get(ctx, ops.OutputAuditTable, "--table"); err != nil {
			fmt.Fprintf(stderr, "irflow audit: %v\n", err)
			return exitError
		}
	}
	records, err := (&audit.Chain{DB: dynamodb.NewFromConfig(cfg), Table: *table}).Read(ctx, caseID)
	if err != nil {
		fmt.Fprintf(stderr, "irflow audit: reading the audit chain of %s: %v\n", caseID, err)
		return exitError
	}
	if len(records) == 0 {
		fmt.Fprintf(stderr, "irflow audit: no audit records for case %s in table %s\n", caseID, *table)
		return exitError
	}
	var status *audit.ChainStatus
	if *verify {
		st := audit.Check(records)
		status = &st
	}
	if *format == "json" {
		writeAuditJSON(stdout, caseID, records, status)
	} else {
		fmt.Fprintf(stdout, "case %s: %d audit record(s)\n", caseID, len(records))
		_ = report.WriteTimeline(stdout, report.Timeline(records))
		if status != nil {
			fmt.Fprintln(stdout, status.Sentence())
		}
	}
	if status != nil && !status.Verified {
		fmt.Fprintf(stderr, "irflow audit: the audit chain of case %s does not verify: record %d: %s\n", caseID, status.FirstBad, status.Problem)
		return exitError
	}
	return exitOK
}

// writeAuditJSON prints {"caseId", "records": [...], "verification": {...}}
// with the records as stored, hashes included, so others can recompute them.
func writeAuditJSON(w io.Writer, caseID string, records []audit.Record, status *audit.ChainStatus) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	out := map[string]any{"caseId": caseID, "records": records}
	if status != nil {
		out["verification"] = status
	}
	_ = enc.Encode(out)
	_, _ = w.Write(termsafe.JSON(b.Bytes()))
}
