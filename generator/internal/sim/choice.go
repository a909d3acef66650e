package sim

import (
	"fmt"
	"strings"
	"time"

	"github.com/irflow/irflow/generator/internal/asl"
)

// choose returns the Next of the first matching rule, the Default, or
// States.NoChoiceMatched.
func (x *execution) choose(c *asl.Choice, input, ctx any) (string, error) {
	for i := range c.Choices {
		ok, err := x.rule(&c.Choices[i], input, ctx)
		if err != nil {
			return "", err
		}
		if ok {
			return c.Choices[i].Next, nil
		}
	}
	if c.Default != "" {
		return c.Default, nil
	}
	return "", statesErr(asl.ErrNoChoice, "no choice rule matched and there is no Default")
}

func (x *execution) rule(r *asl.ChoiceRule, input, ctx any) (bool, error) {
	switch {
	case r.And != nil:
		for i := range r.And {
			ok, err := x.rule(&r.And[i], input, ctx)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case r.Or != nil:
		for i := range r.Or {
			ok, err := x.rule(&r.Or[i], input, ctx)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case r.Not != nil:
		ok, err := x.rule(r.Not, input, ctx)
		return !ok, err
	}
	v, found := x.prog.path(r.Variable).Get(input, ctx)
	if r.IsPresent != nil {
		return found == *r.IsPresent, nil
	}
	if !found {
		return false, statesErr(asl.ErrRuntime, "Invalid path '%s': The choice state's condition path references an invalid value.", r.Variable)
	}
	other := func(path string) (any, error) {
		w, ok := x.prog.path(path).Get(input, ctx)
		if !ok {
			return nil, statesErr(asl.ErrRuntime, "Invalid path '%s': The choice state's condition path references an invalid value.", path)
		}
		return w, nil
	}
	s, isStr := v.(string)
	n, isNum := number(v)
	b, isBool := v.(bool)
	switch {
	case r.StringEquals != nil:
		return isStr && s == *r.StringEquals, nil
	case r.StringEqualsPath != "":
		w, err := other(r.StringEqualsPath)
		ws, ok := w.(string)
		return err == nil && isStr && ok && s == ws, err
	case r.StringMatches != nil:
		return isStr && wildcard(*r.StringMatches, s), nil
	case r.StringLessThan != nil:
		return isStr && s < *r.StringLessThan, nil
	case r.StringGreaterThan != nil:
		return isStr && s > *r.StringGreaterThan, nil
	case r.NumericEquals != nil:
		return isNum && n == *r.NumericEquals, nil
	case r.NumericEqualsPath != "":
		w, err := other(r.NumericEqualsPath)
		wn, ok := number(w)
		return err == nil && isNum && ok && n == wn, err
	case r.NumericLessThan != nil:
		return isNum && n < *r.NumericLessThan, nil
	case r.NumericLessThanEquals != nil:
		return isNum && n <= *r.NumericLessThanEquals, nil
	case r.NumericGreaterThan != nil:
		return isNum && n > *r.NumericGreaterThan, nil
	case r.NumericGreaterThanEquals != nil:
		return isNum && n >= *r.NumericGreaterThanEquals, nil
	case r.BooleanEquals != nil:
		return isBool && b == *r.BooleanEquals, nil
	case r.BooleanEqualsPath != "":
		w, err := other(r.BooleanEqualsPath)
		wb, ok := w.(bool)
		return err == nil && isBool && ok && b == wb, err
	case r.TimestampLessThan != nil:
		return timestamps(v, *r.TimestampLessThan, func(a, b time.Time) bool { return a.Before(b) }), nil
	case r.TimestampGreaterThan != nil:
		return timestamps(v, *r.TimestampGreaterThan, func(a, b time.Time) bool { return a.After(b) }), nil
	case r.IsNull != nil:
		return (v == nil) == *r.IsNull, nil
	case r.IsString != nil:
		return isStr == *r.IsString, nil
	case r.IsNumeric != nil:
		return isNum == *r.IsNumeric, nil
	case r.IsBoolean != nil:
		return isBool == *r.IsBoolean, nil
	}
	return false, &Fatal{Err: fmt.Errorf("choice rule on %q has no comparison operator", r.Variable)}
}

// operators counts the comparison operators a rule sets, for the check.
func operators(r *asl.ChoiceRule) int {
	n := 0
	for _, set := range []bool{r.StringEquals != nil, r.StringEqualsPath != "", r.StringMatches != nil,
		r.StringLessThan != nil, r.StringGreaterThan != nil, r.NumericEquals != nil, r.NumericEqualsPath != "",
		r.NumericLessThan != nil, r.NumericLessThanEquals != nil, r.NumericGreaterThan != nil,
		r.NumericGreaterThanEquals != nil, r.BooleanEquals != nil, r.BooleanEqualsPath != "",
		r.TimestampLessThan != nil, r.TimestampGreaterThan != nil, r.IsPresent != nil, r.IsNull != nil,
		r.IsString != nil, r.IsNumeric != nil, r.IsBoolean != nil} {
		if set {
			n++
		}
	}
	return n
}

func timestamps(v any, ref string, cmp func(a, b time.Time) bool) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	a, err1 := time.Parse(time.RFC3339Nano, s)
	b, err2 := time.Parse(time.RFC3339Nano, ref)
	return err1 == nil && err2 == nil && cmp(a, b)
}

// wildcard matches StringMatches patterns: * is any run of characters,
// \* a star and \\ a backslash.
func wildcard(pattern, s string) bool {
	type tok struct {
		lit  string
		star bool
	}
	var toks []tok
	var lit strings.Builder
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case c == '\\' && i+1 < len(pattern):
			i++
			lit.WriteByte(pattern[i])
		case c == '*':
			toks = append(toks, tok{lit: lit.String()}, tok{star: true})
			lit.Reset()
		default:
			lit.WriteByte(c)
		}
	}
	toks = append(toks, tok{lit: lit.String()})
	var match func(ti int, s string) bool
	match = func(ti int, s string) bool {
		if ti == len(toks) {
			return s == ""
		}
		t := toks[ti]
		if !t.star {
			return strings.HasPrefix(s, t.lit) && match(ti+1, s[len(t.lit):])
		}
		for i := 0; i <= len(s); i++ {
			if match(ti+1, s[i:]) {
				return true
			}
		}
		return false
	}
	return match(0, s)
}
