package demo

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/irflow/irflow/internal/casecheck"
	"github.com/irflow/irflow/tasks/approval-api/approval"
	"github.com/irflow/irflow/tasks/approval-api/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

// checkEvidence proves the case's evidence from the bucket and the audit
// chain alone (casecheck.Check): every object's SHA-256 recomputed and
// compared with its metadata, the manifest and the audit chain.
func checkEvidence(ctx context.Context, cfg aws.Config, env taskrt.Env, c *Case) error {
	ev, err := casecheck.Check(ctx, taskrt.NewS3(cfg), env.EvidenceBucket, c.CaseID, c.Records)
	if err != nil {
		return err
	}
	c.Evidence = ev.Objects
	c.Problems = append(c.Problems, ev.Problems...)
	return nil
}

// readApprovals reads the case's gates back from the approvals table and
// checks that an accepted decision is recorded as its decider made it, in
// the table and in the audit chain.
func readApprovals(ctx context.Context, cfg aws.Config, env taskrt.Env, c *Case) error {
	db := dynamodb.NewFromConfig(cfg)
	seen := map[string]bool{}
	c.Approvals = nil
	for _, at := range c.Attempts {
		if seen[at.ApprovalID] {
			continue
		}
		seen[at.ApprovalID] = true
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(env.ApprovalsTable), Key: approval.Key(at.ApprovalID), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return fmt.Errorf("reading approval %s: %w", at.ApprovalID, err)
		}
		if len(out.Item) == 0 {
			c.problem("approval %s is not in the approvals table", at.ApprovalID)
			continue
		}
		a, err := approval.FromItem(out.Item)
		if err != nil {
			return err
		}
		c.Approvals = append(c.Approvals, a)
	}
	decided := 0
	for _, at := range c.Attempts {
		if at.Status != http.StatusOK {
			continue
		}
		decided++
		var a *approval.Approval
		for _, x := range c.Approvals {
			if x.ID == at.ApprovalID {
				a = x
			}
		}
		if a == nil || a.DecidedBy != at.Who || a.Decision != at.Decision || a.DeliveredAt == "" {
			c.problem("approval %s: the table does not hold %s's delivered %s decision", at.ApprovalID, at.Who, at.Decision)
			continue
		}
		audited := false
		for _, r := range c.Records {
			if r.Seq == a.AuditSeq && r.Event == "approval-decided" && r.Action == handler.Action && strings.Contains(r.Summary, at.Who) {
				audited = true
			}
		}
		if !audited {
			c.problem("approval %s: audit record %d does not hold %s's decision", a.ID, a.AuditSeq, at.Who)
		}
	}
	if decided == 0 {
		c.problem("no gate was decided through the approval API")
	}
	return nil
}
