package demo

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/irflow/irflow/internal/strict"
	"github.com/irflow/irflow/tasks/ecsexec"
	"github.com/irflow/irflow/tasks/ecsexec/triage"
	"github.com/irflow/irflow/tasks/ecsexec/triage/triagetest"
)

// TestExecBackendRunsTheCollector: a session the bench's backend opens runs
// the collector exec-triage sends in the fake container, and what comes
// back analyzes to the miner of the example finding, without any root
// option: from the outside it is a container.
func TestExecBackendRunsTheCollector(t *testing.T) {
	b, err := newExecBackend()
	if err != nil {
		t.Skip(err)
	}
	defer b.Close()
	nonce := triage.NewNonce()
	target := triage.Target{PID: triagetest.MinerPID, ExecutablePath: triagetest.MinerPath}
	cmd, err := triage.Command("/bin/sh", nonce, target, triage.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var _ strict.ExecBackend = b
	s, err := b.Open(context.Background(), strict.ExecRequest{TaskArn: "arn:aws:ecs:us-east-1:123456789012:task/c/t", ContainerName: "api", Command: cmd})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	if _, err := ecsexec.Run(ctx, ecsexec.Session{StreamURL: s.StreamURL, Token: s.TokenValue, SessionID: s.SessionID}, nil, &out, ecsexec.Limits{}); err != nil {
		t.Fatal(err)
	}
	rep, _, err := triage.Analyze(out.Bytes(), nonce, target, triage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Complete || len(rep.TargetPIDs) != 1 || len(rep.Binaries) != 1 || rep.Binaries[0].SHA256 != triagetest.MinerSHA256 {
		t.Errorf("report %+v; want the miner found and its deleted binary copied", rep)
	}
}
