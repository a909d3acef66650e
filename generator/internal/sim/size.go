package sim

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// jsonSize is the length of v's compact JSON encoding (as compact writes
// it), counted without building it: the payload limit is checked after
// every state, so it must be cheap.
func jsonSize(v any) (int, bool) {
	switch x := v.(type) {
	case nil:
		return 4, true
	case bool:
		if x {
			return 4, true
		}
		return 5, true
	case json.Number:
		return len(x), true
	case string:
		return stringSize(x), true
	case float64:
		return len(strconv.FormatFloat(x, 'g', -1, 64)), true
	case int:
		return len(strconv.Itoa(x)), true
	case []any:
		n := 2 + max(len(x)-1, 0)
		for _, e := range x {
			s, ok := jsonSize(e)
			if !ok {
				return 0, false
			}
			n += s
		}
		return n, true
	case map[string]any:
		n := 2 + max(len(x)-1, 0)
		for k, e := range x {
			s, ok := jsonSize(e)
			if !ok {
				return 0, false
			}
			n += stringSize(k) + 1 + s
		}
		return n, true
	}
	return 0, false
}

// stringSize is the length of a JSON string literal as encoding/json writes
// it without HTML escaping.
func stringSize(s string) int {
	n := 2
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f':
				n += 2
			case c < 0x20:
				n += 6
			default:
				n++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			n += 6 // \ufffd
		case r == '\u2028' || r == '\u2029':
			n += 6
		default:
			n += size
		}
		i += size
	}
	return n
}
