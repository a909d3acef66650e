package sim

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Path is a parsed JSONPath of the subset Step Functions documents for
// JSONPath states: $ (the input) or $$ (the context object) followed by
// .name, ['name'], [index] (negative counts from the end), .* / [*] and
// [start:end]. Deep scan (..), filters ([?(...)]), unions and script
// expressions are refused when the definition is checked.
type Path struct {
	Text    string
	Context bool
	segs    []seg
}

type segKind uint8

const (
	segName segKind = iota
	segIndex
	segWildcard
	segSlice
)

type seg struct {
	kind   segKind
	name   string
	index  int
	lo, hi *int
}

// ParsePath parses a JSONPath.
func ParsePath(s string) (*Path, error) {
	p := &Path{Text: s}
	i := 0
	switch {
	case strings.HasPrefix(s, "$$"):
		p.Context, i = true, 2
	case strings.HasPrefix(s, "$"):
		i = 1
	default:
		return nil, fmt.Errorf("path %q must start with $ or $$", s)
	}
	for i < len(s) {
		switch s[i] {
		case '.':
			i++
			if i < len(s) && s[i] == '.' {
				return nil, fmt.Errorf("path %q: deep scan (..) is not supported", s)
			}
			j := i
			for j < len(s) && s[j] != '.' && s[j] != '[' {
				j++
			}
			name := s[i:j]
			switch {
			case name == "":
				return nil, fmt.Errorf("path %q: empty name after '.'", s)
			case name == "*":
				p.segs = append(p.segs, seg{kind: segWildcard})
			case strings.ContainsAny(name, " \t\n()?@,:'\"*$\\"):
				return nil, fmt.Errorf("path %q: name %q has characters this simulator does not support in dot notation (use ['...'])", s, name)
			default:
				p.segs = append(p.segs, seg{kind: segName, name: name})
			}
			i = j
		case '[':
			j, err := closeBracket(s, i)
			if err != nil {
				return nil, err
			}
			sg, err := parseBracket(s, s[i+1:j])
			if err != nil {
				return nil, err
			}
			p.segs = append(p.segs, sg)
			i = j + 1
		default:
			return nil, fmt.Errorf("path %q: unexpected %q at offset %d", s, s[i], i)
		}
	}
	return p, nil
}

// closeBracket finds the ] that closes the [ at i, skipping quoted names.
func closeBracket(s string, i int) (int, error) {
	var quote byte
	for j := i + 1; j < len(s); j++ {
		c := s[j]
		switch {
		case quote != 0 && c == '\\':
			j++
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '\'' || c == '"'):
			quote = c
		case quote == 0 && c == ']':
			return j, nil
		}
	}
	return 0, fmt.Errorf("path %q: unclosed [", s)
}

func parseBracket(path, in string) (seg, error) {
	in = strings.TrimSpace(in)
	switch {
	case in == "*":
		return seg{kind: segWildcard}, nil
	case strings.HasPrefix(in, "?") || strings.HasPrefix(in, "("):
		return seg{}, fmt.Errorf("path %q: filter and script expressions are not supported", path)
	case len(in) >= 2 && (in[0] == '\'' || in[0] == '"') && in[len(in)-1] == in[0]:
		name, err := unquote(in[1:len(in)-1], in[0])
		if err != nil {
			return seg{}, fmt.Errorf("path %q: %v", path, err)
		}
		return seg{kind: segName, name: name}, nil
	case strings.Contains(in, ","):
		return seg{}, fmt.Errorf("path %q: unions ([a,b]) are not supported", path)
	case strings.Contains(in, ":"):
		parts := strings.Split(in, ":")
		if len(parts) != 2 {
			return seg{}, fmt.Errorf("path %q: slices with a step are not supported", path)
		}
		sg := seg{kind: segSlice}
		for k, part := range parts {
			if part = strings.TrimSpace(part); part == "" {
				continue
			}
			n, err := strconv.Atoi(part)
			if err != nil {
				return seg{}, fmt.Errorf("path %q: bad slice bound %q", path, part)
			}
			if k == 0 {
				sg.lo = &n
			} else {
				sg.hi = &n
			}
		}
		return sg, nil
	}
	n, err := strconv.Atoi(in)
	if err != nil {
		return seg{}, fmt.Errorf("path %q: %q is not an index, a quoted name, * or a slice", path, in)
	}
	return seg{kind: segIndex, index: n}, nil
}

func unquote(s string, q byte) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == q {
			return "", fmt.Errorf("unescaped quote in name")
		}
		if c == '\\' && i+1 < len(s) {
			i++
			c = s[i]
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}

// Definite reports whether the path names at most one value (no wildcard or
// slice): such paths give the value itself, others an array of matches.
func (p *Path) Definite() bool {
	for _, s := range p.segs {
		if s.kind == segWildcard || s.kind == segSlice {
			return false
		}
	}
	return true
}

// Get evaluates the path against the input or, for $$, the context object.
// A definite path that matches nothing returns ok false; an indefinite one
// returns the (possibly empty) array of matches.
func (p *Path) Get(input, context any) (any, bool) {
	doc := input
	if p.Context {
		doc = context
	}
	if p.Definite() {
		for _, s := range p.segs {
			var ok bool
			if doc, ok = step(doc, s); !ok {
				return nil, false
			}
		}
		return doc, true
	}
	matches := []any{doc}
	for _, s := range p.segs {
		var next []any
		for _, m := range matches {
			next = append(next, expand(m, s)...)
		}
		matches = next
	}
	if matches == nil {
		matches = []any{}
	}
	return matches, true
}

func step(doc any, s seg) (any, bool) {
	switch s.kind {
	case segName:
		m, ok := doc.(map[string]any)
		if !ok {
			return nil, false
		}
		v, ok := m[s.name]
		return v, ok
	case segIndex:
		a, ok := doc.([]any)
		if !ok {
			return nil, false
		}
		i := s.index
		if i < 0 {
			i += len(a)
		}
		if i < 0 || i >= len(a) {
			return nil, false
		}
		return a[i], true
	}
	return nil, false
}

func expand(doc any, s seg) []any {
	switch s.kind {
	case segWildcard:
		switch d := doc.(type) {
		case []any:
			return d
		case map[string]any:
			out := make([]any, 0, len(d))
			for _, k := range slices.Sorted(maps.Keys(d)) {
				out = append(out, d[k])
			}
			return out
		}
		return nil
	case segSlice:
		a, ok := doc.([]any)
		if !ok {
			return nil
		}
		lo, hi := 0, len(a)
		if s.lo != nil {
			lo = bound(*s.lo, len(a))
		}
		if s.hi != nil {
			hi = bound(*s.hi, len(a))
		}
		if lo >= hi {
			return nil
		}
		return a[lo:hi]
	}
	if v, ok := step(doc, s); ok {
		return []any{v}
	}
	return nil
}

func bound(i, n int) int {
	if i < 0 {
		i += n
	}
	return max(0, min(i, n))
}

// Set returns a copy of doc with val at the path, creating objects on the
// way; only maps and arrays along the path are copied. It is how ResultPath
// works, and fails as States.ResultPathMatchFailure does when the path runs
// through something that is not an object (or an array, for an index).
func (p *Path) Set(doc, val any) (any, error) {
	if p.Context || !p.Definite() {
		return nil, fmt.Errorf("%q is not a reference path into the input", p.Text)
	}
	return setAt(doc, p.segs, val, p.Text)
}

func setAt(doc any, segs []seg, val any, text string) (any, error) {
	if len(segs) == 0 {
		return val, nil
	}
	s := segs[0]
	switch s.kind {
	case segName:
		var m map[string]any
		switch d := doc.(type) {
		case map[string]any:
			m = copyMap(d)
		case nil:
			m = map[string]any{}
		default:
			return nil, fmt.Errorf("cannot set %q: the value at %q is %s, not an object", text, s.name, typeName(doc))
		}
		child, err := setAt(m[s.name], segs[1:], val, text)
		if err != nil {
			return nil, err
		}
		m[s.name] = child
		return m, nil
	case segIndex:
		a, ok := doc.([]any)
		i := s.index
		if ok && i < 0 {
			i += len(a)
		}
		if !ok || i < 0 || i >= len(a) {
			return nil, fmt.Errorf("cannot set %q: index %d is outside the array", text, s.index)
		}
		c := append([]any(nil), a...)
		child, err := setAt(c[i], segs[1:], val, text)
		if err != nil {
			return nil, err
		}
		c[i] = child
		return c, nil
	}
	return nil, fmt.Errorf("cannot set %q", text)
}
