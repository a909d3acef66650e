package report

import (
	"cmp"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/irflow/irflow/tasks/termsafe"
)

// Markdown renders the report for people: outcome, approvals, steps,
// artifacts, errors, the timeline and the chain's verification.
func (r *Report) Markdown() []byte {
	var b strings.Builder
	title := fmt.Sprintf("# irflow case %s: %s", r.CaseID, r.Outcome)
	if r.DryRun {
		title += " (DRY RUN)"
	}
	b.WriteString(title + "\n\n")
	if r.DryRun {
		b.WriteString("> **DRY RUN**: every mutating action recorded what it would do and changed nothing.\n\n")
	}
	kv := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "- **%s**: %s\n", k, md(v))
		}
	}
	kv("Outcome", r.Outcome)
	kv("State machine", r.StateMachine)
	kv("Execution", r.ExecutionID)
	if inc := r.Incident; inc != nil {
		kv("Task", inc.TaskArn)
		kv("Source", inc.Source)
		kv("Reason", inc.Reason)
		if r := inc.Requester; r != nil && r.Verified {
			kv("Requested by", fmt.Sprintf("%s (verified: %s)", r.ID, r.Via))
		} else {
			kv("Requested by", inc.RequestedBy+" (claimed by the input, not verified: every gate needed two approvers)")
		}
		kv("Received", inc.ReceivedAt)
		if f := inc.Finding; f != nil {
			kv("Finding", fmt.Sprintf("%s (severity %.1f) %s", f.Type, f.Severity, f.ID))
		}
	}
	if w := r.Where; w != nil {
		kv("Target account and region", w.TargetAccount+" "+w.TargetRegion)
		kv("Evidence", "s3://"+w.EvidenceBucket+" in "+w.EvidenceRegion)
	}
	if t := r.Target; t != nil {
		kv("Launch type", t.LaunchType)
		kv("Network mode", t.NetworkMode)
		kv("Instance", t.InstanceID)
	}
	kv("Report generated", r.GeneratedAt)
	if f := r.Failure; f != nil {
		kv("Failed step", fmt.Sprintf("%s (%s): %s", f.Step, f.Action, f.Summary))
	}

	b.WriteString("\n## Approvals\n\n")
	rows := [][]string{}
	for _, a := range r.Approvals {
		who := a.Approver
		if len(a.ApprovedBy) > 1 || a.RequiredApprovals > 1 {
			who = fmt.Sprintf("%s (%d of %d)", strings.Join(a.ApprovedBy, ", "), len(a.ApprovedBy), max(a.RequiredApprovals, 1))
		}
		if a.Note != "" {
			who += " (" + a.Note + ")"
		}
		by := a.RequestedBy
		if by != "" && !a.RequesterVerified {
			by += " (claimed)"
		}
		rows = append(rows, []string{a.Step, a.Status, who, a.Reason, a.DecidedAt, by, a.Prompt})
	}
	table(&b, []string{"step", "decision", "approver", "reason", "decided at", "requested by", "question"}, rows, "no approval gates ran")

	b.WriteString("\n## Steps\n\n")
	rows = rows[:0]
	for _, s := range r.Steps {
		rows = append(rows, []string{s.ID, s.Action, s.Status, s.Summary})
	}
	table(&b, []string{"step", "action", "status", "summary"}, rows, "no steps ran")

	fmt.Fprintf(&b, "\n## Artifacts\n\n%d object(s), %s in all.\n\n", len(r.Artifacts), humanBytes(r.TotalBytes()))
	rows = rows[:0]
	for _, a := range r.Artifacts {
		rows = append(rows, []string{a.Step, a.Action, "`" + a.URI + "`", fmt.Sprint(a.Bytes), "`" + a.SHA256 + "`"})
	}
	table(&b, []string{"step", "action", "uri", "bytes", "sha256"}, rows, "no evidence was stored")

	b.WriteString("\n## Errors\n\n")
	rows = rows[:0]
	for _, e := range r.Errors {
		rows = append(rows, []string{e.Step, e.Error, e.Cause})
	}
	table(&b, []string{"step", "error", "cause"}, rows, "none")

	b.WriteString("\n## Timeline\n\n")
	rows = rows[:0]
	for _, e := range r.Timeline {
		rows = append(rows, []string{fmt.Sprint(e.Seq), e.At, e.Step, e.Action, e.Event, e.Status, e.Summary})
	}
	table(&b, []string{"seq", "at", "step", "action", "event", "status", "summary"}, rows, "no audit records")

	b.WriteString("\n## Audit chain\n\n")
	b.WriteString(r.Chain.Sentence() + "\n")
	return []byte(b.String())
}

// table writes a Markdown table, or the empty sentence when there are no rows.
func table(b *strings.Builder, head []string, rows [][]string, empty string) {
	if len(rows) == 0 {
		fmt.Fprintf(b, "_%s._\n", empty)
		return
	}
	b.WriteString("| " + strings.Join(head, " | ") + " |\n|")
	for range head {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
	for _, row := range rows {
		cells := make([]string, len(row))
		for i, c := range row {
			cells[i] = cell(c)
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
}

// cell escapes a table cell: pipes and line breaks would end it.
func cell(s string) string {
	s = termsafe.Text(s)
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(s, "\r", "")
	return strings.ReplaceAll(s, "\n", "<br>")
}

// md keeps a value on its line.
func md(s string) string { return strings.ReplaceAll(cell(s), `\|`, "|") }

// WriteTimeline writes events as aligned text, one per line.
func WriteTimeline(w io.Writer, events []Event) error {
	var buf strings.Builder
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	for _, e := range events {
		fmt.Fprintf(tw, "#%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Seq, oneLine(e.At), oneLine(cmp.Or(e.Step, "-")), oneLine(e.Action), oneLine(e.Event),
			oneLine(cmp.Or(e.Status, "-")), oneLine(e.Summary))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, line := range strings.SplitAfter(buf.String(), "\n") {
		if line == "" {
			continue
		}
		if _, err := io.WriteString(w, strings.TrimRight(line, " \n")+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// oneLine keeps text from an input, a host or an approver on its line and
// out of the terminal's control: line breaks and tabs become spaces, other
// controls visible escapes.
func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\r\n", " ")
	s = strings.ReplaceAll(s, "\n", " ")
	return termsafe.Line(strings.ReplaceAll(s, "\t", " "))
}
