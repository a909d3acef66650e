package sim

import (
	"fmt"
	"strings"
)

// template applies a Payload Template (Parameters, ResultSelector,
// ItemSelector): fields whose name ends in ".$" take the value of a path
// (against input or, for $$, the context object) or of an intrinsic
// function call; every other value is copied, objects and arrays recursively.
func (x *execution) template(tmpl, input, ctx any) (any, error) {
	switch t := tmpl.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, v := range t {
			name, dyn := strings.CutSuffix(k, ".$")
			if !dyn {
				val, err := x.template(v, input, ctx)
				if err != nil {
					return nil, err
				}
				out[k] = val
				continue
			}
			expr := v.(string) // checked before the run
			val, err := x.dynamic(expr, k, input, ctx)
			if err != nil {
				return nil, err
			}
			out[name] = val
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, v := range t {
			val, err := x.template(v, input, ctx)
			if err != nil {
				return nil, err
			}
			out[i] = val
		}
		return out, nil
	}
	return tmpl, nil
}

// dynamic evaluates the value of a "name.$" field: a path or an intrinsic.
func (x *execution) dynamic(expr, field string, input, ctx any) (any, error) {
	if strings.HasPrefix(expr, "$") {
		p := x.prog.path(expr)
		v, ok := p.Get(input, ctx)
		if !ok {
			return nil, pathNotFound(expr, field, p, input, ctx)
		}
		return v, nil
	}
	return x.prog.call(expr).eval(input, ctx, x.env)
}

// pathNotFound is the States.Runtime error AWS reports for a path that
// matches nothing, with its wording.
func pathNotFound(expr, field string, p *Path, input, ctx any) *Error {
	doc := input
	if p.Context {
		doc = ctx
	}
	return statesErr("States.Runtime", "The JSONPath '%s' specified for the field '%s' could not be found in the input '%s'",
		expr, field, clip(mustCompact(doc), 300))
}

// checkTemplate checks a Payload Template before the run: ".$" fields hold
// a string that parses as a path or an intrinsic call, and no two fields
// end up with the same name.
func (pr *program) checkTemplate(tmpl any, where string) error {
	switch t := tmpl.(type) {
	case map[string]any:
		for k, v := range t {
			name, dyn := strings.CutSuffix(k, ".$")
			if !dyn {
				if err := pr.checkTemplate(v, where); err != nil {
					return err
				}
				continue
			}
			if _, clash := t[name]; clash {
				return fmt.Errorf("%s: fields %q and %q both set %q", where, name, k, name)
			}
			expr, ok := v.(string)
			if !ok {
				return fmt.Errorf("%s: field %q must be a string (a path or an intrinsic function), not %s", where, k, typeName(v))
			}
			if err := pr.checkExpr(expr); err != nil {
				return fmt.Errorf("%s: field %q: %v", where, k, err)
			}
		}
	case []any:
		for _, v := range t {
			if err := pr.checkTemplate(v, where); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkExpr parses a path or an intrinsic call into the program's caches.
func (pr *program) checkExpr(expr string) error {
	if strings.HasPrefix(expr, "$") {
		_, err := pr.parsePath(expr)
		return err
	}
	if _, ok := pr.calls[expr]; ok {
		return nil
	}
	c, err := ParseIntrinsic(expr)
	if err != nil {
		return err
	}
	var perr error
	c.walkPaths(func(p *Path) {
		if perr == nil {
			_, perr = pr.parsePath(p.Text)
		}
	})
	if perr != nil {
		return perr
	}
	pr.calls[expr] = c
	return nil
}
