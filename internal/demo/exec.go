package demo

import (
	"context"
	"fmt"
	"os"

	"github.com/irflow/irflow/internal/strict"
	"github.com/irflow/irflow/tasks/ecsexec/fakeagent"
	"github.com/irflow/irflow/tasks/ecsexec/triage/triagetest"
)

// execBackend is the bench's ECS Exec, the strict layer's ExecBackend from
// the moment it starts: every session the layer accepts (a running task
// started with enableExecuteCommand, as in the fargate-exec world; the
// layer refuses the others itself) runs in one fake compromised container
// through one fake SSM agent on 127.0.0.1. The container
// (tasks/ecsexec/triage/triagetest) is a directory written here: a /proc
// tree with a crypto miner (the example finding's xmrig, pid 47 in the
// container) whose binary was deleted from /tmp after it started, its pool
// connection and DNS socket, an application behind a load balancer and a
// dropper script. Its sessions run irflow's real collector in a real pty
// with one change, the test seam: the collector's root word "-" ("/") is
// rewritten to that directory. The agent skips the handshake, as ECS Exec
// does without a KMS key.
type execBackend struct {
	dir   string
	agent *fakeagent.Agent
}

func newExecBackend() (*execBackend, error) {
	dir, err := os.MkdirTemp("", "irflow-bench-container-")
	if err != nil {
		return nil, err
	}
	root, err := triagetest.Write(dir, triagetest.Options{Image: triagetest.Debian})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("the bench's fake container: %w", err)
	}
	return &execBackend{dir: dir, agent: root.Agent(fakeagent.SkipHandshake)}, nil
}

// Open implements strict.ExecBackend.
func (b *execBackend) Open(_ context.Context, req strict.ExecRequest) (strict.ExecSession, error) {
	s, err := b.agent.NewSession(req.Command)
	if err != nil {
		return strict.ExecSession{}, err
	}
	return strict.ExecSession{SessionID: s.SessionID, StreamURL: s.StreamURL, TokenValue: s.Token}, nil
}

// Close stops the agent and removes the container.
func (b *execBackend) Close() {
	b.agent.Close()
	os.RemoveAll(b.dir)
}
