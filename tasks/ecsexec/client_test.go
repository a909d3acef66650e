package ecsexec_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/irflow/irflow/tasks/ecsexec"
	"github.com/irflow/irflow/tasks/ecsexec/fakeagent"
)

// pattern writes n bytes of numbered lines through the pty translation.
func pattern(n int) (fakeagent.Container, string) {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "line %06d of the container's output\n", i)
	}
	want := strings.ReplaceAll(b.String(), "\n", "\r\n")
	return func(_ context.Context, _ []string, _ io.Reader, out io.Writer) int {
		fakeagent.ONLCR(out).Write([]byte(b.String()))
		return 0
	}, want
}

func flood(_ context.Context, _ []string, _ io.Reader, out io.Writer) int {
	chunk := bytes.Repeat([]byte("x"), 4096)
	for i := 0; i < 64; i++ {
		if _, err := out.Write(chunk); err != nil {
			return 1
		}
	}
	return 0
}

var fast = ecsexec.Limits{
	IdleTimeout: time.Second, HandshakeTimeout: 500 * time.Millisecond,
	GapTimeout: 500 * time.Millisecond, AckTimeout: 500 * time.Millisecond,
	ResendInterval: 100 * time.Millisecond,
}

func TestRunAgainstEveryMode(t *testing.T) {
	big, bigWant := pattern(20 << 10)
	tests := []struct {
		name      string
		mode      fakeagent.Mode
		container fakeagent.Container
		limits    ecsexec.Limits
		wantOut   string
		wantErr   any // pointer to a named error type, nil for success
		digest    bool
		check     func(t *testing.T, r ecsexec.Result, rec fakeagent.Record)
	}{
		{name: "handshake", mode: fakeagent.Normal, wantOut: "sh -c echo hi\r\n",
			check: func(t *testing.T, r ecsexec.Result, rec fakeagent.Record) {
				if !r.Handshake || r.SessionType != "InteractiveCommands" || r.AgentVersion != "3.3.0.0" {
					t.Errorf("result %+v; want a completed InteractiveCommands handshake", r)
				}
				if rec.Handshake == nil || rec.Handshake.ProcessedClientActions[0].ActionStatus != 1 {
					t.Errorf("agent saw handshake response %+v; want SessionType succeeded", rec.Handshake)
				}
				if r.ExitCodeKnown {
					t.Errorf("exit code known without an ExitCode frame")
				}
			}},
		{name: "no handshake, as ECS Exec without KMS", mode: fakeagent.SkipHandshake, wantOut: "sh -c echo hi\r\n",
			check: func(t *testing.T, r ecsexec.Result, _ fakeagent.Record) {
				if r.Handshake {
					t.Errorf("Handshake = true; the agent skipped it")
				}
			}},
		{name: "multi-frame output", mode: fakeagent.Normal, container: big, wantOut: bigWant},
		{name: "out of order", mode: fakeagent.OutOfOrder, container: big, wantOut: bigWant},
		{name: "duplicated", mode: fakeagent.Duplicate, container: big, wantOut: bigWant,
			check: func(t *testing.T, r ecsexec.Result, _ fakeagent.Record) {
				if r.Duplicates == 0 {
					t.Errorf("Duplicates = 0; every frame came twice")
				}
			}},
		{name: "gap never filled", mode: fakeagent.Gap, container: big, wantErr: new(*ecsexec.SequenceError)},
		{name: "gap wider than the window", mode: fakeagent.WideGap, container: big, wantErr: new(*ecsexec.SequenceError)},
		{name: "bad digest", mode: fakeagent.BadDigest, wantErr: new(*ecsexec.ProtocolError), digest: true},
		{name: "oversized frame", mode: fakeagent.Oversized, wantErr: new(*ecsexec.FrameTooLargeError)},
		{name: "garbage frame", mode: fakeagent.Garbage, wantErr: new(*ecsexec.ProtocolError)},
		{name: "text message", mode: fakeagent.TextMessage, wantErr: new(*ecsexec.ProtocolError)},
		{name: "never closes", mode: fakeagent.NeverClose, wantErr: new(*ecsexec.IdleTimeoutError)},
		{name: "never acknowledges", mode: fakeagent.NeverAck, limits: ecsexec.Limits{
			AckTimeout: 300 * time.Millisecond, HandshakeTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second},
			wantErr: new(*ecsexec.AckTimeoutError)},
		{name: "handshake never completes", mode: fakeagent.HandshakeStall, wantErr: new(*ecsexec.HandshakeError)},
		{name: "agent wants KMS", mode: fakeagent.KMSHandshake, wantErr: new(*ecsexec.HandshakeError),
			check: func(t *testing.T, _ ecsexec.Result, rec fakeagent.Record) {
				// The client leaves right after answering: the record is
				// the agent's view a moment later (see the test loop).
				if rec.Handshake == nil || len(rec.Handshake.ProcessedClientActions) != 2 ||
					rec.Handshake.ProcessedClientActions[1].ActionStatus != 2 {
					t.Errorf("agent saw %+v; want KMSEncryption reported failed", rec.Handshake)
				}
			}},
		{name: "silent agent", mode: fakeagent.Silent, wantErr: new(*ecsexec.IdleTimeoutError)},
		{name: "connection dropped", mode: fakeagent.Drop, container: big, wantErr: new(*ecsexec.ConnectionLostError)},
		{name: "output flood", mode: fakeagent.Normal, container: flood,
			limits: ecsexec.Limits{MaxOutputBytes: 10000}, wantErr: new(*ecsexec.OutputLimitError),
			check: func(t *testing.T, r ecsexec.Result, _ fakeagent.Record) {
				if r.OutputBytes != 10000 {
					t.Errorf("OutputBytes = %d; want exactly the limit", r.OutputBytes)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			agent := fakeagent.New(fakeagent.Options{Mode: tt.mode, Container: tt.container})
			defer agent.Close()
			s, err := agent.NewSession("sh -c 'echo hi'")
			if err != nil {
				t.Fatal(err)
			}
			lim := tt.limits
			if lim == (ecsexec.Limits{}) {
				lim = fast
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var out bytes.Buffer
			start := time.Now()
			r, err := ecsexec.Run(ctx, s, nil, &out, lim)
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("Run took %s; every mode must end well within the limits", took)
			}
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				if out.String() != tt.wantOut {
					t.Errorf("output %d bytes %q...; want %d bytes", out.Len(), head(out.String()), len(tt.wantOut))
				}
			} else if !errors.As(err, tt.wantErr) {
				t.Fatalf("Run error %T %v; want %T", err, err, tt.wantErr)
			}
			if pe := (*ecsexec.ProtocolError)(nil); errors.As(err, &pe) && pe.Digest != tt.digest {
				t.Errorf("ProtocolError.Digest = %v; want %v (%v)", pe.Digest, tt.digest, err)
			}
			if he := (*ecsexec.HandshakeError)(nil); errors.As(err, &he) && he.Encryption != (tt.mode == fakeagent.KMSHandshake) {
				t.Errorf("HandshakeError.Encryption = %v in mode %v", he.Encryption, tt.mode)
			}
			if tt.check != nil {
				rec := agent.Record(s.SessionID)
				for i := 0; i < 100 && rec.Handshake == nil && tt.mode == fakeagent.KMSHandshake; i++ {
					time.Sleep(10 * time.Millisecond)
					rec = agent.Record(s.SessionID)
				}
				tt.check(t, r, rec)
			}
		})
	}
}

func head(s string) string { return s[:min(len(s), 60)] }

func TestRunSendsStdinOnlyWhenTheAgentIsReady(t *testing.T) {
	reply := func(_ context.Context, _ []string, in io.Reader, out io.Writer) int {
		w := fakeagent.ONLCR(out)
		w.Write([]byte("ready\n"))
		line, _ := bufio.NewReader(in).ReadString('\n')
		fmt.Fprintf(w, "got %s", line)
		return 3
	}
	for _, mode := range []fakeagent.Mode{fakeagent.Normal, fakeagent.SkipHandshake} {
		t.Run(mode.String(), func(t *testing.T) {
			agent := fakeagent.New(fakeagent.Options{Mode: mode, Container: reply, SendExitCode: true})
			defer agent.Close()
			s, _ := agent.NewSession("triage")
			var out bytes.Buffer
			r, err := ecsexec.Run(context.Background(), s, strings.NewReader("ping\n"), &out, fast)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got, want := out.String(), "ready\r\ngot ping\r\n"; got != want {
				t.Errorf("output %q; want %q", got, want)
			}
			if rec := agent.Record(s.SessionID); rec.DroppedInput != 0 || string(rec.Stdin) != "ping\n" {
				t.Errorf("agent got stdin %q, dropped %d; want all of it delivered", rec.Stdin, rec.DroppedInput)
			}
			if !r.ExitCodeKnown || r.ExitCode != 3 {
				t.Errorf("exit code %d (known %v); want 3", r.ExitCode, r.ExitCodeKnown)
			}
		})
	}
}

func TestRunErrorsBeforeTheStream(t *testing.T) {
	agent := fakeagent.New(fakeagent.Options{Mode: fakeagent.Silent})
	defer agent.Close()
	s, _ := agent.NewSession("true")
	tests := []struct {
		name    string
		mutate  func(*ecsexec.Session)
		timeout time.Duration
		wantErr any
	}{
		{"wrong token", func(s *ecsexec.Session) { s.Token = "stolen" }, 5 * time.Second, new(*ecsexec.ConnectionLostError)},
		{"unknown session", func(s *ecsexec.Session) { s.StreamURL = agent.URL() + "/v1/data-channel/nope" }, 5 * time.Second, new(*ecsexec.DialError)},
		{"deadline before the agent speaks", func(*ecsexec.Session) {}, 300 * time.Millisecond, new(*ecsexec.DeadlineError)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := s
			tt.mutate(&s)
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			_, err := ecsexec.Run(ctx, s, nil, io.Discard, ecsexec.Limits{IdleTimeout: time.Minute})
			if !errors.As(err, tt.wantErr) {
				t.Fatalf("Run error %T %v; want %T", err, err, tt.wantErr)
			}
		})
	}
	var de *ecsexec.DialError
	s2 := s
	s2.StreamURL = agent.URL() + "/v1/data-channel/nope"
	if _, err := ecsexec.Run(context.Background(), s2, nil, io.Discard, fast); !errors.As(err, &de) || de.Status != 404 {
		t.Errorf("Run error %v; want a DialError with HTTP 404", err)
	}
}
