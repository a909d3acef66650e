package main

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/irflow/irflow/ops"
	"github.com/irflow/irflow/tasks/audit"
)

// TestCasesMoto lists the incidents table in moto: a finalized case in a
// member account (its outcome on the claim), an open one holding its
// task's lock, an ended one whose lock another case holds; by stack output
// and by --table, as text and JSON. Locks, ledgers and correlation items
// are not cases.
func TestCasesMoto(t *testing.T) {
	ep, cfg, table := opsTableWorld(t, "incidents", "pk", "")
	db := dynamodb.NewFromConfig(cfg)
	s := func(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }
	const member, home = "222233334444", "123456789012"
	memberTask := "arn:aws:ecs:eu-west-1:" + member + ":task/payments/0123456789abcdef0123456789abcdef"
	homeTask := "arn:aws:ecs:us-east-1:" + home + ":task/batch/fedcba9876543210fedcba9876543210"
	future := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	items := []map[string]ddbtypes.AttributeValue{
		{"pk": s("case#gd-member"), "caseId": s("gd-member"), "executionId": s("exec-1"), "startedAt": s("2026-12-03T01:00:00Z"),
			"taskArn": s(memberTask), "outcome": s("COMPLETED"), "finalizedAt": s("2026-12-03T01:05:00Z")},
		{"pk": s("case#gd-open"), "caseId": s("gd-open"), "executionId": s("exec-2"), "startedAt": s("2026-12-03T02:00:00Z"),
			"taskArn": s(homeTask), "dryRun": &ddbtypes.AttributeValueMemberBOOL{Value: true}},
		{"pk": s("task#" + homeTask), "caseId": s("gd-open"), "executionId": s("exec-2"), "taskArn": s(homeTask),
			"expiresAt": &ddbtypes.AttributeValueMemberN{Value: future}},
		{"pk": s("case#gd-ended"), "caseId": s("gd-ended"), "executionId": s("exec-0"), "startedAt": s("2026-12-02T23:00:00Z"), "taskArn": s(homeTask)},
		{"pk": s("ledger#gd-member"), "caseId": s("gd-member")},
	}
	for _, it := range items {
		if _, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	stack := opsStack(t, ep, map[string]string{ops.OutputIncidentsTable: table})
	common := []string{"--endpoint-url", ep, "--region", "us-east-1"}

	code, out, errOut := runCLI(append([]string{"cases", "--stack", stack}, common...)...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != exitOK || len(lines) != 5 || !strings.HasPrefix(lines[0], "CASE") {
		t.Fatalf("text: exit %d\n%s\n%s", code, out, errOut)
	}
	for i, want := range [][]string{
		{"gd-open", "OPEN", "- [dry run]", home, "us-east-1", "batch/fedcba9876543210fedcba9876543210", "2026-12-03T02:00:00Z"},
		{"gd-member", "FINALIZED", "COMPLETED", member, "eu-west-1", "payments/0123456789abcdef0123456789abcdef"},
		{"gd-ended", "ENDED", "-", home},
	} {
		for _, w := range want {
			if !strings.Contains(lines[i+1], w) {
				t.Errorf("line %d %q lacks %q", i+1, lines[i+1], w)
			}
		}
	}
	t.Logf("irflow cases:\n%s", out)

	code, out, _ = runCLI(append([]string{"cases", "--table", table, "--format", "json"}, common...)...)
	var doc struct{ Cases []ops.Case }
	if err := json.Unmarshal([]byte(out), &doc); code != exitOK || err != nil || len(doc.Cases) != 3 {
		t.Fatalf("json: exit %d %v\n%s", code, err, out)
	}
	if c := doc.Cases[1]; c.CaseID != "gd-member" || c.TargetAccount != member || c.Region != "eu-west-1" || c.Outcome != "COMPLETED" ||
		c.Status != ops.CaseFinalized || c.TaskArn != memberTask {
		t.Errorf("member case %+v", c)
	}
	if code, _, errOut := runCLI("cases", "extra"); code != exitUsage || !strings.Contains(errOut, "unexpected argument") {
		t.Errorf("extra argument: exit %d %s", code, errOut)
	}
}

// TestCaseTarget: irflow audit names the target's account and region from
// resolve-target's result record.
func TestCaseTarget(t *testing.T) {
	recs := []audit.Record{
		{Action: "resolve-target", Event: "result", Detail: `{"outputs":{"incident":{"account":"222233334444","region":"eu-west-1","caseId":"c"}}}`},
		{Action: "stop-task", Event: "result", Detail: `{"outputs":{}}`},
	}
	if got := caseTarget(recs); got == nil || *got != (Target{Account: "222233334444", Region: "eu-west-1"}) {
		t.Errorf("target %+v", got)
	}
	if caseTarget(recs[1:]) != nil {
		t.Error("a target without resolve-target's record")
	}
}
