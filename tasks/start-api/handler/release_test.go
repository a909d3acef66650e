package handler

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/mac"
)

// TestStartRelease: playbook "release" starts <prefix>release with
// incident.ReleaseInput (the case, the steps, the dry run, the caller as
// requestedBy), named after the case and the time, sealed for exactly that
// state machine and execution; a task ARN, a missing case id or a bad step
// id are refused naming the field, and a playbook may not take steps.
func TestStartRelease(t *testing.T) {
	h, f, key := newTest()
	resp, _ := h.HandleURL(context.Background(), request("POST", "/start",
		`{"playbook":"release","caseId":"case-1","steps":["isolate","revoke"],"dryRun":true,"reason":"pen test"}`, alice))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, resp.Body)
	}
	in := f.starts[0]
	name := incident.ReleaseExecutionName("case-1", t0)
	if aws.ToString(in.StateMachineArn) != prefix+"release" || aws.ToString(in.Name) != name || name != "case-1-release-20261125T120000" {
		t.Errorf("started %s as %s", aws.ToString(in.StateMachineArn), aws.ToString(in.Name))
	}
	raw := []byte(aws.ToString(in.Input))
	rin, env, digest, err := incident.ParseReleaseInput(raw)
	if err != nil || rin.CaseID != "case-1" || !rin.DryRun || strings.Join(rin.Steps, ",") != "isolate,revoke" || rin.RequestedBy != alice ||
		rin.Reason != "pen test" || env == nil || env.Caller != alice {
		t.Fatalf("input %s: %+v %v", raw, rin, err)
	}
	if ok, err := key.Verify(context.Background(), env.MAC, mac.PurposeStart, incident.StartMACFields(prefix+"release", name, env, digest)...); err != nil || !ok {
		t.Errorf("the seal does not verify: %v", err)
	}
	var res Response
	_ = json.Unmarshal([]byte(resp.Body), &res)
	if res.CaseID != "case-1" || res.RequestedBy != alice || !strings.HasSuffix(res.ExecutionArn, ":"+name) {
		t.Errorf("answer %+v", res)
	}
	for _, tt := range []struct{ body, field string }{
		{`{"playbook":"release","caseId":"case-1","taskArn":"` + task + `"}`, "taskArn"},
		{`{"playbook":"release"}`, "caseId"},
		{`{"playbook":"release","caseId":"case-1","steps":["Isolate"]}`, "steps[0]"},
		{`{"playbook":"crypto-mining","taskArn":"` + task + `","reason":"r","steps":["isolate"]}`, "steps"},
	} {
		h, f, _ := newTest()
		resp, _ := h.HandleURL(context.Background(), request("POST", "/start", tt.body, alice))
		var e ErrorResponse
		_ = json.Unmarshal([]byte(resp.Body), &e)
		if resp.StatusCode != http.StatusBadRequest || e.Code != CodeInvalidInput || e.Field != tt.field || len(f.starts) != 0 {
			t.Errorf("%s: %d %+v, %d started", tt.body, resp.StatusCode, e, len(f.starts))
		}
	}
}
