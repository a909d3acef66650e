package handler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/finalize-case/report"
	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/mac/mactest"
	"github.com/irflow/irflow/tasks/taskrt"
)

type fakeChain struct {
	read     func(caseID string) ([]audit.Record, error)
	appended []audit.Record
}

var _ chain = (*fakeChain)(nil)

func (f *fakeChain) Read(_ context.Context, caseID string) ([]audit.Record, error) {
	return f.read(caseID)
}

// Append chains r after the records read plus those appended, as Chain does.
func (f *fakeChain) Append(_ context.Context, r audit.Record) (audit.Record, error) {
	rs, _ := f.read(r.CaseID)
	rs = append(rs, f.appended...)
	r.Seq, r.PrevHash = int64(len(rs)+1), audit.GenesisHash
	if len(rs) > 0 {
		r.PrevHash = rs[len(rs)-1].Hash
	}
	r.Hash = r.ComputeHash()
	f.appended = append(f.appended, r)
	return r, nil
}

type fakeEvidence struct {
	objects map[string][]byte
}

var _ evidenceWriter = (*fakeEvidence)(nil)

func (f *fakeEvidence) Put(_ context.Context, caseID, folder, name, _ string, body []byte) (contract.Evidence, error) {
	key, err := taskrt.Key(caseID, folder, name)
	if err != nil {
		return contract.Evidence{}, err
	}
	if f.objects == nil {
		f.objects = map[string][]byte{}
	}
	f.objects[key] = body
	sum := sha256.Sum256(body)
	return contract.Evidence{URI: "s3://evidence/" + key, SHA256: hex.EncodeToString(sum[:]), Bytes: int64(len(body))}, nil
}

type fakeDB struct {
	del  func(*dynamodb.DeleteItemInput) (*dynamodb.DeleteItemOutput, error)
	dels []*dynamodb.DeleteItemInput
	// updates are the outcome records on the case's claim.
	updates []*dynamodb.UpdateItemInput
}

var _ dynamoAPI = (*fakeDB)(nil)

func (f *fakeDB) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	f.updates = append(f.updates, in)
	return &dynamodb.UpdateItemOutput{}, nil
}

func (f *fakeDB) DeleteItem(_ context.Context, in *dynamodb.DeleteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	f.dels = append(f.dels, in)
	if f.del == nil {
		return &dynamodb.DeleteItemOutput{}, nil
	}
	return f.del(in)
}

const execID = "arn:aws:states:us-east-1:123456789012:execution:irflow-crypto-mining:case-7"

func records() []audit.Record {
	rs := []audit.Record{{Action: "resolve-target", Event: "start"}, {Action: "finalize-case", Event: "start"}}
	prev := audit.GenesisHash
	for i := range rs {
		rs[i].CaseID, rs[i].ExecutionID, rs[i].Seq, rs[i].PrevHash = "case-7", execID, int64(i+1), prev
		rs[i].Hash = rs[i].ComputeHash()
		prev = rs[i].Hash
	}
	return rs
}

func finalPayload(dryRun bool) *contract.Payload {
	step, _ := json.Marshal(map[string]any{"status": "OK", "summary": "stored", "outputs": map[string]any{},
		"evidence": []contract.Evidence{{URI: "s3://evidence/cases/case-7/metadata/task.json", SHA256: strings.Repeat("a", 64), Bytes: 10}}})
	return &contract.Payload{Action: "finalize-case", Step: "", Outcome: "COMPLETED",
		Incident:  &incident.Incident{CaseID: "case-7", TaskArn: "arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef", DryRun: dryRun},
		Target:    &incident.Target{LaunchType: "EC2"},
		Execution: contract.Execution{ID: execID},
		Steps:     map[string]json.RawMessage{"metadata": step},
		Errors:    map[string]contract.StateError{},
	}
}

func newHandler(db *fakeDB, ev *fakeEvidence, rs []audit.Record) *Handler {
	key, _ := mactest.Key("arn:aws:kms:us-east-1:123456789012:key/hmac")
	return &Handler{Chain: &fakeChain{read: func(string) ([]audit.Record, error) { return rs, nil }}, Evidence: ev, DB: db, MAC: key,
		IncidentsTable: "incidents", Now: func() time.Time { return time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC) }}
}

func TestFinalize(t *testing.T) {
	for _, dry := range []bool{false, true} {
		db, ev := &fakeDB{}, &fakeEvidence{}
		res, err := newHandler(db, ev, records()).Handle(context.Background(), finalPayload(dry))
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"report.json", "report.md", "manifest.json"} {
			if _, ok := ev.objects["cases/case-7/finalize-case/"+k]; !ok {
				t.Errorf("no %s", k)
			}
		}
		if len(res.Evidence) != 3 || res.Outputs["chainVerified"] != true || res.Outputs["artifacts"] != 1 || res.Outputs["lockReleased"] != true ||
			res.Outputs["outcome"] != "COMPLETED" || !strings.HasSuffix(res.Outputs["manifest"].(string), "/finalize-case/manifest.json") {
			t.Errorf("result %+v", res)
		}
		// The outcome on the case's claim, only if this execution holds it.
		if len(db.updates) != 1 || aws.ToString(db.updates[0].ConditionExpression) != "executionId = :me" ||
			db.updates[0].ExpressionAttributeValues[":o"].(*ddbtypes.AttributeValueMemberS).Value != "COMPLETED" ||
			db.updates[0].Key["pk"].(*ddbtypes.AttributeValueMemberS).Value != "case#case-7" {
			t.Errorf("claim updates %+v", db.updates)
		}
		md := string(ev.objects["cases/case-7/finalize-case/report.md"])
		if dry != strings.Contains(md, "DRY RUN") || dry != strings.HasPrefix(res.Summary, "DRY RUN") {
			t.Errorf("dry run %v, but report says:\n%s\nsummary %s", dry, md, res.Summary)
		}
		var man report.Manifest
		if err := json.Unmarshal(ev.objects["cases/case-7/finalize-case/manifest.json"], &man); err != nil {
			t.Fatal(err)
		}
		if len(man.Objects) != 3 || man.Objects[1].URI != res.Evidence[0].URI || man.Objects[2].SHA256 != res.Evidence[1].SHA256 {
			t.Errorf("manifest %+v", man.Objects)
		}
		// The manifest anchors the chain at the case-finalized record.
		a := man.Audit
		if a == nil || a.Records != 3 || a.ExecutionID != execID || a.MAC == "" || a.FollowedBy != audit.FollowedByFinalizeResult {
			t.Fatalf("manifest anchor %+v; want 3 records of %s, signed", a, execID)
		}
		d := db.dels[0]
		if *d.ConditionExpression != "executionId = :me" || d.ExpressionAttributeValues[":me"].(*ddbtypes.AttributeValueMemberS).Value != execID ||
			d.Key["pk"].(*ddbtypes.AttributeValueMemberS).Value != "task#"+finalPayload(dry).Incident.TaskArn {
			t.Errorf("delete %+v", d)
		}
	}
}

func TestFinalizeLockNotOurs(t *testing.T) {
	db := &fakeDB{del: func(*dynamodb.DeleteItemInput) (*dynamodb.DeleteItemOutput, error) {
		return nil, &ddbtypes.ConditionalCheckFailedException{}
	}}
	res, err := newHandler(db, &fakeEvidence{}, records()).Handle(context.Background(), finalPayload(false))
	if err != nil || res.Outputs["lockReleased"] != false {
		t.Errorf("res %+v err %v", res, err)
	}
}

func TestFinalizeBrokenChain(t *testing.T) {
	rs := records()
	rs[0].Summary = "edited"
	ev := &fakeEvidence{}
	res, err := newHandler(&fakeDB{}, ev, rs).Handle(context.Background(), finalPayload(false))
	if err != nil {
		t.Fatal(err)
	}
	if res.Outputs["chainVerified"] != false || !strings.Contains(res.Summary, "NOT verified: record 1") ||
		!strings.Contains(string(ev.objects["cases/case-7/finalize-case/report.md"]), "NOT VERIFIED: record 1") {
		t.Errorf("summary %s", res.Summary)
	}
}

func TestFinalizeErrors(t *testing.T) {
	p := finalPayload(false)
	p.Incident = nil
	var ii *contract.InvalidInputError
	if _, err := newHandler(&fakeDB{}, &fakeEvidence{}, nil).Handle(context.Background(), p); !errors.As(err, &ii) {
		t.Errorf("no incident: %v", err)
	}
	h := newHandler(&fakeDB{}, &fakeEvidence{}, nil)
	h.Chain = &fakeChain{read: func(string) ([]audit.Record, error) {
		return nil, &contract.RetryableError{Op: "q", Err: errors.New("x")}
	}}
	var re *contract.RetryableError
	if _, err := h.Handle(context.Background(), finalPayload(false)); !errors.As(err, &re) {
		t.Errorf("chain read: %v", err)
	}
}
