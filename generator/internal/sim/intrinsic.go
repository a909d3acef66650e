package sim

import (
	"fmt"
	"strings"

	"github.com/irflow/irflow/generator/internal/asl"
)

// An intrinsic function call as written in a Payload Template value:
// States.Name(arg, ...) where an argument is a 'string' (with \' \{ \} \\
// escapes), a number, true, false, null, a path or another call.
type icall struct {
	name string
	args []iarg
	text string
}

type iarg struct {
	lit   any    // a literal's value (strings unescaped)
	raw   string // a string literal as written, for States.Format's \{ \}
	isStr bool
	path  *Path
	call  *icall
}

// intrinsics are the supported functions with their argument counts
// (max -1: any number of arguments).
var intrinsics = map[string]struct{ min, max int }{
	"States.Format":         {1, -1},
	"States.StringToJson":   {1, 1},
	"States.JsonToString":   {1, 1},
	"States.Array":          {0, -1},
	"States.ArrayPartition": {2, 2},
	"States.ArrayContains":  {2, 2},
	"States.ArrayRange":     {3, 3},
	"States.ArrayGetItem":   {2, 2},
	"States.ArrayLength":    {1, 1},
	"States.ArrayUnique":    {1, 1},
	"States.Base64Encode":   {1, 1},
	"States.Base64Decode":   {1, 1},
	"States.Hash":           {2, 2},
	"States.JsonMerge":      {3, 3},
	"States.MathRandom":     {2, 3},
	"States.MathAdd":        {2, 2},
	"States.StringSplit":    {2, 2},
	"States.UUID":           {0, 0},
}

// ParseIntrinsic parses an intrinsic function call, checking the function
// exists and gets a number of arguments it accepts.
func ParseIntrinsic(s string) (*icall, error) {
	p := &iparser{s: s}
	c, err := p.call()
	if err != nil {
		return nil, fmt.Errorf("intrinsic %q: %v", s, err)
	}
	p.space()
	if p.i != len(s) {
		return nil, fmt.Errorf("intrinsic %q: unexpected %q after the call", s, s[p.i:])
	}
	return c, nil
}

type iparser struct {
	s string
	i int
}

func (p *iparser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *iparser) call() (*icall, error) {
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != '(' {
		p.i++
	}
	name := strings.TrimSpace(p.s[start:p.i])
	spec, ok := intrinsics[name]
	if !ok {
		return nil, fmt.Errorf("%q is not an intrinsic function this simulator supports", name)
	}
	if p.i == len(p.s) {
		return nil, fmt.Errorf("missing ( after %s", name)
	}
	p.i++
	c := &icall{name: name}
	p.space()
	if p.i < len(p.s) && p.s[p.i] == ')' {
		p.i++
	} else {
		for {
			p.space()
			a, err := p.arg()
			if err != nil {
				return nil, err
			}
			c.args = append(c.args, a)
			p.space()
			if p.i >= len(p.s) {
				return nil, fmt.Errorf("unclosed %s(", name)
			}
			if p.s[p.i] == ')' {
				p.i++
				break
			}
			if p.s[p.i] != ',' {
				return nil, fmt.Errorf("expected , or ) at offset %d", p.i)
			}
			p.i++
		}
	}
	c.text = p.s[start:p.i]
	if len(c.args) < spec.min || spec.max >= 0 && len(c.args) > spec.max {
		return nil, fmt.Errorf("%s takes %s, not %d", name, argCount(spec.min, spec.max), len(c.args))
	}
	return c, nil
}

func argCount(lo, hi int) string {
	switch {
	case hi < 0:
		return fmt.Sprintf("at least %d arguments", lo)
	case lo == hi:
		return fmt.Sprintf("%d arguments", lo)
	}
	return fmt.Sprintf("%d to %d arguments", lo, hi)
}

func (p *iparser) arg() (iarg, error) {
	rest := p.s[p.i:]
	switch {
	case strings.HasPrefix(rest, "'"):
		return p.str()
	case strings.HasPrefix(rest, "$"):
		return p.path()
	case strings.HasPrefix(rest, "States."):
		c, err := p.call()
		return iarg{call: c}, err
	}
	j := p.i
	for j < len(p.s) && p.s[j] != ',' && p.s[j] != ')' {
		j++
	}
	tok := strings.TrimSpace(p.s[p.i:j])
	p.i = j
	switch tok {
	case "true":
		return iarg{lit: true}, nil
	case "false":
		return iarg{lit: false}, nil
	case "null":
		return iarg{lit: nil}, nil
	}
	v, err := Decode([]byte(tok))
	if _, isNum := number(v); err != nil || !isNum {
		return iarg{}, fmt.Errorf("argument %q is not a string, number, boolean, null, path or call", tok)
	}
	return iarg{lit: v}, nil
}

func (p *iparser) str() (iarg, error) {
	p.i++ // opening quote
	var val strings.Builder
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '\\' && p.i+1 < len(p.s):
			val.WriteByte(p.s[p.i+1])
			p.i += 2
		case c == '\'':
			raw := p.s[start:p.i]
			p.i++
			return iarg{lit: val.String(), raw: raw, isStr: true}, nil
		default:
			val.WriteByte(c)
			p.i++
		}
	}
	return iarg{}, fmt.Errorf("unclosed string literal")
}

func (p *iparser) path() (iarg, error) {
	start, depth := p.i, 0
	var quote byte
	for ; p.i < len(p.s); p.i++ {
		c := p.s[p.i]
		switch {
		case quote != 0 && c == '\\':
			p.i++
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '[':
			depth++
		case c == ']':
			depth--
		case depth == 0 && (c == ',' || c == ')'):
			pth, err := ParsePath(strings.TrimSpace(p.s[start:p.i]))
			return iarg{path: pth}, err
		}
	}
	return iarg{}, fmt.Errorf("unclosed call after path %q", p.s[start:])
}

// walkPaths calls fn for every path among the call's arguments, nested calls included.
func (c *icall) walkPaths(fn func(*Path)) {
	for _, a := range c.args {
		switch {
		case a.path != nil:
			fn(a.path)
		case a.call != nil:
			a.call.walkPaths(fn)
		}
	}
}

// eval evaluates the call. Failures are States errors: a path that matches
// nothing is States.Runtime (as in AWS), anything else States.IntrinsicFailure.
func (c *icall) eval(input, context any, env *env) (any, error) {
	args := make([]any, len(c.args))
	for i, a := range c.args {
		switch {
		case a.path != nil:
			v, ok := a.path.Get(input, context)
			if !ok {
				return nil, statesErr(asl.ErrRuntime, "the JSONPath %q in %s could not be found in the input", a.path.Text, c.text)
			}
			args[i] = v
		case a.call != nil:
			v, err := a.call.eval(input, context, env)
			if err != nil {
				return nil, err
			}
			args[i] = v
		default:
			args[i] = a.lit
		}
	}
	v, err := callIntrinsic(c, args, env)
	if err != nil {
		if se := asStates(err); se != nil {
			return nil, se
		}
		return nil, statesErr(ErrIntrinsic, "%s: %v", c.text, err)
	}
	return v, nil
}
