package format

import (
	"bytes"
	"strings"
)

// wrapFolded re-wraps the text of folded block scalars (> >- >+) at Width
// columns. The YAML encoder writes each folded paragraph on one line;
// breaking it at spaces again keeps its value (a folded line break is a
// space). Lines that start with a space are more indented, kept as they
// are, as folding keeps them.
func wrapFolded(src []byte) []byte {
	lines := strings.SplitAfter(string(src), "\n")
	var b bytes.Buffer
	indent := -1 // the indentation of the folded scalar's text, or -1 outside one
	parent := 0
	for _, line := range lines {
		text := strings.TrimRight(line, "\n")
		lead := len(text) - len(strings.TrimLeft(text, " "))
		if indent >= 0 {
			switch {
			case strings.TrimSpace(text) == "":
				b.WriteString(line)
				continue
			case lead > parent && (indent == 0 || lead >= indent):
				if indent == 0 {
					indent = lead
				}
				if lead == indent {
					wrapLine(&b, text, indent, strings.HasSuffix(line, "\n"))
					continue
				}
				b.WriteString(line)
				continue
			}
			indent = -1
		}
		if folded(text) {
			indent, parent = 0, lead
		}
		b.WriteString(line)
	}
	return b.Bytes()
}

// folded reports whether a line ends in a folded block scalar header.
func folded(text string) bool {
	t := strings.TrimSpace(text)
	if i := strings.Index(t, " #"); i >= 0 {
		t = strings.TrimSpace(t[:i])
	}
	for _, h := range []string{">", ">-", ">+"} {
		if t == h || strings.HasSuffix(t, ": "+h) || strings.HasSuffix(t, "- "+h) {
			return true
		}
	}
	return false
}

// wrapLine writes one paragraph of folded text as lines of at most Width
// columns, breaking at single spaces (a run of spaces is kept in one line:
// breaking there would lose it).
func wrapLine(b *bytes.Buffer, text string, indent int, newline bool) {
	words := strings.Split(text[indent:], " ")
	pad := strings.Repeat(" ", indent)
	line := pad + words[0]
	for _, w := range words[1:] {
		if w == "" || len(line)+1+len(w) <= Width || strings.HasSuffix(line, " ") {
			line += " " + w
			continue
		}
		b.WriteString(line + "\n")
		line = pad + w
	}
	b.WriteString(line)
	if newline {
		b.WriteByte('\n')
	}
}
