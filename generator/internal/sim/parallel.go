package sim

import (
	"errors"

	"github.com/irflow/irflow/generator/internal/asl"
)

func (x *execution) parallel(p *proc, name string, s *asl.Parallel, input any, scope []Frame, ev *Event) (any, string, error) {
	out, next, err := x.retrying(p, name, s.Retry, s.Catch, input, ev, func(attempt int) (any, error) {
		eff, err := x.inputPath(s.InputPath, input)
		if err != nil {
			return nil, err
		}
		ctx := x.context(name, attempt-1, "", nil)
		if s.Parameters != nil {
			if eff, err = x.template(s.Parameters, eff, ctx); err != nil {
				return nil, err
			}
		}
		results := make([]any, len(s.Branches))
		var failure error
		p.fork(len(s.Branches), 0, func(i int, c *proc) error {
			out, err := x.machine(c, &s.Branches[i], eff, withFrame(scope, name, i))
			if err != nil {
				failure = firstFailure(failure, err)
				return err
			}
			results[i] = out
			return nil
		})
		return x.settle(name, failure, results, ev, ctx, input, s.ResultSelector, s.ResultPath, s.OutputPath)
	})
	if err == nil && next == "" {
		next = s.Next
	}
	return out, next, err
}

func (x *execution) mapState(p *proc, name string, s *asl.Map, input any, scope []Frame, ev *Event) (any, string, error) {
	out, next, err := x.retrying(p, name, s.Retry, s.Catch, input, ev, func(attempt int) (any, error) {
		eff, err := x.inputPath(s.InputPath, input)
		if err != nil {
			return nil, err
		}
		items := eff
		if s.ItemsPath != nil && !s.ItemsPath.Null {
			if items, err = x.selectPath("ItemsPath", s.ItemsPath, eff); err != nil {
				return nil, err
			}
		}
		list, ok := items.([]any)
		if !ok {
			return nil, statesErr(asl.ErrRuntime, "the Map items are %s, not an array", typeName(items))
		}
		selector := s.ItemSelector
		if selector == nil {
			selector = s.Parameters
		}
		results := make([]any, len(list))
		var failure error
		p.fork(len(list), s.MaxConcurrency, func(i int, c *proc) error {
			item := list[i]
			if selector != nil {
				ctx := x.context(name, attempt-1, "", map[string]any{"Index": num(i), "Value": item})
				var err error
				if item, err = x.template(selector, eff, ctx); err != nil {
					failure = firstFailure(failure, err)
					return err
				}
			}
			out, err := x.machine(c, s.Processor(), item, withFrame(scope, name, i))
			if err != nil {
				failure = firstFailure(failure, err)
				return err
			}
			results[i] = out
			return nil
		})
		return x.settle(name, failure, results, ev, x.context(name, attempt-1, "", nil), input, s.ResultSelector, s.ResultPath, s.OutputPath)
	})
	if err == nil && next == "" {
		next = s.Next
	}
	return out, next, err
}

// settle finishes one try of a Parallel or Map: its first failure, or its
// results through ResultSelector, ResultPath and OutputPath.
func (x *execution) settle(name string, failure error, results []any, ev *Event, ctx map[string]any, input any,
	selector map[string]any, rp, op *asl.Path) (any, error) {
	if failure != nil {
		if se := asStates(failure); se != nil {
			ev.Attempts = append(ev.Attempts, Attempt{Error: se})
		}
		return nil, failure
	}
	if err := x.alive(); err != nil {
		return nil, err
	}
	var result any = results
	ev.Attempts = append(ev.Attempts, Attempt{Output: result})
	if err := checkSize(result, name, "result"); err != nil {
		return nil, err
	}
	var err error
	if selector != nil {
		if result, err = x.template(selector, result, ctx); err != nil {
			return nil, err
		}
	}
	out, err := x.resultPath(rp, input, result)
	if err == nil {
		out, err = x.outputPath(op, out)
	}
	return out, err
}

// firstFailure keeps the error that stopped a fork: the first real one; a
// branch that was itself stopped only counts when nothing else failed (a
// fork further out stopped this one).
func firstFailure(kept, err error) error {
	if kept == nil || errors.Is(kept, errCancelled) && !errors.Is(err, errCancelled) {
		return err
	}
	return kept
}

func withFrame(scope []Frame, state string, i int) []Frame {
	out := make([]Frame, len(scope), len(scope)+1)
	copy(out, scope)
	return append(out, Frame{State: state, Index: i})
}
