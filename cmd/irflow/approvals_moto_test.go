package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/irflow/irflow/ops"
	"github.com/irflow/irflow/tasks/approval-api/approval"
)

// TestApprovalsMoto lists the approvals table in moto: pending ones by
// default, every one with --status ALL, never a task token.
func TestApprovalsMoto(t *testing.T) {
	ep, cfg, table := opsTableWorld(t, "approvals", "approvalId", "")
	db := dynamodb.NewFromConfig(cfg)
	exec := "arn:aws:states:us-east-1:123456789012:execution:irflow-crypto-mining:"
	now := time.Now().UTC()
	pending := &approval.Approval{ID: approval.ID(exec+"case-1", "approve-containment"), CaseID: "case-1", ExecutionID: exec + "case-1",
		Step: "approve-containment", LaunchType: "FARGATE", Prompt: "Isolate and stop the task?", Approvers: []string{"arn:aws:iam::123456789012:role/IC"},
		RequestedBy: "arn:aws:iam::123456789012:role/Responder", OnTimeout: "reject", Status: approval.StatusPending,
		ExpiresAt: now.Add(29 * time.Minute).Truncate(time.Second), TaskToken: "SECRET-TOKEN-1"}
	done := &approval.Approval{ID: approval.ID(exec+"case-2", "approve-containment"), CaseID: "case-2", Step: "approve-containment",
		Prompt: "Stop it?", Approvers: []string{}, Status: approval.StatusApproved, DecidedBy: "arn:aws:sts::123456789012:assumed-role/IC/alice",
		ExpiresAt: now.Add(-time.Hour).Truncate(time.Second), TaskToken: "SECRET-TOKEN-2"}
	for _, a := range []*approval.Approval{pending, done} {
		item, err := a.Item()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
			t.Fatal(err)
		}
	}
	stack := opsStack(t, ep, map[string]string{ops.OutputApprovalsTable: table})
	common := []string{"--endpoint-url", ep, "--region", "us-east-1"}

	code, out, errOut := runCLI(append([]string{"approvals", "--stack", stack}, common...)...)
	if code != exitOK || !strings.Contains(out, pending.ID) || strings.Contains(out, done.ID) ||
		!strings.Contains(out, "Isolate and stop the task?") || !strings.Contains(out, "approve-containment (FARGATE)") ||
		!strings.Contains(out, "(in ") || !strings.Contains(out, "1 pending approval. Decide with: irflow approve ID") {
		t.Errorf("pending: exit %d\n%s\n%s", code, out, errOut)
	}
	t.Logf("irflow approvals:\n%s", out)
	code, out, _ = runCLI(append([]string{"approvals", "--table", table, "--status", "all"}, common...)...)
	if code != exitOK || !strings.Contains(out, pending.ID) || !strings.Contains(out, done.ID) {
		t.Errorf("all: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(append([]string{"approvals", "--table", table, "--format", "json"}, common...)...)
	var doc struct{ Approvals []approval.Approval }
	if err := json.Unmarshal([]byte(out), &doc); code != exitOK || err != nil || len(doc.Approvals) != 1 || doc.Approvals[0].ID != pending.ID {
		t.Errorf("json: exit %d %v\n%s", code, err, out)
	}
	code, out, _ = runCLI(append([]string{"approvals", "--table", table, "--status", "rejected"}, common...)...)
	if code != exitOK || strings.TrimSpace(out) != "no rejected approvals" {
		t.Errorf("none: exit %d %q", code, out)
	}
	for _, args := range [][]string{{"approvals", "--table", table}, {"approvals", "--table", table, "--status", "all", "--format", "json"}} {
		if _, out, errOut := runCLI(append(args, common...)...); strings.Contains(out+errOut, "SECRET-TOKEN") || strings.Contains(out, "taskToken") {
			t.Errorf("%v printed a task token:\n%s", args, out)
		}
	}
	if code, _, errOut := runCLI("approvals", "--status", "maybe"); code != exitUsage || !strings.Contains(errOut, "--status must be one of") {
		t.Errorf("bad status: exit %d %s", code, errOut)
	}
}
