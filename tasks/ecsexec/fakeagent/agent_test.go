package fakeagent_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/irflow/irflow/tasks/ecsexec"
	"github.com/irflow/irflow/tasks/ecsexec/fakeagent"
)

// TestExecRunsInARealPTY shows what an ECS Exec client really receives: the
// pty turns "\n" into "\r\n" and echoes the input it is sent.
func TestExecRunsInARealPTY(t *testing.T) {
	tests := []struct {
		name    string
		command string
		stdin   string
		want    []string // substrings, in order
		exit    int
	}{
		{"newlines become CRLF", `/bin/sh -c 'printf "a\nb\n"; exit 4'`, "", []string{"a\r\nb\r\n"}, 4},
		{"input is echoed", `/bin/sh -c 'read x; echo "got $x"'`, "hi\n", []string{"hi\r\n", "got hi\r\n"}, 0},
		{"control bytes reach the terminal raw", `/bin/sh -c 'printf "\033[31mred\t\001\n"'`, "", []string{"\x1b[31mred\t\x01\r\n"}, 0},
		{"no such program", `/nonexistent/triage`, "", []string{"exec: "}, 127},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			agent := fakeagent.New(fakeagent.Options{Mode: fakeagent.SkipHandshake,
				Container: fakeagent.Exec("PATH=/usr/bin:/bin"), SendExitCode: true})
			defer agent.Close()
			s, err := agent.NewSession(tt.command)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var out bytes.Buffer
			var stdin *strings.Reader
			if tt.stdin != "" {
				stdin = strings.NewReader(tt.stdin)
			}
			r, err := ecsexec.Run(ctx, s, readerOrNil(stdin), &out, ecsexec.Limits{IdleTimeout: 5 * time.Second})
			if err != nil {
				t.Fatalf("Run: %v (output %q)", err, out.String())
			}
			rest := out.String()
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("output %q lacks %q", out.String(), w)
				}
				rest = rest[i+len(w):]
			}
			if r.ExitCode != tt.exit {
				t.Errorf("exit %d; want %d", r.ExitCode, tt.exit)
			}
		})
	}
}

type nilReader = interface{ Read([]byte) (int, error) }

func readerOrNil(r *strings.Reader) nilReader {
	if r == nil {
		return nil
	}
	return r
}

func TestNewSessionSplitsLikeTheAgent(t *testing.T) {
	agent := fakeagent.New(fakeagent.Options{})
	defer agent.Close()
	tests := []struct {
		command string
		want    string
	}{
		{`/bin/sh -c 'echo a; echo b' x "y z"`, "/bin/sh -c echo a; echo b x y z\r\n"},
		{`cat /proc/1/cmdline`, "cat /proc/1/cmdline\r\n"},
	}
	for _, tt := range tests {
		s, err := agent.NewSession(tt.command)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if _, err := ecsexec.Run(context.Background(), s, nil, &out, ecsexec.Limits{}); err != nil {
			t.Fatal(err)
		}
		if out.String() != tt.want {
			t.Errorf("Echo of %s = %q; want %q", tt.command, out.String(), tt.want)
		}
	}
	if _, err := agent.NewSession(`sh -c 'unterminated`); err == nil {
		t.Errorf("NewSession accepted an unterminated quote")
	}
}
