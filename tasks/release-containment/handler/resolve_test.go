package handler

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/mac"
	"github.com/irflow/irflow/tasks/mac/mactest"
)

// fakeClaims holds case claims by key.
type fakeClaims map[string]map[string]ddbtypes.AttributeValue

func (f fakeClaims) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	k := in.Key[incident.TablePK].(*ddbtypes.AttributeValueMemberS).Value
	return &dynamodb.GetItemOutput{Item: f[k]}, nil
}

// TestResolve: mode resolve loads the case from its claim; an input the
// start API sealed for this execution gives a verified requester, a
// typed-in one only a claimed requester (the gate then needs two more
// approvers); a seal for another execution, an unknown case and a bad
// field are refused naming the field.
func TestResolve(t *testing.T) {
	const (
		alice  = "arn:aws:sts::123456789012:assumed-role/Responder/alice"
		taskA  = "arn:aws:ecs:us-east-1:123456789012:task/c/0f8e7d6c5b4a39281706f5e4d3c2b1a0"
		execID = "arn:aws:states:us-east-1:123456789012:execution:irflow-release:case-1-release-20261125T120000"
	)
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	key, _ := mactest.Key("arn:aws:kms:us-east-1:123456789012:key/hmac")
	h := &Handler{MAC: key, IncidentsTable: "incidents", Claims: fakeClaims{incident.CaseClaimKey("case-1"): {
		"taskArn": &ddbtypes.AttributeValueMemberS{Value: taskA}, "launchType": &ddbtypes.AttributeValueMemberS{Value: "EC2"}}}}
	seal := func(name string, in incident.ReleaseInput) []byte {
		raw, _ := json.Marshal(in)
		digest, _ := incident.StartDigest(raw)
		env := &incident.StartEnvelope{Caller: alice, At: t0.Format(time.RFC3339Nano), KeyID: key.ID}
		env.MAC, _ = key.Sign(context.Background(), mac.PurposeStart, incident.StartMACFields(
			"arn:aws:states:us-east-1:123456789012:stateMachine:irflow-release", name, env, digest)...)
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		m[incident.StartKey] = env
		out, _ := json.Marshal(m)
		return out
	}
	resolve := func(input []byte) (*contract.Result, error) {
		return h.Handle(context.Background(), &contract.Payload{Action: "release-containment", Step: "load-case", Mode: ModeResolve, Input: input,
			Execution: contract.Execution{ID: execID, Name: "case-1-release-20261125T120000", StartTime: t0.Format(time.RFC3339)}})
	}
	sealed := seal("case-1-release-20261125T120000", incident.ReleaseInput{CaseID: "case-1", Steps: []string{"isolate"}, RequestedBy: alice, Reason: "pen test"})
	res, err := resolve(sealed)
	if err != nil {
		t.Fatal(err)
	}
	inc := res.Outputs["incident"].(*incident.Incident)
	if inc.CaseID != "case-1" || inc.TaskArn != taskA || inc.LaunchType != "EC2" || inc.Reason != "pen test" || !inc.RequesterVerified() || inc.RequesterID() != alice {
		t.Errorf("incident %+v requester %+v", inc, inc.Requester)
	}
	if w := res.Outputs["with"].(map[string]any); len(w["steps"].([]string)) != 1 {
		t.Errorf("with %v", w)
	}
	typed, _ := json.Marshal(incident.ReleaseInput{CaseID: "case-1", RequestedBy: alice})
	if res, err := resolve(typed); err != nil || res.Outputs["incident"].(*incident.Incident).RequesterVerified() {
		t.Errorf("typed-in input: %v %+v", err, res)
	}
	for _, tt := range []struct {
		name  string
		input []byte
		field string
	}{
		{"sealed for another execution", seal("case-1-release-20261125T110000", incident.ReleaseInput{CaseID: "case-1", RequestedBy: alice}), incident.StartKey + ".mac"},
		{"unknown case", []byte(`{"caseId":"case-2"}`), "caseId"},
		{"bad step", []byte(`{"caseId":"case-1","steps":["../x"]}`), "steps[0]"},
		{"unknown key", []byte(`{"caseId":"case-1","taskArn":"x"}`), "input"},
	} {
		_, err := resolve(tt.input)
		var ie *contract.InvalidInputError
		if !errors.As(err, &ie) || ie.Field != tt.field {
			t.Errorf("%s: %v; want InvalidInputError on %s", tt.name, err, tt.field)
		}
	}
}
