package termsafe

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Bad reports whether r must not reach a terminal as is: a C0 control other
// than tab and newline, DEL, a C1 control, or a bidirectional control
// (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069).
func Bad(r rune) bool {
	switch {
	case r == '\t' || r == '\n':
		return false
	case r < 0x20 || r == 0x7f:
		return true
	case r >= 0x80 && r <= 0x9f:
		return true
	}
	return Bidi(r)
}

// Bidi reports whether r is a Unicode bidirectional formatting control.
func Bidi(r rune) bool {
	switch {
	case r == 0x061c, r == 0x200e, r == 0x200f:
		return true
	case r >= 0x202a && r <= 0x202e:
		return true
	case r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// First returns the first character of s that Bad refuses, its byte offset,
// and whether there is one. Invalid UTF-8 counts as U+FFFD and is refused.
func First(s string) (r rune, offset int, found bool) {
	for i, c := range s {
		if Bad(c) || (c == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD")) {
			return c, i, true
		}
	}
	return 0, 0, false
}

// names are the short names of the controls people meet.
var names = map[rune]string{
	0x07: "BEL", 0x08: "BS", 0x0d: "CR", 0x1b: "ESC", 0x7f: "DEL", 0x9b: "CSI",
	0x061c: "ALM", 0x200e: "LRM", 0x200f: "RLM", 0x202a: "LRE", 0x202b: "RLE", 0x202c: "PDF",
	0x202d: "LRO", 0x202e: "RLO", 0x2066: "LRI", 0x2067: "RLI", 0x2068: "FSI", 0x2069: "PDI",
}

// Name describes a character for a message: U+001B (ESC).
func Name(r rune) string {
	if n, ok := names[r]; ok {
		return fmt.Sprintf("U+%04X (%s)", r, n)
	}
	return fmt.Sprintf("U+%04X", r)
}

// Line returns s on one line with every control (tab and newline too) and
// invalid byte written as a visible escape: \n, \t, \x1b, \u202e.
func Line(s string) string { return escape(s, true) }

// Text returns s with its lines and tabs kept and every other control and
// invalid byte written as a visible escape.
func Text(s string) string { return escape(s, false) }

func escape(s string, oneLine bool) string {
	if !needs(s, oneLine) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n' && oneLine:
			b.WriteString(`\n`)
		case r == '\t' && oneLine:
			b.WriteString(`\t`)
		case r < 0x80 && Bad(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case Bad(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func needs(s string, oneLine bool) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if Bad(r) || (oneLine && (r == '\n' || r == '\t')) {
			return true
		}
	}
	return false
}

// JSON rewrites the characters Bad refuses that encoding/json leaves raw
// (C1 and bidirectional controls; it already escapes C0) as \uXXXX escapes.
// Outside strings JSON is ASCII, so the result is the same JSON value.
func JSON(b []byte) []byte {
	s := string(b)
	if !needs(s, false) {
		return b
	}
	var out strings.Builder
	for _, r := range s {
		if r >= 0x80 && Bad(r) {
			fmt.Fprintf(&out, `\u%04x`, r)
			continue
		}
		out.WriteRune(r)
	}
	return []byte(out.String())
}
