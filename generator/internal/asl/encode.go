package asl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"unicode/utf8"
)

// writer emits JSON without reflection, either compact or indented by two
// spaces exactly as encoding/json's Indent would format it, so a compile
// stays well under a millisecond. Object keys of maps are sorted.
type writer struct {
	b      bytes.Buffer
	indent bool
	depth  int
	first  []bool
	err    error
	// space counts the insignificant whitespace written (indentation,
	// the space after a colon): the compact form is that much shorter.
	space int
}

// indentSpaces is sliced for indentation instead of writing two spaces per level.
const indentSpaces = "                                                                "

func (w *writer) newline() {
	if !w.indent {
		return
	}
	w.b.WriteByte('\n')
	n := 2 * w.depth
	w.space += 1 + n
	for n > len(indentSpaces) {
		w.b.WriteString(indentSpaces)
		n -= len(indentSpaces)
	}
	w.b.WriteString(indentSpaces[:n])
}

func (w *writer) open(c byte) {
	w.b.WriteByte(c)
	w.depth++
	w.first = append(w.first, true)
}

func (w *writer) close(c byte) {
	w.depth--
	empty := w.first[len(w.first)-1]
	w.first = w.first[:len(w.first)-1]
	if !empty {
		w.newline()
	}
	w.b.WriteByte(c)
}

// item starts an element of the innermost array or object.
func (w *writer) item() {
	top := len(w.first) - 1
	if !w.first[top] {
		w.b.WriteByte(',')
	}
	w.first[top] = false
	w.newline()
}

func (w *writer) key(k string) {
	w.item()
	w.str(k)
	w.b.WriteByte(':')
	if w.indent {
		w.b.WriteByte(' ')
		w.space++
	}
}

// Field helpers: each writes "key": value, skipping empty values the way the
// struct tags' omitempty would.
func (w *writer) fStr(k, v string) {
	if v != "" {
		w.key(k)
		w.str(v)
	}
}

func (w *writer) fInt(k string, v int) {
	if v != 0 {
		w.key(k)
		w.b.WriteString(strconv.Itoa(v))
	}
}

func (w *writer) fBool(k string, v bool) {
	if v {
		w.key(k)
		w.b.WriteString("true")
	}
}

func (w *writer) fPath(k string, p *Path) {
	if p == nil {
		return
	}
	w.key(k)
	if p.Null {
		w.b.WriteString("null")
		return
	}
	w.str(p.Value)
}

func (w *writer) fMap(k string, m map[string]any) {
	if len(m) > 0 {
		w.key(k)
		w.value(m)
	}
}

func (w *writer) fStrings(k string, v []string) {
	w.key(k)
	w.open('[')
	for _, s := range v {
		w.item()
		w.str(s)
	}
	w.close(']')
}

// value writes the dynamic values of Parameters, ResultSelector and Result.
func (w *writer) value(v any) {
	switch x := v.(type) {
	case nil:
		w.b.WriteString("null")
	case string:
		w.str(x)
	case bool:
		w.b.WriteString(strconv.FormatBool(x))
	case int:
		w.b.WriteString(strconv.Itoa(x))
	case int64:
		w.b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		w.float(x)
	case json.Number:
		if _, err := strconv.ParseFloat(string(x), 64); err != nil {
			w.err = fmt.Errorf("invalid number %q", x)
			return
		}
		w.b.WriteString(string(x))
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		w.open('{')
		for _, k := range keys {
			w.key(k)
			w.value(x[k])
		}
		w.close('}')
	case []any:
		w.open('[')
		for _, it := range x {
			w.item()
			w.value(it)
		}
		w.close(']')
	case []string:
		w.open('[')
		for _, it := range x {
			w.item()
			w.str(it)
		}
		w.close(']')
	default:
		// Anything else goes through encoding/json once and is re-read as
		// plain JSON values, so it is still written by this writer.
		b, err := json.Marshal(x)
		if err != nil {
			w.err = err
			return
		}
		var plain any
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(&plain); err != nil {
			w.err = err
			return
		}
		w.value(plain)
	}
}

// float formats like encoding/json.
func (w *writer) float(f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		w.err = fmt.Errorf("unsupported float %v", f)
		return
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b := strconv.AppendFloat(nil, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	w.b.Write(b)
}

const hexDigits = "0123456789abcdef"

// str writes a JSON string escaped as encoding/json does with HTML escaping off.
func (w *writer) str(s string) {
	w.b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			w.b.WriteString(s[start:i])
			switch c {
			case '\\', '"':
				w.b.WriteByte('\\')
				w.b.WriteByte(c)
			case '\n':
				w.b.WriteString(`\n`)
			case '\r':
				w.b.WriteString(`\r`)
			case '\t':
				w.b.WriteString(`\t`)
			default:
				w.b.WriteString(`\u00`)
				w.b.WriteByte(hexDigits[c>>4])
				w.b.WriteByte(hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			w.b.WriteString(s[start:i])
			w.b.WriteString(`\ufffd`)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			w.b.WriteString(s[start:i])
			w.b.WriteString(`\u202`)
			w.b.WriteByte(hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	w.b.WriteString(s[start:])
	w.b.WriteByte('"')
}
