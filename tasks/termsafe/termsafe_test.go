package termsafe

import (
	"encoding/json"
	"testing"
)

func TestBad(t *testing.T) {
	tests := []struct {
		r   rune
		bad bool
	}{
		{'a', false}, {'\t', false}, {'\n', false}, {'é', false}, {'—', false}, {'中', false},
		{0x00, true}, {0x07, true}, {'\r', true}, {0x1b, true}, {0x7f, true},
		{0x85, true}, {0x9b, true}, {0xa0, false},
		{0x061c, true}, {0x200e, true}, {0x200f, true}, {0x202a, true}, {0x202e, true},
		{0x2066, true}, {0x2069, true}, {0x2028, false}, {0x200b, false},
	}
	for _, tt := range tests {
		if got := Bad(tt.r); got != tt.bad {
			t.Errorf("Bad(%U) = %v; want %v", tt.r, got, tt.bad)
		}
	}
}

func TestFirst(t *testing.T) {
	tests := []struct {
		name   string
		s      string
		r      rune
		offset int
		found  bool
	}{
		{"plain", "Isolate the task?", 0, 0, false},
		{"newline and tab", "a\n\tb", 0, 0, false},
		{"esc", "Isolate\x1b[2J?", 0x1b, 7, true},
		{"rlo", "ok \u202eevil", 0x202e, 3, true},
		{"c1 csi", "x\u009b31m", 0x9b, 1, true},
		{"invalid utf8", "a\xffb", 0xfffd, 1, true},
		{"replacement char is text", "a\uFFFDb", 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, off, found := First(tt.s)
			if r != tt.r || off != tt.offset || found != tt.found {
				t.Errorf("First(%q) = %U, %d, %v; want %U, %d, %v", tt.s, r, off, found, tt.r, tt.offset, tt.found)
			}
		})
	}
}

func TestEscape(t *testing.T) {
	tests := []struct {
		name, in, line, text string
	}{
		{"plain", "approve?", "approve?", "approve?"},
		{"esc", "a\x1b[2Jb", `a\x1b[2Jb`, `a\x1b[2Jb`},
		{"lines", "a\nb\tc\r", `a\nb\tc\x0d`, "a\nb\tc\\x0d"},
		{"bidi", "x\u202ey\u2066", `x\u202ey\u2066`, `x\u202ey\u2066`},
		{"c1", "\u009b1m", `\u009b1m`, `\u009b1m`},
		{"invalid", "a\xff", `a\xff`, `a\xff`},
		{"non-ascii text stays", "café — ok", "café — ok", "café — ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Line(tt.in); got != tt.line {
				t.Errorf("Line(%q) = %q; want %q", tt.in, got, tt.line)
			}
			if got := Text(tt.in); got != tt.text {
				t.Errorf("Text(%q) = %q; want %q", tt.in, got, tt.text)
			}
			if _, _, bad := First(Line(tt.in)); bad {
				t.Errorf("Line(%q) still holds a control", tt.in)
			}
		})
	}
}

func TestJSON(t *testing.T) {
	in, _ := json.Marshal(map[string]string{"p": "a\x1b\u009b\u202eb"})
	out := JSON(in)
	if _, _, bad := First(string(out)); bad {
		t.Fatalf("JSON(%s) = %s still holds a control", in, out)
	}
	var back map[string]string
	if err := json.Unmarshal(out, &back); err != nil || back["p"] != "a\x1b\u009b\u202eb" {
		t.Errorf("JSON changed the value: %q, %v", back["p"], err)
	}
}
