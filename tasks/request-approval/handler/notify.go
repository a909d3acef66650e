package handler

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/irflow/irflow/tasks/approval-api/approval"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/termsafe"
)

// maxSubject is SNS's limit on a subject line.
const maxSubject = 100

// notify tells the approvers how to decide. It reports whether a message
// was sent (no topic configured: none).
func (h *Handler) notify(ctx context.Context, p *contract.Payload, a *approval.Approval) (bool, error) {
	if h.TopicArn == "" {
		return false, nil
	}
	_, err := h.SNS.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(h.TopicArn),
		Subject:  aws.String(subject(a)),
		Message:  aws.String(Message(a, p.Incident.Reason, h.ApprovalURL)),
	})
	if err != nil {
		return false, contract.AWSError("sns:Publish approval request", err)
	}
	return true, nil
}

func subject(a *approval.Approval) string {
	s := "irflow: approval needed for case " + a.CaseID
	if a.DryRun {
		s = "irflow (dry run): approval needed for case " + a.CaseID
	}
	if len(s) > maxSubject {
		s = s[:maxSubject]
	}
	return s
}

// Message is the text approvers receive: what is asked, about what, until
// when, and the commands that decide. It never carries the task token.
func Message(a *approval.Approval, reason, approvalURL string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "irflow needs a decision before the response to case %s continues.\n\n", a.CaseID)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "  %-13s %s\n", k+":", termsafe.Line(v))
		}
	}
	row("Question", a.Prompt)
	where := a.Step
	if a.LaunchType != "" {
		where += " (" + a.LaunchType + " branch)"
	}
	row("Step", where)
	row("State machine", a.StateMachine)
	row("Task", a.TaskArn)
	if len(a.Tasks) > 1 {
		more := ""
		if a.TasksTruncated {
			more = ", and more (see the case's siblings evidence)"
		}
		row("Covers", fmt.Sprintf("%d tasks (this one, those running its image digest, those of findings that joined the case)%s:", len(a.Tasks), more))
		for _, t := range a.Tasks {
			fmt.Fprintf(&b, "  %-13s %s\n", "", termsafe.Line(t))
		}
	}
	if len(a.LeftAlone) > 0 {
		row("Left alone", fmt.Sprintf("%d task(s) the playbook's exclude: tags keep out of the response (not covered):", len(a.LeftAlone)))
		for _, t := range a.LeftAlone {
			fmt.Fprintf(&b, "  %-13s %s\n", "", termsafe.Line(t))
		}
	}
	row("Reason", reason)
	requester := a.RequestedBy
	if !a.RequesterVerified {
		requester += " (claimed by the input, not verified)"
	}
	row("Requested by", requester)
	row("Approvers", strings.Join(a.Approvers, ", "))
	row("Decide by", fmt.Sprintf("%s (unanswered: %s)", a.ExpiresAt.UTC().Format(time.RFC3339), a.OnTimeout))
	row("Approval id", a.ID)
	if a.DryRun {
		b.WriteString("\n  DRY RUN: the response records what it would do and changes nothing.\n")
	}
	fmt.Fprintf(&b, "\nTo approve:\n  irflow approve %s --reason \"why\"\n", a.ID)
	fmt.Fprintf(&b, "To reject:\n  irflow approve %s --reject --reason \"why\"\n", a.ID)
	if approvalURL != "" {
		fmt.Fprintf(&b, "\nOr POST {\"decision\": \"approve\" or \"reject\", \"reason\": \"why\"} to\n  %s\nsigned with SigV4 (service lambda).\n",
			approval.DecisionURL(approvalURL, a.ID))
	}
	if n := a.Required(); n > 1 {
		fmt.Fprintf(&b, "\n%d distinct approvers must approve before the response continues; one rejection stops it.\n", n)
	}
	if !a.AllowSelfApproval {
		b.WriteString("\nFour eyes: the person who requested the response cannot approve it.\n")
	}
	return b.String()
}
