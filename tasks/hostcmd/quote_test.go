package hostcmd

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

func TestQuoteRoundTripsThroughSh(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	tests := []string{"plain", "", "it's", "'", "''", `$(id) ; rm -rf / #`, "`uname`", `a\b"c`, "€ ünïcode", "*?[a]"}
	for _, in := range tests {
		q, err := Quote(in)
		if err != nil {
			t.Fatalf("Quote(%q): %v", in, err)
		}
		out, err := exec.Command("sh", "-c", "printf '%s' "+q).Output()
		if err != nil {
			t.Fatalf("sh with %s: %v", q, err)
		}
		if string(out) != in {
			t.Errorf("sh printed %q for Quote(%q) = %s; want the input back", out, in, q)
		}
	}
}

func TestQuoteRefusesControlCharacters(t *testing.T) {
	for _, in := range []string{"a\nb", "a\rb", "a\x00b", "\x1b[31m", "tab\there"} {
		_, err := Quote(in)
		var ue *UnsafeValueError
		if !errors.As(err, &ue) {
			t.Errorf("Quote(%q) err = %v; want UnsafeValueError", in, err)
		}
	}
}

func TestPatterns(t *testing.T) {
	tests := []struct {
		name string
		re   interface{ MatchString(string) bool }
		good []string
		bad  []string
	}{
		{"instance", InstanceID, []string{"i-0123456789abcdef0", "i-12345678"}, []string{"i-123", "i-0123456789abcdef0;id", "I-12345678", ""}},
		{"runtime", RuntimeID, []string{"3f2a9c1d0b7e", strings.Repeat("a", 64)}, []string{"3f2a9c1d0b7", strings.Repeat("a", 65), "3F2A9C1D0B7E", "3f2a9c1d0b7e'"}},
		{"task arn", TaskArn, []string{"arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef", "arn:aws:ecs:us-east-1:123456789012:task/0123abcd-0000-4000-8000-000000000000"},
			[]string{"arn:aws:ecs:us-east-1:123456789012:task/prod/x'$(id)", "arn:aws:ecs:us-east-1:123:task/x/y", "arn:aws:ecs:us-east-1:123456789012:service/prod/x"}},
		{"container", ContainerName, []string{"worker", "log_router-2"}, []string{"a b", "x'", "", "a.b"}},
		{"url", URL, []string{"https://b.s3.us-east-1.amazonaws.com/cases/c/s/f?X-Amz-Signature=ab%2Fcd&x-id=PutObject", "http://127.0.0.1:5000/b/k"},
			[]string{"https://x/'a'", "https://x/a b", "ftp://x/a", "https://x/$(id)", "https://x/`id`", "https://x/a;b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, g := range tt.good {
				if !tt.re.MatchString(g) {
					t.Errorf("%q rejected; want accepted", g)
				}
			}
			for _, b := range tt.bad {
				if tt.re.MatchString(b) {
					t.Errorf("%q accepted; want rejected", b)
				}
			}
		})
	}
}
