package handler

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/stricttest"
	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/finalize-case/report"
	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/taskrt"
)

func TestMain(m *testing.M) { stricttest.Main(m) }

// TestFinalizeMoto finalizes a case twice (a retry): the report, its
// Markdown and the manifest are in the bucket with the evidence of the
// case's steps, the lock this execution holds is gone, another's stays,
// and the chain verifies with the finalize result as its last record.
func TestFinalizeMoto(t *testing.T) {
	w := mototest.Seed(t)
	ctx := context.Background()
	for _, dry := range []bool{false, true} {
		caseID := mototest.Unique("case")
		execID := "arn:aws:states:us-east-1:" + w.Account + ":execution:irflow-test:" + caseID
		chain := taskrt.NewChain(w.Cfg, w.Env)
		ev, err := taskrt.NewEvidenceWriter(w.Cfg, w.Env).Put(ctx, caseID, "metadata", "task.json", "application/json", []byte(`{"task":1}`))
		if err != nil {
			t.Fatal(err)
		}
		detail, _ := json.Marshal(map[string]any{"evidence": []contract.Evidence{ev}, "outputs": map[string]any{}})
		for _, r := range []audit.Record{
			{CaseID: caseID, ExecutionID: execID, Step: "metadata", Action: "capture-task-metadata", Event: "start"},
			{CaseID: caseID, ExecutionID: execID, Step: "metadata", Action: "capture-task-metadata", Event: "result", Status: "OK", Detail: string(detail)},
			{CaseID: caseID, ExecutionID: execID, Step: "approve", Action: "approval-api", Event: "approval-decided", Status: "APPROVED",
				Detail: `{"approvalId":"apr-00000000000000000000","approver":"arn:aws:sts::123456789012:assumed-role/IC/alice","decision":"approve","reason":"ok","decidedAt":"2026-11-25T12:00:00Z"}`},
		} {
			if _, err := chain.Append(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		db := dynamodb.NewFromConfig(w.Cfg)
		lock := func(taskArn, exec string) {
			if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(w.Env.IncidentsTable), Item: map[string]ddbtypes.AttributeValue{
				"pk": &ddbtypes.AttributeValueMemberS{Value: incident.TaskLockKey(taskArn)}, "executionId": &ddbtypes.AttributeValueMemberS{Value: exec},
				"caseId": &ddbtypes.AttributeValueMemberS{Value: caseID}}}); err != nil {
				t.Fatal(err)
			}
		}
		lock(w.FargateTaskArn, execID)
		lock(w.EC2TaskArn, "arn:aws:states:us-east-1:"+w.Account+":execution:irflow-test:someone-else")

		rt := &taskrt.Runtime{Action: "finalize-case", Handle: New(w.Cfg, w.Env), Audit: chain, Log: taskrt.NewLogger(io.Discard)}
		var res contract.Result
		for i := 0; i < 2; i++ {
			raw := w.Payload("finalize-case", "", "FARGATE", caseID, dry, nil, map[string]any{
				"outcome": "COMPLETED", "errors": map[string]any{},
				"steps": map[string]any{"metadata": map[string]any{"status": "OK", "summary": "s", "evidence": []contract.Evidence{ev}, "outputs": map[string]any{}}}})
			out, err := rt.Invoke(ctx, raw)
			if err != nil {
				t.Fatalf("run %d: %v", i+1, err)
			}
			if err := json.Unmarshal(out, &res); err != nil {
				t.Fatal(err)
			}
		}
		if res.Outputs["chainVerified"] != true || res.Outputs["artifacts"] != float64(1) || len(res.Evidence) != 3 {
			t.Errorf("result %+v", res)
		}
		s3c := taskrt.NewS3(w.Cfg)
		get := func(name string) []byte {
			o, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(w.Env.EvidenceBucket), Key: aws.String("cases/" + caseID + "/finalize-case/" + name)})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			defer o.Body.Close()
			b, _ := io.ReadAll(o.Body)
			return b
		}
		var rep report.Report
		if err := json.Unmarshal(get("report.json"), &rep); err != nil {
			t.Fatal(err)
		}
		if rep.Outcome != "COMPLETED" || rep.DryRun != dry || len(rep.Artifacts) != 1 || rep.Artifacts[0].SHA256 != ev.SHA256 ||
			len(rep.Approvals) != 1 || rep.Approvals[0].Approver != "arn:aws:sts::123456789012:assumed-role/IC/alice" || !rep.Chain.Verified {
			t.Errorf("report %+v", rep)
		}
		if md := string(get("report.md")); dry != strings.Contains(md, "DRY RUN") || !strings.Contains(md, ev.URI) {
			t.Errorf("report.md (dry run %v):\n%s", dry, md)
		}
		var man report.Manifest
		if err := json.Unmarshal(get("manifest.json"), &man); err != nil || len(man.Objects) != 3 {
			t.Errorf("manifest %+v %v", man, err)
		}
		for arn, want := range map[string]bool{w.FargateTaskArn: false, w.EC2TaskArn: true} {
			o, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(w.Env.IncidentsTable), ConsistentRead: aws.Bool(true),
				Key: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: incident.TaskLockKey(arn)}}})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(o.Item) > 0; got != want {
				t.Errorf("lock on %s present %v; want %v", arn, got, want)
			}
		}
		rs, err := chain.Read(ctx, caseID)
		if err != nil {
			t.Fatal(err)
		}
		if err := audit.Verify(rs); err != nil {
			t.Fatal(err)
		}
		if last := rs[len(rs)-1]; last.Action != "finalize-case" || last.Event != "result" || !strings.Contains(last.Detail, "manifest.json") {
			t.Errorf("last record %+v", last)
		}
		// The manifest (of the retry) anchors the chain at its
		// case-finalized record, signed with moto's HMAC key; every record
		// carries a MAC that KMS verifies.
		st, err := audit.VerifyCase(ctx, caseID, rs, audit.Anchors{Case: man.Audit}, taskrt.NewMACKey(w.Cfg, w.Env))
		if err != nil || !st.Verified || !st.Anchored || st.AfterAnchor != 1 || rs[man.Audit.Records-1].Event != EventFinalized {
			t.Errorf("verification %+v, %v; want anchored at the last case-finalized record, one record after it", st, err)
		}
		// Clean the other lock so the next round starts alike.
		_, _ = db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(w.Env.IncidentsTable),
			Key: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: incident.TaskLockKey(w.EC2TaskArn)}}})
	}
}

// TestFinalizeReleasesCorrelation: the case that took its service's
// correlation item (triggers.correlate) gives it back when it ends, so
// the next finding on the service opens a new case; an item another
// execution holds stays. Run twice (a retry): the second finds nothing to
// release and succeeds.
func TestFinalizeReleasesCorrelation(t *testing.T) {
	w := mototest.Seed(t)
	ctx := context.Background()
	db := dynamodb.NewFromConfig(w.Cfg)
	caseID := mototest.Unique("case-corr")
	execID := "arn:aws:states:us-east-1:" + w.Account + ":execution:irflow-test:" + caseID
	target := w.Target("FARGATE")
	mine := incident.CorrelationKey(target.ClusterArn, target.Service)
	other := incident.CorrelationKey(target.ClusterArn, "another-service")
	put := func(pk, exec string) {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(w.Env.IncidentsTable), Item: map[string]ddbtypes.AttributeValue{
			"pk": &ddbtypes.AttributeValueMemberS{Value: pk}, "executionId": &ddbtypes.AttributeValueMemberS{Value: exec},
			"caseId": &ddbtypes.AttributeValueMemberS{Value: caseID}}}); err != nil {
			t.Fatal(err)
		}
	}
	put(mine, execID)
	put(other, execID+"-other")
	rt := &taskrt.Runtime{Action: "finalize-case", Handle: New(w.Cfg, w.Env), Audit: taskrt.NewChain(w.Cfg, w.Env), Log: taskrt.NewLogger(io.Discard)}
	for run, want := range []bool{true, false} {
		raw := w.Payload("finalize-case", "", "FARGATE", caseID, false, nil, map[string]any{"outcome": "COMPLETED", "errors": map[string]any{}, "steps": map[string]any{}})
		out, err := rt.Invoke(ctx, raw)
		if err != nil {
			t.Fatalf("run %d: %v", run+1, err)
		}
		var res contract.Result
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatal(err)
		}
		if res.Outputs["correlationReleased"] != want {
			t.Errorf("run %d: correlationReleased %v; want %v", run+1, res.Outputs["correlationReleased"], want)
		}
	}
	for pk, want := range map[string]bool{mine: false, other: true} {
		o, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(w.Env.IncidentsTable), ConsistentRead: aws.Bool(true),
			Key: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: pk}}})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(o.Item) > 0; got != want {
			t.Errorf("%s present %v; want %v", pk, got, want)
		}
	}
}
