package triage

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/shlex"
)

func TestCommandSplitsBackExactly(t *testing.T) {
	nonce := NewNonce()
	tests := []struct {
		name   string
		target Target
		want   []string // the script's $6..$8
	}{
		{"nothing named", Target{}, []string{"-", "-", "-"}},
		{"pid only", Target{PID: 7}, []string{"7", "-", "-"}},
		{"hostile path", Target{ExecutablePath: `/tmp/a b/'$(reboot)'/"x"/` + "`id`;\\n"},
			[]string{"-", `/tmp/a b/'$(reboot)'/"x"/` + "`id`;\\n", "-"}},
		{"unicode path and hash", Target{ExecutablePath: "/tmp/ünïcode", SHA256: strings.Repeat("ab", 32)},
			[]string{"-", "/tmp/ünïcode", strings.Repeat("ab", 32)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd, err := Command("/bin/sh", nonce, tt.target, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			argv, err := shlex.Split(cmd) // what the agent does
			if err != nil {
				t.Fatal(err)
			}
			want := append([]string{"/bin/sh", "-c", collector, "irflow-triage", nonce, "-",
				"262144", "16777216", "268435456"}, tt.want...)
			if !slices.Equal(argv, want) {
				t.Errorf("argv %q...; want %q", argv[3:], want[3:])
			}
		})
	}
}

func TestCommandRefuses(t *testing.T) {
	nonce := NewNonce()
	tests := []struct {
		name  string
		shell string
		nonce string
		t     Target
		field string
	}{
		{"relative path", "/bin/sh", nonce, Target{ExecutablePath: "tmp/x"}, "executable path"},
		{"newline in path", "/bin/sh", nonce, Target{ExecutablePath: "/tmp/x\nrm"}, "executable path"},
		{"escape in path", "/bin/sh", nonce, Target{ExecutablePath: "/tmp/\x1b[2J"}, "executable path"},
		{"invalid utf-8", "/bin/sh", nonce, Target{ExecutablePath: "/tmp/\xff"}, "executable path"},
		{"upper-case hash", "/bin/sh", nonce, Target{SHA256: strings.Repeat("AB", 32)}, "sha256"},
		{"negative pid", "/bin/sh", nonce, Target{PID: -1}, "pid"},
		{"other shell", "/bin/bash -c reboot", nonce, Target{}, "shell"},
		{"short nonce", "/bin/sh", "abc", Target{}, "nonce"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Command(tt.shell, tt.nonce, tt.t, Limits{})
			var it *InvalidTargetError
			if !errors.As(err, &it) || it.Field != tt.field {
				t.Errorf("Command error %v; want InvalidTargetError on %s", err, tt.field)
			}
		})
	}
}

func TestCollectorIsSmallAndQuoteFree(t *testing.T) {
	if strings.ContainsRune(collector, '\'') {
		t.Errorf("collect.sh contains a single quote")
	}
	if strings.Contains(collector, "<<") {
		t.Errorf("collect.sh uses a here-document (some shells write those to a temp file)")
	}
	cmd, _ := Command("/bin/sh", NewNonce(), Target{PID: 1, ExecutablePath: "/x", SHA256: strings.Repeat("0", 64)}, Limits{})
	if len(cmd) > 6<<10 {
		t.Errorf("command of %d bytes; keep it under 6 KiB", len(cmd))
	}
}
