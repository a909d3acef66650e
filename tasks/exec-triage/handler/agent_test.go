package handler

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/ecsexec"
	"github.com/irflow/irflow/tasks/ecsexec/fakeagent"
	"github.com/irflow/irflow/tasks/ecsexec/triage/triagetest"
)

// viaAgent answers ExecuteCommand with a session of the fake agent, which
// runs the command in its container: the whole path of a real triage, the
// data channel included.
func viaAgent(agent *fakeagent.Agent) func(*ecs.ExecuteCommandInput) (*ecs.ExecuteCommandOutput, error) {
	return func(in *ecs.ExecuteCommandInput) (*ecs.ExecuteCommandOutput, error) {
		s, err := agent.NewSession(aws.ToString(in.Command))
		if err != nil {
			return nil, err
		}
		return &ecs.ExecuteCommandOutput{Session: &ecstypes.Session{SessionId: aws.String(s.SessionID),
			StreamUrl: aws.String(s.StreamURL), TokenValue: aws.String(s.Token)}}, nil
	}
}

// quick keeps hostile sessions short: every mode must end within these.
var quick = ecsexec.Limits{IdleTimeout: 2 * time.Second, HandshakeTimeout: time.Second, GapTimeout: time.Second,
	AckTimeout: time.Second, ResendInterval: 100 * time.Millisecond}

// TestEveryAgentMode runs the handler against every mode of the fake
// agent: the well-behaved ones end OK with the artifacts, the KMS one
// SKIPPED, every hostile one with a named error and nothing stored.
func TestEveryAgentMode(t *testing.T) {
	tests := []struct {
		mode fakeagent.Mode
		// want is the result status, or the error name and the session
		// error's kind.
		want, kind string
		limits     *ecsexec.Limits
	}{
		{fakeagent.Normal, contract.StatusOK, "", nil},
		{fakeagent.SkipHandshake, contract.StatusOK, "", nil},
		{fakeagent.OutOfOrder, contract.StatusOK, "", nil},
		{fakeagent.Duplicate, contract.StatusOK, "", nil},
		{fakeagent.KMSHandshake, contract.StatusSkipped, "", nil},
		{fakeagent.Gap, contract.ErrExecSession, "SequenceError", nil},
		{fakeagent.WideGap, contract.ErrExecSession, "SequenceError", nil},
		{fakeagent.BadDigest, contract.ErrExecSession, "ProtocolError", nil},
		{fakeagent.Oversized, contract.ErrExecSession, "FrameTooLargeError", nil},
		{fakeagent.Garbage, contract.ErrExecSession, "ProtocolError", nil},
		{fakeagent.TextMessage, contract.ErrExecSession, "ProtocolError", nil},
		{fakeagent.NeverClose, contract.ErrExecSession, "IdleTimeoutError", nil},
		// The agent never acknowledges the handshake response: the
		// acknowledgement's timeout, shorter than the handshake's, ends it.
		{fakeagent.NeverAck, contract.ErrExecSession, "AckTimeoutError",
			&ecsexec.Limits{AckTimeout: 300 * time.Millisecond, HandshakeTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second}},
		{fakeagent.HandshakeStall, contract.ErrExecSession, "HandshakeError", nil},
		{fakeagent.Silent, contract.ErrExecSession, "IdleTimeoutError", nil},
		{fakeagent.Drop, contract.ErrRetryable, "ConnectionLostError", nil},
	}
	root := fakeRoot(t, triagetest.Debian)
	for _, tt := range tests {
		t.Run(tt.mode.String(), func(t *testing.T) {
			agent := root.Agent(tt.mode)
			defer agent.Close()
			f := ecsFor(runningTask(), viaAgent(agent))
			h, s3c := newHandler(f, ecsexec.Run)
			h.Session = quick
			if tt.limits != nil {
				h.Session = *tt.limits
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			start := time.Now()
			res, err := h.Handle(ctx, payload(t, "", false, minerFinding("api")))
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("took %s: a hostile peer must not hold the step", took)
			}
			if tt.kind == "" {
				if err != nil {
					t.Fatalf("error %v; want %s", err, tt.want)
				}
				if res.Status != tt.want {
					t.Fatalf("result %s %q; want %s", res.Status, res.Summary, tt.want)
				}
				if tt.want == contract.StatusOK && (len(res.Evidence) < 7 || !strings.Contains(res.Summary, "1 binary copied")) {
					t.Errorf("%d artifacts, %q", len(res.Evidence), res.Summary)
				}
				return
			}
			if got := contract.ErrorName(contract.Named(err)); got != tt.want {
				t.Fatalf("error %v named %s; want %s", err, got, tt.want)
			}
			var se *contract.ExecSessionError
			if !errors.As(err, &se) || se.Kind != tt.kind {
				t.Errorf("error %v; want a session error of kind %s", err, tt.kind)
			}
			if len(s3c.Objects) != 0 {
				t.Errorf("stored %s from a session irflow cannot trust", keysOf(s3c))
			}
		})
	}
}

// TestImagesThroughTheAgent: a distroless-debug image is triaged with
// /busybox/sh after /bin/sh did not start; a shell-less image is SKIPPED.
func TestImagesThroughTheAgent(t *testing.T) {
	tests := []struct {
		image  triagetest.Image
		status string
		says   string
	}{
		{triagetest.Busybox, contract.StatusOK, "(/busybox/sh)"},
		{triagetest.NoShell, contract.StatusSkipped, "no shell in the image"},
	}
	for _, tt := range tests {
		root := fakeRoot(t, tt.image)
		agent := root.Agent(fakeagent.SkipHandshake)
		f := ecsFor(runningTask(), viaAgent(agent))
		h, _ := newHandler(f, ecsexec.Run)
		h.Session = quick
		res, err := h.Handle(context.Background(), payload(t, "", false, minerFinding("api")))
		agent.Close()
		if err != nil {
			t.Fatalf("image %d: %v", tt.image, err)
		}
		if res.Status != tt.status || !strings.Contains(res.Summary, tt.says) || len(f.execs) != 2 {
			t.Errorf("image %d: %s %q after %d sessions; want %s saying %q after 2", tt.image, res.Status, res.Summary, len(f.execs), tt.status, tt.says)
		}
	}
}
