package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/irflow/irflow/ops"
	"github.com/irflow/irflow/tasks/approval-api/approval"
	"github.com/irflow/irflow/tasks/termsafe"
)

func init() {
	register(command{name: "approve", summary: "approve or reject an approval gate (signed call to the approval API)", run: runApprove})
}

func runApprove(args []string, stdout, stderr io.Writer) int {
	var o ops.Options
	fs := newOpsFlags("approve", "ID --reason TEXT [--reject] [--endpoint URL] [AWS flags]", "", &o, stderr)
	reject := fs.Bool("reject", false, "reject instead of approve: the response stops with outcome REJECTED")
	reason := fs.String("reason", "", "why (required); recorded in the audit chain and the case report")
	endpoint := fs.String("endpoint", "", "the approval API's Function URL (default: the stack's "+ops.OutputApprovalURL+" output)")
	pos, help, err := parseArgs(fs, args)
	if help {
		return exitOK
	}
	switch {
	case err != nil:
	case len(pos) == 0:
		err = fmt.Errorf("no approval id given (irflow approvals lists them)")
	case len(pos) > 1:
		err = fmt.Errorf("one approval id at a time, not %d", len(pos))
	case strings.TrimSpace(*reason) == "":
		err = fmt.Errorf("--reason is required: say why; it goes into the audit trail")
	case !approval.ValidID(pos[0]):
		err = fmt.Errorf("%q is not an approval id (apr- and 20 hex digits; irflow approvals lists them)", pos[0])
	}
	if err != nil {
		fmt.Fprintf(stderr, "irflow approve: %v\n", err)
		fs.Usage()
		return exitUsage
	}
	id, decision := pos[0], approval.DecisionApprove
	if *reject {
		decision = approval.DecisionReject
	}
	ctx, cancel := context.WithTimeout(rootCtx, opTimeout)
	defer cancel()
	cfg, _, err := stackConfig(ctx, o, ops.Need{Value: endpoint, Output: ops.OutputApprovalURL, Flag: "--endpoint"})
	if err != nil {
		fmt.Fprintf(stderr, "irflow approve: %v\n", err)
		return exitError
	}
	client := &ops.ApprovalClient{Endpoint: *endpoint, Credentials: cfg.Credentials, Region: cfg.Region}
	res, err := client.Decide(ctx, id, decision, strings.TrimSpace(*reason))
	var refused *ops.RefusedError
	switch {
	case errors.As(err, &refused):
		fmt.Fprintf(stderr, "irflow approve: refused (%s): %s\n", refusedStatus(refused), termsafe.Line(refused.Message))
		return exitError
	case err != nil:
		fmt.Fprintf(stderr, "irflow approve: %v\n", err)
		return exitError
	}
	verb, next := "approved", "the response continues."
	switch {
	case res.Decision == approval.DecisionReject:
		verb, next = "rejected", "the response stops here with outcome REJECTED."
	case res.Status == approval.StatusPending:
		verb = fmt.Sprintf("recorded approval %d of %d of", res.Approvals, res.RequiredApprovals)
		next = fmt.Sprintf("the gate waits for %d more distinct approver(s); one rejection stops the response.", res.RequiredApprovals-res.Approvals)
	}
	if res.DeliveryUnknown != "" {
		next = "DELIVERY UNKNOWN: " + res.DeliveryUnknown + ". Repeat the same command to find out; do not assume it did not happen."
	}
	// The answer is the API's, but its fields echo the approvals table.
	line := termsafe.Line
	fmt.Fprintf(stdout, "%s %s (case %s, step %s) as %s\n", verb, line(res.ApprovalID), line(res.CaseID), line(res.Step), line(res.Approver))
	fmt.Fprintf(stdout, "  reason:     %s\n  decided at: %s\n  audit:      record %d of case %s (irflow audit %s --verify)\n  %s\n",
		line(res.Reason), line(res.DecidedAt), res.AuditSeq, line(res.CaseID), line(res.CaseID), strings.ToUpper(next[:1])+next[1:])
	return exitOK
}

// refusedStatus is "409 already-decided", or "403 Forbidden" for an answer
// that did not come from the approval API itself.
func refusedStatus(r *ops.RefusedError) string {
	if r.Code != "" {
		return fmt.Sprintf("%d %s", r.Status, r.Code)
	}
	return fmt.Sprintf("HTTP %d", r.Status)
}
