package handler

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/termsafe"
)

// render writes the readable summary followed by the JSON block, shrinking
// error causes until the message fits SNS's 256 KB (with the attributes).
func (n *notice) render() string {
	for _, limit := range []int{8192, 1024, 200, 0} {
		if msg := n.renderWith(limit); len(msg) <= maxMessageBytes-messageAttributesSlack {
			return msg
		}
	}
	msg := n.renderWith(0)
	return strings.ToValidUTF8(msg[:maxMessageBytes-messageAttributesSlack-len("\n[truncated]")], "") + "\n[truncated]"
}

// renderWith renders the text and the JSON block with every error cause
// clipped to causeLimit characters.
func (n *notice) renderWith(causeLimit int) string {
	c := n.clipped(causeLimit)
	js, _ := json.MarshalIndent(c, "", "  ")
	return c.text() + "\n--- JSON ---\n" + string(js) + "\n"
}

// clipped is a copy with error texts cleaned and causes clipped to
// causeLimit characters (0 drops the causes of the steps' recorded errors;
// the failure's and the resolve error's keep 200).
func (n *notice) clipped(causeLimit int) *notice {
	c := *n
	if c.Error != nil {
		c.Error = &contract.StateError{Error: clean(c.Error.Error, 200), Cause: clipCause(c.Error.Cause, max(causeLimit, 200))}
	}
	if c.Failure != nil {
		f := *c.Failure
		f.Summary = clean(f.Summary, max(causeLimit, 200))
		if f.Error != nil {
			f.Error = &contract.StateError{Error: clean(f.Error.Error, 200), Cause: clipCause(f.Error.Cause, max(causeLimit, 200))}
		}
		c.Failure = &f
	}
	if len(c.Errors) > 0 {
		c.Errors = map[string]contract.StateError{}
		for k, e := range n.Errors {
			c.Errors[clean(k, 80)] = contract.StateError{Error: clean(e.Error, 200), Cause: clipCause(e.Cause, causeLimit)}
		}
	}
	return &c
}

// text is the readable part: what a responder reads on a phone.
func (n *notice) text() string {
	var b strings.Builder
	if n.DryRun {
		b.WriteString("[DRY RUN] This is a rehearsal: mutating steps only recorded what they would do.\n\n")
	}
	if n.Message != "" {
		b.WriteString(strings.TrimSpace(n.Message) + "\n\n")
	}
	fmt.Fprintf(&b, "irflow: %s\n\n", n.headline())
	row := func(label, value string) {
		if label != "" {
			label += ":"
		}
		if value != "" {
			fmt.Fprintf(&b, "%-14s%s\n", label, value)
		}
	}
	row("Case", n.CaseID)
	if n.Playbook != "" {
		row("Playbook", fmt.Sprintf("%s (execution %s)", n.Playbook, execName(n.Execution)))
	} else {
		row("Execution", n.Execution)
	}
	if n.Event == EventNotification {
		row("Step", n.Step)
	}
	row("Task", n.TaskArn)
	lt := n.LaunchType
	if lt != "" && n.NetworkMode != "" {
		lt += " (" + n.NetworkMode + " network mode)"
	}
	row("Launch type", lt)
	row("Service", n.Service)
	row("Instance", n.InstanceID)
	if f := n.Finding; f != nil {
		row("Finding", fmt.Sprintf("%s, severity %g (%s)", f.Type, f.Severity, f.Level))
		row("", clean(f.Title, 300))
	}
	if n.RequestedBy != "" {
		by := n.RequestedBy
		if !n.RequesterVerified {
			by += " (claimed by the input, not verified)"
		}
		row("Requested by", fmt.Sprintf("%s: %s", by, clean(n.Reason, 500)))
	}
	if what := n.whatHappened(); what != "" {
		b.WriteString("\nWhat happened:\n" + what)
	}
	if len(n.Errors) > 0 {
		b.WriteString("\nErrors recorded by the steps:\n")
		for _, k := range slices.Sorted(maps.Keys(n.Errors)) {
			e := n.Errors[k]
			fmt.Fprintf(&b, "  - %s: %s", k, e.Error)
			if e.Cause != "" {
				b.WriteString(": " + e.Cause)
			}
			b.WriteString("\n")
		}
	}
	if n.ApprovalURL != "" {
		fmt.Fprintf(&b, "\nApprovals: %s (irflow approve)\n", n.ApprovalURL)
	}
	// Readers get it in mail and terminals; reasons, summaries and causes
	// come from inputs, hosts and APIs.
	return termsafe.Text(b.String())
}

func (n *notice) whatHappened() string {
	switch n.Event {
	case EventStepFailed:
		f := n.Failure
		if f == nil {
			return "  A step failed; the execution ends FAILED after finalize-case.\n"
		}
		s := fmt.Sprintf("  Step %s (%s) failed: %s\n", orNone(f.Step), orNone(f.Action), f.Summary)
		if f.Error != nil {
			s += fmt.Sprintf("  Error: %s: %s\n", f.Error.Error, f.Error.Cause)
		}
		return s + "  Later steps did not run; finalize-case records the outcome FAILED.\n"
	case EventUnsupported:
		return fmt.Sprintf("  The task runs on launch type %s. irflow responds to EC2 and FARGATE tasks only,\n"+
			"  so no evidence or containment step ran: respond by hand.\n", orNone(n.LaunchType))
	case EventResolveFailed:
		s := fmt.Sprintf("  irflow could not resolve the target of execution %s", execName(n.Execution))
		if n.Error != nil {
			s += fmt.Sprintf(": %s: %s", n.Error.Error, n.Error.Cause)
		}
		s += ".\n  Task ARN in the input: " + orNone(n.TaskArn) + "\n  No evidence or containment step ran.\n"
		return s
	}
	return ""
}

// clipCause makes a Catch's Cause readable: Lambda errors arrive as
// {"errorMessage","errorType",...} JSON, of which the message is what counts.
func clipCause(cause string, limit int) string {
	if limit <= 0 {
		return ""
	}
	var lambdaErr struct {
		ErrorMessage string `json:"errorMessage"`
	}
	if json.Unmarshal([]byte(cause), &lambdaErr) == nil && lambdaErr.ErrorMessage != "" {
		cause = lambdaErr.ErrorMessage
	}
	return clean(cause, limit)
}

// clean makes untrusted text one printable line of at most limit runes.
func clean(s string, limit int) string {
	r := []rune(strings.TrimSpace(s))
	for i, c := range r {
		if c < 0x20 || c == 0x7f {
			r[i] = ' '
		}
	}
	if len(r) > limit {
		r = append(r[:limit], '…')
	}
	return string(r)
}

// asciiLine keeps printable ASCII (SNS subjects and attribute values) and
// cuts at limit bytes.
func asciiLine(s string, limit int) string {
	b := make([]byte, 0, len(s))
	for _, c := range s {
		switch {
		case c >= 0x20 && c < 0x7f:
			b = append(b, byte(c))
		case c == '\n' || c == '\t' || c == '\r':
			b = append(b, ' ')
		default:
			b = append(b, '?')
		}
	}
	if len(b) > limit {
		b = b[:limit]
	}
	return strings.TrimSpace(string(b))
}
