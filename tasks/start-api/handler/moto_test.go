package handler

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/stricttest"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
	resolve "github.com/irflow/irflow/tasks/resolve-target/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

func TestMain(m *testing.M) { stricttest.Main(m) }

// TestStartThenResolveMoto: the start API starts a state machine in moto's
// Step Functions with an input sealed by moto's KMS HMAC key; resolve-target,
// given that execution's input, name and start time, verifies the seal
// and takes the caller for a verified requester. The same input on
// another execution name does not verify.
func TestStartThenResolveMoto(t *testing.T) {
	w := mototest.Seed(t)
	ctx := context.Background()
	c := sfn.NewFromConfig(w.Cfg)
	name := mototest.Unique("irflow-crypto-mining")
	sm, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(name),
		Definition: aws.String(`{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`),
		RoleArn:    aws.String("arn:aws:iam::" + w.Account + ":role/irflow-states")})
	if err != nil {
		t.Fatal(err)
	}
	smArn := aws.ToString(sm.StateMachineArn)
	env := w.Env
	env.StateMachinePrefix = strings.TrimSuffix(smArn, strings.TrimPrefix(name, "irflow-"))
	h := New(w.Cfg, env)
	h.Log = taskrt.NewLogger(io.Discard)
	caller := "arn:aws:sts::" + w.Account + ":assumed-role/Responder/alice"
	caseID := mototest.Unique("case-start")
	status, body := h.Start(ctx, caller, Request{Playbook: strings.TrimPrefix(name, "irflow-"), TaskArn: w.FargateTaskArn,
		Reason: "miner in flow logs", CaseID: caseID})
	if status != http.StatusOK {
		t.Fatalf("start: %d %s", status, body)
	}
	var res Response
	_ = json.Unmarshal(body, &res)
	d, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(res.ExecutionArn)})
	if err != nil {
		t.Fatal(err)
	}
	if status, body := h.Start(ctx, caller, Request{Playbook: strings.TrimPrefix(name, "irflow-"), TaskArn: w.FargateTaskArn,
		Reason: "again", CaseID: caseID}); status != http.StatusConflict {
		t.Errorf("the same case again: %d %s", status, body)
	}

	resolveFor := func(execName string) (*contract.Result, error) {
		execID := strings.Replace(smArn, ":stateMachine:", ":execution:", 1) + ":" + execName
		p, _ := json.Marshal(map[string]any{"action": "resolve-target", "step": "", "with": map[string]any{},
			"input":     json.RawMessage(aws.ToString(d.Input)),
			"execution": map[string]any{"Id": execID, "Name": execName, "StartTime": aws.ToTime(d.StartDate).UTC().Format(time.RFC3339Nano)}})
		return mototest.Run(t, w, "resolve-target", resolve.New(w.Cfg, w.Env), p)
	}
	got, err := resolveFor(caseID)
	if err != nil {
		t.Fatalf("resolve-target: %v", err)
	}
	raw, _ := json.Marshal(got.Outputs["incident"])
	var inc incident.Incident
	_ = json.Unmarshal(raw, &inc)
	if inc.Requester == nil || !inc.Requester.Verified || inc.Requester.ID != caller || inc.Requester.Via != incident.ViaStartAPI {
		t.Errorf("requester %+v; want alice, verified through the start API", inc.Requester)
	}
	if _, err := resolveFor(mototest.Unique("other-name")); contract.ErrorName(err) != contract.ErrInvalidInput || !strings.Contains(err.Error(), "irflowStart.mac") {
		t.Errorf("the envelope on another execution: %v", err)
	}
}
