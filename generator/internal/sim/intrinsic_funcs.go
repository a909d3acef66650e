package sim

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"math/rand/v2"
	"strings"
	"unicode/utf8"
)

func callIntrinsic(c *icall, args []any, env *env) (any, error) {
	switch c.name {
	case "States.Format":
		return format(c, args)
	case "States.StringToJson":
		s, err := strArg(args, 0)
		if err != nil {
			return nil, err
		}
		return Decode([]byte(s))
	case "States.JsonToString":
		return compact(args[0])
	case "States.Array":
		return append([]any{}, args...), nil
	case "States.ArrayPartition":
		return arrayPartition(args)
	case "States.ArrayContains":
		a, err := arrArg(args, 0)
		if err != nil {
			return nil, err
		}
		for _, v := range a {
			if equal(v, args[1]) {
				return true, nil
			}
		}
		return false, nil
	case "States.ArrayRange":
		return arrayRange(args)
	case "States.ArrayGetItem":
		a, err := arrArg(args, 0)
		if err != nil {
			return nil, err
		}
		i, ok := integer(args[1])
		if !ok || i < 0 || i >= len(a) {
			return nil, fmt.Errorf("index %v is outside the array of %d items", args[1], len(a))
		}
		return a[i], nil
	case "States.ArrayLength":
		a, err := arrArg(args, 0)
		if err != nil {
			return nil, err
		}
		return num(len(a)), nil
	case "States.ArrayUnique":
		a, err := arrArg(args, 0)
		if err != nil {
			return nil, err
		}
		out := []any{}
		for _, v := range a {
			dup := false
			for _, w := range out {
				dup = dup || equal(v, w)
			}
			if !dup {
				out = append(out, v)
			}
		}
		return out, nil
	case "States.Base64Encode":
		s, err := strArg(args, 0)
		if err != nil {
			return nil, err
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "States.Base64Decode":
		s, err := strArg(args, 0)
		if err != nil {
			return nil, err
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || !utf8.Valid(b) {
			return nil, fmt.Errorf("argument is not base64 of UTF-8 text")
		}
		return string(b), nil
	case "States.Hash":
		return hashOf(args)
	case "States.JsonMerge":
		return jsonMerge(args)
	case "States.MathRandom":
		return mathRandom(args, env)
	case "States.MathAdd":
		a, ok1 := integer(args[0])
		b, ok2 := integer(args[1])
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("arguments must be integers, not %s and %s", typeName(args[0]), typeName(args[1]))
		}
		return num(a + b), nil
	case "States.StringSplit":
		s, err := strArg(args, 0)
		if err != nil {
			return nil, err
		}
		d, err := strArg(args, 1)
		if err != nil {
			return nil, err
		}
		out := []any{}
		for _, part := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(d, r) }) {
			out = append(out, part)
		}
		return out, nil
	case "States.UUID":
		return uuid4(env.rng), nil
	}
	return nil, fmt.Errorf("%s is not supported", c.name)
}

func strArg(args []any, i int) (string, error) {
	s, ok := args[i].(string)
	if !ok {
		return "", fmt.Errorf("argument %d must be a string, not %s", i+1, typeName(args[i]))
	}
	return s, nil
}

func arrArg(args []any, i int) ([]any, error) {
	a, ok := args[i].([]any)
	if !ok {
		return nil, fmt.Errorf("argument %d must be an array, not %s", i+1, typeName(args[i]))
	}
	return a, nil
}

// format fills {} placeholders; in a literal template \{ and \} are braces.
func format(c *icall, args []any) (any, error) {
	tmpl := c.args[0]
	text, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("the template must be a string, not %s", typeName(args[0]))
	}
	if tmpl.isStr {
		text = tmpl.raw
	}
	var b strings.Builder
	next := 1
	for i := 0; i < len(text); i++ {
		switch {
		case tmpl.isStr && text[i] == '\\' && i+1 < len(text):
			i++
			b.WriteByte(text[i])
		case text[i] == '{' && i+1 < len(text) && text[i+1] == '}':
			if next >= len(args) {
				return nil, fmt.Errorf("the template has more {} than arguments")
			}
			switch v := args[next].(type) {
			case string:
				b.WriteString(v)
			case map[string]any, []any:
				return nil, fmt.Errorf("argument %d is %s; States.Format takes strings, numbers, booleans and null", next+1, typeName(v))
			default:
				b.WriteString(mustCompact(v))
			}
			next++
			i++
		default:
			b.WriteByte(text[i])
		}
	}
	if next != len(args) {
		return nil, fmt.Errorf("the template has %d {} for %d arguments", next-1, len(args)-1)
	}
	return b.String(), nil
}

func arrayPartition(args []any) (any, error) {
	a, err := arrArg(args, 0)
	if err != nil {
		return nil, err
	}
	n, ok := integer(args[1])
	if !ok || n <= 0 {
		return nil, fmt.Errorf("chunk size must be a positive integer")
	}
	out := []any{}
	for i := 0; i < len(a); i += n {
		out = append(out, append([]any{}, a[i:min(i+n, len(a))]...))
	}
	return out, nil
}

func arrayRange(args []any) (any, error) {
	first, ok1 := integer(args[0])
	last, ok2 := integer(args[1])
	stepBy, ok3 := integer(args[2])
	if !ok1 || !ok2 || !ok3 || stepBy == 0 {
		return nil, fmt.Errorf("arguments must be integers and the step not 0")
	}
	out := []any{}
	for i := first; (stepBy > 0 && i <= last) || (stepBy < 0 && i >= last); i += stepBy {
		if len(out) == 1000 {
			return nil, fmt.Errorf("the range has more than 1000 items")
		}
		out = append(out, num(i))
	}
	return out, nil
}

func hashOf(args []any) (any, error) {
	s, err := strArg(args, 0)
	if err != nil {
		return nil, err
	}
	alg, err := strArg(args, 1)
	if err != nil {
		return nil, err
	}
	var h hash.Hash
	switch alg {
	case "MD5":
		h = md5.New()
	case "SHA-1":
		h = sha1.New()
	case "SHA-256":
		h = sha256.New()
	case "SHA-384":
		h = sha512.New384()
	case "SHA-512":
		h = sha512.New()
	default:
		return nil, fmt.Errorf("algorithm %q is not MD5, SHA-1, SHA-256, SHA-384 or SHA-512", alg)
	}
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil)), nil
}

func jsonMerge(args []any) (any, error) {
	a, ok1 := args[0].(map[string]any)
	b, ok2 := args[1].(map[string]any)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("the first two arguments must be objects, not %s and %s", typeName(args[0]), typeName(args[1]))
	}
	deep, ok := args[2].(bool)
	if !ok {
		return nil, fmt.Errorf("the third argument must be a boolean")
	}
	return merge(a, b, deep), nil
}

// merge returns a new object with b's fields over a's; deep merges nested
// objects instead of replacing them.
func merge(a, b map[string]any, deep bool) map[string]any {
	out := copyMap(a)
	for k, v := range b {
		if deep {
			am, ok1 := out[k].(map[string]any)
			bm, ok2 := v.(map[string]any)
			if ok1 && ok2 {
				out[k] = merge(am, bm, true)
				continue
			}
		}
		out[k] = v
	}
	return out
}

func mathRandom(args []any, env *env) (any, error) {
	lo, ok1 := integer(args[0])
	hi, ok2 := integer(args[1])
	if !ok1 || !ok2 || hi <= lo {
		return nil, fmt.Errorf("arguments must be integers with start < end")
	}
	r := env.rng
	if len(args) == 3 {
		seed, ok := integer(args[2])
		if !ok {
			return nil, fmt.Errorf("the seed must be an integer")
		}
		r = rand.New(rand.NewPCG(uint64(seed), 0))
	}
	return num(lo + r.IntN(hi-lo)), nil
}

// uuid4 is a version 4 UUID from the execution's seeded generator, so a
// simulation is repeatable.
func uuid4(r *rand.Rand) string {
	var b [16]byte
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
