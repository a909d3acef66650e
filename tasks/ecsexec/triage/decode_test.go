package triage

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

const n = "0123456789abcdef"

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestDecode(t *testing.T) {
	head := "@H " + n + " irflow-triage/1 enc=b64 rl=1 stat=1 sha=1\n"
	tests := []struct {
		name      string
		in        string
		blocks    int
		complete  bool
		problems  int
		firstData string
	}{
		{"clean", head + "@B " + n + " 1 cmdline pid=1\n" + b64("a\x00b") + "\n@E " + n + " 1 0\n@T " + n + " end\n", 1, true, 0, "a\x00b"},
		{"pty line ends and noise", "motd\r\n" + strings.ReplaceAll(head, "\n", "\r\n") + "@B " + n + " 1 x -\r\n" + b64("hi") + "\r\n\r\n@E " + n + " 1 0\r\nstray\r\n@T " + n + " end\r\n", 1, true, 0, "hi"},
		{"hex", strings.Replace(head, "b64", "hex", 1) + "@B " + n + " 1 x -\n 68 69\n 0a\n@E " + n + " 1 0\n@T " + n + " end\n", 1, true, 0, "hi\n"},
		{"cut inside a block", head + "@B " + n + " 1 x -\n" + b64("hello"), 1, false, 2, ""},
		{"no trailer", head + "@B " + n + " 1 x -\n" + b64("hi") + "\n@E " + n + " 1 0\n", 1, false, 1, "hi"},
		{"corrupt data line", head + "@B " + n + " 1 x -\n" + b64("hi") + "\n\x1b[2J\n@E " + n + " 1 0\n@T " + n + " end\n", 1, true, 1, ""},
		{"foreign nonce inside a block", head + "@B " + n + " 1 x -\n@E ffffffffffffffff 1 0\n@E " + n + " 1 0\n@T " + n + " end\n", 1, true, 1, ""},
		{"repeated id", head + "@B " + n + " 1 x -\n@E " + n + " 1 0\n@B " + n + " 1 y -\n@E " + n + " 1 0\n@T " + n + " end\n", 2, true, 1, ""},
		{"record after trailer", head + "@T " + n + " end\n@B " + n + " 9 x -\n", 0, true, 1, ""},
		{"end without begin", head + "@E " + n + " 1 0\n@T " + n + " end\n", 0, true, 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Decode([]byte(tt.in), n)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Blocks) != tt.blocks || s.Complete != tt.complete || len(s.Problems) != tt.problems {
				t.Fatalf("%d blocks, complete %v, problems %q; want %d, %v, %d", len(s.Blocks), s.Complete, s.Problems, tt.blocks, tt.complete, tt.problems)
			}
			if tt.firstData != "" && string(s.Blocks[0].Data) != tt.firstData {
				t.Errorf("data %q; want %q", s.Blocks[0].Data, tt.firstData)
			}
		})
	}
	if _, err := Decode([]byte("sh: not found\r\n"), n); !errors.As(err, new(*CollectorNotStartedError)) {
		t.Errorf("Decode without a header: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte("@H " + n + " x enc=b64\n@B " + n + " 1 k a=b\naGk=\n@E " + n + " 1 0\n@T " + n + " end\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Decode(b, n)
		if err == nil && s.Complete && s.Header == nil {
			t.Fatalf("complete without a header")
		}
		Analyze(b, n, Target{PID: 1}, Options{}) // must not panic
	})
}
