package contract_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"testing"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/taskrt"
)

// fakeWorld is a mototest world that was never seeded: its Payload builds
// the payloads the generated state machine sends, without moto.
func fakeWorld() *mototest.World {
	return &mototest.World{
		Account: "123456789012", VpcID: "vpc-0a1b2c3d", SubnetID: "subnet-0a1b2c3d", AppSG: "sg-0a1b2c3d",
		ClusterName: "payments", ClusterArn: "arn:aws:ecs:us-east-1:123456789012:cluster/payments",
		InstanceID: "i-0a1b2c3d4e5f60718", InstanceENI: "eni-0a1b2c3d4e5f60718", VolumeIDs: []string{"vol-0a1b2c3d4e5f60718"},
		ContainerInstanceArn: "arn:aws:ecs:us-east-1:123456789012:container-instance/payments/5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b",
		ASGName:              "ecs-asg", ServiceName: "payments-api",
		FargateTaskArn: "arn:aws:ecs:us-east-1:123456789012:task/payments/0f8e7d6c5b4a39281706f5e4d3c2b1a0", FargateENI: "eni-0f8e7d6c5b4a39281",
		EC2TaskArn:     "arn:aws:ecs:us-east-1:123456789012:task/payments/1a2b3c4d5e6f708192a3b4c5d6e7f801",
		FargateTaskDef: "arn:aws:ecs:us-east-1:123456789012:task-definition/payments-api:42", EC2Def: "arn:aws:ecs:us-east-1:123456789012:task-definition/report-worker:7",
		TaskRoleName: "payments-task", TaskRoleArn: "arn:aws:iam::123456789012:role/payments-task", LogGroup: "/ecs/payments",
	}
}

// payloadSeeds are payloads of every shape the generator emits: an action
// on each launch type, async start and check, an approval request and
// timeout, resolve-target's raw input, the failure path's notify, and
// finalize-case with steps, errors and an outcome.
func payloadSeeds() [][]byte {
	w := fakeWorld()
	prev := map[string]any{"status": "OK", "summary": "started", "evidence": []any{}, "outputs": map[string]any{"done": false, "commandId": "c-1"}}
	seeds := [][]byte{
		w.Payload("stop-task", "stop", "FARGATE", "gd-b2c6a1f0e4d94a1f8c7e5d3b2a190817", false, map[string]any{"reason": "contained by irflow"}, nil),
		w.Payload("isolate-network", "isolate", "EC2", "case-1", true, map[string]any{"allowSsm": true}, nil),
		w.Payload("capture-memory", "memory", "EC2", "case-1", false, nil, map[string]any{"mode": "start", "timeoutSeconds": 3600}),
		w.Payload("capture-memory", "memory", "EC2", "case-1", false, nil, map[string]any{"mode": "check", "timeoutSeconds": 3600, "previous": prev}),
		w.Payload("request-approval", "approve-containment", "FARGATE", "case-1", false,
			map[string]any{"prompt": "Isolate?", "approvers": []string{"arn:aws:iam::123456789012:role/IncidentCommander"}, "timeoutSeconds": 1800, "onTimeout": "reject", "allowSelfApproval": false},
			map[string]any{"mode": "request", "taskToken": "AQCEAAAAKgAAAAMAAAAAAAAAAeXmPlE"}),
		w.Payload("request-approval", "approve-containment", "EC2", "case-1", false, map[string]any{"onTimeout": "approve"}, map[string]any{"mode": "timeout"}),
		w.Payload("finalize-case", "", "EC2", "case-1", false, nil, map[string]any{
			"outcome": "FAILED", "steps": map[string]any{"stop": prev},
			"errors":  map[string]any{"memory": map[string]any{"Error": "PreconditionFailedError", "Cause": "{\"errorMessage\":\"no agent\"}"}},
			"failure": map[string]any{"step": "stop", "action": "stop-task", "summary": "failed"}}),
	}
	seeds = append(seeds,
		[]byte(`{"action":"resolve-target","step":"","with":{"lockTtlMinutes":1440},"input":{"taskArn":"arn:aws:ecs:us-east-1:123456789012:task/payments/0f8e7d6c5b4a39281706f5e4d3c2b1a0","reason":"r","requestedBy":"a@b.c"},"execution":{"Id":"arn:aws:states:us-east-1:123456789012:execution:irflow-x:1","Name":"1","StartTime":"2026-11-20T14:02:11.123Z"}}`),
		[]byte(`{"action":"notify","step":"","with":{"event":"resolve-failed"},"input":{"taskArn":7},"error":{"Error":"TargetNotFoundError","Cause":"gone"},"execution":{"Id":"e"}}`),
		[]byte(`{"action":"stop-task","step":"stop","with":{},"execution":{"Id":"e"}}`),
		[]byte(`{"action":"x","step":"BAD","with":[],"execution":{}}`),
		[]byte(`null`), []byte(`[]`), []byte(`{"action":"stop-task","step":"stop","with":{},"execution":{"Id":"e"},"incident":{"caseId":"\u0000"},"target":{}}`),
	)
	return seeds
}

// FuzzDecodePayload: DecodePayload never panics; every rejection is an
// InvalidInputError that names a field; an accepted payload has an action
// and an execution id, its with: decodes or is rejected by field, and the
// task runtime runs it through a handler without panicking.
func FuzzDecodePayload(f *testing.F) {
	for _, s := range payloadSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := contract.DecodePayload(raw)
		if err != nil {
			var ii *contract.InvalidInputError
			if !errors.As(err, &ii) || ii.Field == "" || ii.Reason == "" {
				t.Fatalf("rejection without a field: %T %v", err, err)
			}
			return
		}
		if p.Action == "" || p.Execution.ID == "" {
			t.Fatalf("accepted a payload without action or execution id: %s", raw)
		}
		_ = p.CaseID()
		_ = p.Folder()
		_ = p.DryRun()
		var with struct {
			Reason   string `json:"reason"`
			AllowSsm *bool  `json:"allowSsm"`
		}
		if err := p.DecodeWith(&with); err != nil {
			var ii *contract.InvalidInputError
			if !errors.As(err, &ii) || ii.Field == "" {
				t.Fatalf("with: rejection without a field: %v", err)
			}
		}
		rt := &taskrt.Runtime{Action: p.Action, Log: taskrt.NewLogger(io.Discard),
			Handle: func(context.Context, *contract.Payload) (*contract.Result, error) { return contract.OK("fuzz"), nil }}
		out, err := rt.Invoke(context.Background(), raw)
		if err != nil {
			t.Fatalf("the runtime refused a payload DecodePayload accepted: %v", err)
		}
		if !json.Valid(out) {
			t.Fatalf("the runtime returned invalid JSON %q", out)
		}
	})
}

// TestPayloadSeedsDecode: the generator-shaped seeds are valid payloads
// (the negative ones aside), so the fuzzer starts from the real shapes.
func TestPayloadSeedsDecode(t *testing.T) {
	seeds := payloadSeeds()
	for i, s := range seeds[:9] {
		if _, err := contract.DecodePayload(s); err != nil {
			t.Errorf("seed %d rejected: %v\n%s", i, err, s)
		}
	}
}
