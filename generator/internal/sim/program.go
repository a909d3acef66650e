package sim

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/irflow/irflow/generator/internal/asl"
)

// program is a definition checked for everything the interpreter must
// understand, with its states indexed per scope and every path and
// intrinsic call parsed once. It is read-only while the execution runs.
type program struct {
	states map[*asl.StateMachine]map[string]asl.State
	paths  map[string]*Path
	calls  map[string]*icall
	errs   []string
}

// Check reports, all at once, what in the definition the interpreter does
// not support or that could not run: a query language other than JSONPath,
// unknown transitions, unparsable or unsupported paths and intrinsic
// functions, malformed Retry and Catch. Unknown fields were already refused
// by asl.Parse.
func Check(sm *asl.StateMachine) error {
	_, err := compile(sm)
	return err
}

func compile(sm *asl.StateMachine) (*program, error) {
	pr := &program{states: map[*asl.StateMachine]map[string]asl.State{}, paths: map[string]*Path{}, calls: map[string]*icall{}}
	pr.scope(sm, "")
	if len(pr.errs) > 0 {
		sort.Strings(pr.errs)
		return nil, errors.New(strings.Join(pr.errs, "; "))
	}
	return pr, nil
}

func (pr *program) fail(state, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if state != "" {
		msg = fmt.Sprintf("state %q: %s", state, msg)
	}
	pr.errs = append(pr.errs, msg)
}

func (pr *program) parsePath(s string) (*Path, error) {
	if p, ok := pr.paths[s]; ok {
		return p, nil
	}
	p, err := ParsePath(s)
	if err != nil {
		return nil, err
	}
	pr.paths[s] = p
	return p, nil
}

// path returns a path parsed by the check.
func (pr *program) path(s string) *Path { return pr.paths[s] }

// call returns an intrinsic call parsed by the check.
func (pr *program) call(s string) *icall { return pr.calls[s] }

func (pr *program) scope(sm *asl.StateMachine, where string) {
	if ql := sm.QueryLanguage; ql != "" && ql != asl.QueryLanguageJSONPath {
		pr.fail("", "%squery language %q is not supported (JSONPath only)", where, ql)
	}
	if sm.TimeoutSeconds < 0 {
		pr.fail("", "%sTimeoutSeconds is negative", where)
	}
	idx := map[string]asl.State{}
	for _, ns := range sm.States {
		if _, dup := idx[ns.Name]; dup {
			pr.fail(ns.Name, "defined twice")
		}
		idx[ns.Name] = ns.State
	}
	pr.states[sm] = idx
	if idx[sm.StartAt] == nil {
		pr.fail("", "%sStartAt %q is not a state", where, sm.StartAt)
	}
	for _, ns := range sm.States {
		pr.state(ns.Name, ns.State, idx)
	}
}

func (pr *program) state(name string, st asl.State, idx map[string]asl.State) {
	next := func(n string, end bool) {
		switch {
		case end && n != "":
			pr.fail(name, "has both Next and End")
		case !end && n == "":
			pr.fail(name, "has neither Next nor End")
		case n != "" && idx[n] == nil:
			pr.fail(name, "Next %q is not a state of its scope", n)
		}
	}
	switch s := st.(type) {
	case *asl.Pass:
		pr.paths3(name, s.InputPath, s.ResultPath, s.OutputPath)
		pr.template(name, "Parameters", s.Parameters)
		next(s.Next, s.End)
	case *asl.Task:
		if s.Resource == "" {
			pr.fail(name, "has no Resource")
		}
		pr.paths3(name, s.InputPath, s.ResultPath, s.OutputPath)
		pr.template(name, "Parameters", s.Parameters)
		pr.template(name, "ResultSelector", s.ResultSelector)
		if s.TimeoutSeconds < 0 || s.HeartbeatSeconds < 0 {
			pr.fail(name, "TimeoutSeconds and HeartbeatSeconds must not be negative")
		}
		if s.HeartbeatSeconds > 0 && s.TimeoutSeconds > 0 && s.HeartbeatSeconds >= s.TimeoutSeconds {
			pr.fail(name, "HeartbeatSeconds must be less than TimeoutSeconds")
		}
		pr.errorHandling(name, s.Retry, s.Catch, idx)
		next(s.Next, s.End)
	case *asl.Choice:
		pr.paths3(name, s.InputPath, nil, s.OutputPath)
		if len(s.Choices) == 0 {
			pr.fail(name, "has no Choices")
		}
		for i := range s.Choices {
			r := &s.Choices[i]
			pr.rule(name, r, true)
			if idx[r.Next] == nil {
				pr.fail(name, "choice %d goes to %q, which is not a state of its scope", i, r.Next)
			}
		}
		if s.Default != "" && idx[s.Default] == nil {
			pr.fail(name, "Default %q is not a state of its scope", s.Default)
		}
	case *asl.Wait:
		pr.paths3(name, s.InputPath, nil, s.OutputPath)
		set := 0
		for _, v := range []bool{s.Seconds != 0, s.SecondsPath != "", s.Timestamp != "", s.TimestampPath != ""} {
			if v {
				set++
			}
		}
		if set > 1 {
			pr.fail(name, "sets more than one of Seconds, SecondsPath, Timestamp and TimestampPath")
		}
		if s.Seconds < 0 {
			pr.fail(name, "Seconds is negative")
		}
		if s.Timestamp != "" {
			if _, err := time.Parse(time.RFC3339Nano, s.Timestamp); err != nil {
				pr.fail(name, "Timestamp %q is not RFC 3339", s.Timestamp)
			}
		}
		pr.pathField(name, "SecondsPath", s.SecondsPath)
		pr.pathField(name, "TimestampPath", s.TimestampPath)
		next(s.Next, s.End)
	case *asl.Succeed:
		pr.paths3(name, s.InputPath, nil, s.OutputPath)
	case *asl.Fail:
		for field, v := range map[string]string{"ErrorPath": s.ErrorPath, "CausePath": s.CausePath} {
			if v != "" {
				if err := pr.checkExpr(v); err != nil {
					pr.fail(name, "%s: %v", field, err)
				}
			}
		}
		if s.Error != "" && s.ErrorPath != "" || s.Cause != "" && s.CausePath != "" {
			pr.fail(name, "sets both a value and its path")
		}
	case *asl.Parallel:
		pr.paths3(name, s.InputPath, s.ResultPath, s.OutputPath)
		pr.template(name, "Parameters", s.Parameters)
		pr.template(name, "ResultSelector", s.ResultSelector)
		if len(s.Branches) == 0 {
			pr.fail(name, "has no Branches")
		}
		for i := range s.Branches {
			pr.scope(&s.Branches[i], fmt.Sprintf("branch %d of %q: ", i, name))
		}
		pr.errorHandling(name, s.Retry, s.Catch, idx)
		next(s.Next, s.End)
	case *asl.Map:
		pr.paths3(name, s.InputPath, s.ResultPath, s.OutputPath)
		if s.ItemsPath != nil && !s.ItemsPath.Null {
			pr.pathField(name, "ItemsPath", s.ItemsPath.Value)
		}
		if s.ItemSelector != nil && s.Parameters != nil {
			pr.fail(name, "sets both ItemSelector and Parameters")
		}
		pr.template(name, "ItemSelector", s.ItemSelector)
		pr.template(name, "Parameters", s.Parameters)
		pr.template(name, "ResultSelector", s.ResultSelector)
		if s.MaxConcurrency < 0 {
			pr.fail(name, "MaxConcurrency is negative")
		}
		if p := s.Processor(); p != nil {
			pr.scope(p, fmt.Sprintf("item processor of %q: ", name))
		} else {
			pr.fail(name, "has no ItemProcessor")
		}
		pr.errorHandling(name, s.Retry, s.Catch, idx)
		next(s.Next, s.End)
	default:
		pr.fail(name, "state type %q is not supported", st.StateType())
	}
}

// paths3 checks InputPath, ResultPath and OutputPath; ResultPath must be a
// reference path into the input.
func (pr *program) paths3(name string, in, result, out *asl.Path) {
	for field, p := range map[string]*asl.Path{"InputPath": in, "OutputPath": out} {
		if p != nil && !p.Null {
			pr.pathField(name, field, p.Value)
		}
	}
	if result != nil && !result.Null {
		p, err := pr.parsePath(result.Value)
		switch {
		case err != nil:
			pr.fail(name, "ResultPath: %v", err)
		case p.Context || !p.Definite():
			pr.fail(name, "ResultPath %q must be a reference path into the input", result.Value)
		}
	}
}

func (pr *program) pathField(name, field, v string) {
	if v == "" {
		return
	}
	if _, err := pr.parsePath(v); err != nil {
		pr.fail(name, "%s: %v", field, err)
	}
}

func (pr *program) template(name, field string, tmpl map[string]any) {
	if tmpl == nil {
		return
	}
	if err := pr.checkTemplate(tmpl, field); err != nil {
		pr.fail(name, "%v", err)
	}
}

func (pr *program) rule(name string, r *asl.ChoiceRule, top bool) {
	if !top && r.Next != "" {
		pr.fail(name, "a nested choice rule has Next")
	}
	nested := 0
	for _, set := range []bool{r.And != nil, r.Or != nil, r.Not != nil} {
		if set {
			nested++
		}
	}
	if nested > 0 {
		if nested > 1 || r.Variable != "" || operators(r) > 0 {
			pr.fail(name, "a choice rule mixes And, Or, Not and comparisons")
		}
		for i := range r.And {
			pr.rule(name, &r.And[i], false)
		}
		for i := range r.Or {
			pr.rule(name, &r.Or[i], false)
		}
		if r.Not != nil {
			pr.rule(name, r.Not, false)
		}
		return
	}
	if r.Variable == "" {
		pr.fail(name, "a choice rule has no Variable")
	}
	pr.pathField(name, "Variable", r.Variable)
	if n := operators(r); n != 1 {
		pr.fail(name, "a choice rule on %q has %d comparison operators; it needs exactly one", r.Variable, n)
	}
	for field, v := range map[string]string{"StringEqualsPath": r.StringEqualsPath, "NumericEqualsPath": r.NumericEqualsPath, "BooleanEqualsPath": r.BooleanEqualsPath} {
		pr.pathField(name, field, v)
	}
	for _, ts := range []*string{r.TimestampLessThan, r.TimestampGreaterThan} {
		if ts != nil {
			if _, err := time.Parse(time.RFC3339Nano, *ts); err != nil {
				pr.fail(name, "timestamp %q is not RFC 3339", *ts)
			}
		}
	}
}

func (pr *program) errorHandling(name string, retry []asl.Retrier, catch []asl.Catcher, idx map[string]asl.State) {
	for i, r := range retry {
		if len(r.ErrorEquals) == 0 {
			pr.fail(name, "Retry %d has no ErrorEquals", i)
		}
		if r.MaxAttempts != nil && *r.MaxAttempts < 0 {
			pr.fail(name, "Retry %d: MaxAttempts is negative", i)
		}
		if r.BackoffRate != 0 && r.BackoffRate < 1 {
			pr.fail(name, "Retry %d: BackoffRate must be at least 1.0", i)
		}
		if r.IntervalSeconds < 0 || r.MaxDelaySeconds < 0 {
			pr.fail(name, "Retry %d: negative delay", i)
		}
		if r.JitterStrategy != "" && r.JitterStrategy != "FULL" && r.JitterStrategy != "NONE" {
			pr.fail(name, "Retry %d: JitterStrategy %q is not FULL or NONE", i, r.JitterStrategy)
		}
	}
	for i, c := range catch {
		if len(c.ErrorEquals) == 0 {
			pr.fail(name, "Catch %d has no ErrorEquals", i)
		}
		if idx[c.Next] == nil {
			pr.fail(name, "Catch %d goes to %q, which is not a state of its scope", i, c.Next)
		}
		pr.paths3(name, nil, c.ResultPath, nil)
	}
}
