package strict

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"

	"github.com/irflow/irflow/internal/mototest"
)

const detector = "12abc34d567e8fa901bc2d34e56789f0"

func finding(id, account, region string) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"schemaVersion":"2.0","accountId":%q,"region":%q,"id":%q,`+
		`"arn":"arn:aws:guardduty:%s:%s:detector/%s/finding/%s","type":"Execution:Runtime/NewBinaryExecuted",`+
		`"severity":8,"title":"t","description":"d","createdAt":"2026-12-01T10:00:00.000Z","updatedAt":"2026-12-01T10:00:00.000Z",`+
		`"resource":{"resourceType":"ECSCluster"},"service":{"serviceName":"guardduty","count":1}}`, account, region, id, region, account, detector, id))
}

// TestGuardDutyStore: findings posted to the control API come back from the
// real GuardDuty client, per account and region, unknown IDs left out; an
// unknown detector, too many IDs and unserved operations are GuardDuty's
// BadRequestException, recorded.
func TestGuardDutyStore(t *testing.T) {
	f := newFakeMoto(t)
	l, url := serve(t, f.srv.URL, Config{})
	cl := NewClient(url)
	if err := cl.PutFindings(ctx, finding("f1", "123456789012", "us-east-1"), finding("f2", "123456789012", "us-east-1"),
		finding("f3", "210987654321", "us-east-1"), finding("f4", "123456789012", "eu-west-1")); err != nil {
		t.Fatal(err)
	}
	if err := cl.PutFindings(ctx, json.RawMessage(`{"id":"x"}`)); err == nil {
		t.Error("a finding without an arn naming its detector was stored")
	}
	gd := guardduty.NewFromConfig(sdk(url))
	dets, err := gd.ListDetectors(ctx, &guardduty.ListDetectorsInput{})
	if err != nil || len(dets.DetectorIds) != 1 || dets.DetectorIds[0] != detector {
		t.Fatalf("ListDetectors = %v, %v; want [%s]", dets, err, detector)
	}
	out, err := gd.GetFindings(ctx, &guardduty.GetFindingsInput{DetectorId: aws.String(detector), FindingIds: []string{"f2", "nope", "f1", "f3", "f4"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, fd := range out.Findings {
		got = append(got, aws.ToString(fd.Id))
	}
	if fmt.Sprint(got) != "[f2 f1]" {
		t.Errorf("findings %v; want [f2 f1] (this account and region, in the order asked, unknown IDs left out)", got)
	}
	if len(out.Findings) > 0 && (aws.ToString(out.Findings[0].Type) != "Execution:Runtime/NewBinaryExecuted" || aws.ToFloat64(out.Findings[0].Severity) != 8) {
		t.Errorf("finding fields lost: %+v", out.Findings[0])
	}

	_, err = gd.GetFindings(ctx, &guardduty.GetFindingsInput{DetectorId: aws.String("0000"), FindingIds: []string{"f1"}})
	wantRefused(t, l, err, http.StatusBadRequest, "BadRequestException", ruleGuardDutyDetector.id)
	many := make([]string, 51)
	for i := range many {
		many[i] = fmt.Sprint("f", i)
	}
	_, err = gd.GetFindings(ctx, &guardduty.GetFindingsInput{DetectorId: aws.String(detector), FindingIds: many})
	wantRefused(t, l, err, http.StatusBadRequest, "BadRequestException", ruleGuardDutyInput.id)
	_, err = gd.ListFindings(ctx, &guardduty.ListFindingsInput{DetectorId: aws.String(detector)})
	wantRefused(t, l, err, http.StatusBadRequest, "BadRequestException", ruleGuardDutyUnserved.id)

	if err := cl.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if dets, _ := gd.ListDetectors(ctx, &guardduty.ListDetectorsInput{}); len(dets.DetectorIds) != 0 {
		t.Errorf("detectors after reset: %v", dets.DetectorIds)
	}
	if f.saw("") != 0 {
		t.Errorf("a GuardDuty request reached moto")
	}
}

// TestMotoGuardDuty: findings of the world's account come back through the
// real client, with moto telling the layer whose account the caller is.
func TestMotoGuardDuty(t *testing.T) {
	w := mototest.Seed(t)
	l, url := serve(t, mototest.Endpoint(t), Config{})
	if err := NewClient(url).PutFindings(ctx, finding("g1", w.Account, "us-east-1")); err != nil {
		t.Fatal(err)
	}
	gd := guardduty.NewFromConfig(sdk(url))
	out, err := gd.GetFindings(ctx, &guardduty.GetFindingsInput{DetectorId: aws.String(detector), FindingIds: []string{"g1", "g2"}})
	if err != nil || len(out.Findings) != 1 || aws.ToString(out.Findings[0].AccountId) != w.Account {
		t.Errorf("GetFindings: %+v %v", out, err)
	}
	_, err = gd.GetFindings(ctx, &guardduty.GetFindingsInput{DetectorId: aws.String("feedfeed"), FindingIds: []string{"g1"}})
	wantRefused(t, l, err, http.StatusBadRequest, "BadRequestException", ruleGuardDutyDetector.id)
}

// TestFindingStorePut: a finding is stored only under the account, region
// and detector it names itself.
func TestFindingStorePut(t *testing.T) {
	tests := []struct {
		name, raw string
		ok        bool
	}{
		{"complete", string(finding("a", "123456789012", "us-east-1")), true},
		{"not an object", `[1]`, false},
		{"no arn", `{"id":"a","accountId":"123456789012","region":"us-east-1"}`, false},
		{"arn without detector", `{"id":"a","accountId":"123456789012","region":"us-east-1","arn":"arn:aws:guardduty:us-east-1:123456789012:finding/a"}`, false},
		{"no account", `{"id":"a","region":"us-east-1","arn":"arn:aws:guardduty:us-east-1:1:detector/d/finding/a"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s findingStore
			if err := s.put(json.RawMessage(tt.raw)); (err == nil) != tt.ok {
				t.Errorf("put: %v; want ok=%v", err, tt.ok)
			}
		})
	}
}

// TestGuardDutyAdministrator: a delegated administrator's detector returns
// its own findings and its members' in its region (GetFindings on the
// administrator's detector), not those of an account it does not
// administer nor of another region; ListDetectors shows its detector
// before it has a finding of its own; the member's detector stays the
// member's.
func TestGuardDutyAdministrator(t *testing.T) {
	f := newFakeMoto(t)
	l, url := serve(t, f.srv.URL, Config{})
	cl := NewClient(url)
	const admin, adminDetector, member, stranger = "123456789012", "ad000000000000000000000000000001", "222233334444", "999988887777"
	if err := cl.PutFindings(ctx, finding("m1", member, "us-east-1"), finding("m2", member, "eu-west-1"), finding("s1", stranger, "us-east-1")); err != nil {
		t.Fatal(err)
	}
	if err := cl.PutAdministrator(ctx, Administrator{Account: admin, Region: "us-east-1", Detector: adminDetector, Members: []string{admin}}); err == nil {
		t.Error("an administrator was its own member")
	}
	if err := cl.PutAdministrator(ctx, Administrator{Account: admin, Region: "us-east-1", Detector: adminDetector, Members: []string{member}}); err != nil {
		t.Fatal(err)
	}
	gd := guardduty.NewFromConfig(sdk(url))
	dets, err := gd.ListDetectors(ctx, &guardduty.ListDetectorsInput{})
	if err != nil || fmt.Sprint(dets.DetectorIds) != "["+adminDetector+"]" {
		t.Fatalf("ListDetectors = %v, %v; want the administrator's detector", dets, err)
	}
	out, err := gd.GetFindings(ctx, &guardduty.GetFindingsInput{DetectorId: aws.String(adminDetector), FindingIds: []string{"m1", "m2", "s1"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Findings) != 1 || aws.ToString(out.Findings[0].Id) != "m1" || aws.ToString(out.Findings[0].AccountId) != member {
		t.Errorf("administrator's findings %+v; want the member's us-east-1 finding only", out.Findings)
	}
	// The member's own detector is not the administrator's to ask.
	_, err = gd.GetFindings(ctx, &guardduty.GetFindingsInput{DetectorId: aws.String(detector), FindingIds: []string{"m1"}})
	wantRefused(t, l, err, http.StatusBadRequest, "BadRequestException", ruleGuardDutyDetector.id)
}
