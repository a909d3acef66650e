package asl

import "fmt"

// The encoders below write each state kind's fields in the order of its
// struct tags, omitting empty ones as omitempty would. TestEncodeMatchesJSON
// holds them to encoding/json's output.

func (w *writer) machine(sm *StateMachine) {
	w.open('{')
	w.fStr("Comment", sm.Comment)
	w.fStr("QueryLanguage", sm.QueryLanguage)
	w.key("StartAt")
	w.str(sm.StartAt)
	w.fInt("TimeoutSeconds", sm.TimeoutSeconds)
	w.key("States")
	w.open('{')
	for _, ns := range sm.States {
		w.key(ns.Name)
		w.state(ns.State)
	}
	w.close('}')
	w.close('}')
}

func (w *writer) state(st State) {
	w.open('{')
	w.key("Type")
	w.str(st.StateType())
	switch x := st.(type) {
	case *Task:
		w.fStr("Comment", x.Comment)
		w.key("Resource")
		w.str(x.Resource)
		w.fPath("InputPath", x.InputPath)
		w.fMap("Parameters", x.Parameters)
		w.fMap("ResultSelector", x.ResultSelector)
		w.fPath("ResultPath", x.ResultPath)
		w.fPath("OutputPath", x.OutputPath)
		w.fInt("TimeoutSeconds", x.TimeoutSeconds)
		w.fInt("HeartbeatSeconds", x.HeartbeatSeconds)
		w.retry(x.Retry)
		w.catch(x.Catch)
		w.fStr("Next", x.Next)
		w.fBool("End", x.End)
	case *Pass:
		w.fStr("Comment", x.Comment)
		w.fPath("InputPath", x.InputPath)
		w.fMap("Parameters", x.Parameters)
		if x.Result != nil {
			w.key("Result")
			w.value(x.Result)
		}
		w.fPath("ResultPath", x.ResultPath)
		w.fPath("OutputPath", x.OutputPath)
		w.fStr("Next", x.Next)
		w.fBool("End", x.End)
	case *Wait:
		w.fStr("Comment", x.Comment)
		w.fPath("InputPath", x.InputPath)
		w.fPath("OutputPath", x.OutputPath)
		w.fInt("Seconds", x.Seconds)
		w.fStr("SecondsPath", x.SecondsPath)
		w.fStr("Timestamp", x.Timestamp)
		w.fStr("TimestampPath", x.TimestampPath)
		w.fStr("Next", x.Next)
		w.fBool("End", x.End)
	case *Succeed:
		w.fStr("Comment", x.Comment)
		w.fPath("InputPath", x.InputPath)
		w.fPath("OutputPath", x.OutputPath)
	case *Fail:
		w.fStr("Comment", x.Comment)
		w.fStr("Error", x.Error)
		w.fStr("ErrorPath", x.ErrorPath)
		w.fStr("Cause", x.Cause)
		w.fStr("CausePath", x.CausePath)
	case *Choice:
		w.fStr("Comment", x.Comment)
		w.fPath("InputPath", x.InputPath)
		w.fPath("OutputPath", x.OutputPath)
		w.key("Choices")
		w.open('[')
		for i := range x.Choices {
			w.item()
			w.rule(&x.Choices[i])
		}
		w.close(']')
		w.fStr("Default", x.Default)
	case *Parallel:
		w.fStr("Comment", x.Comment)
		w.fPath("InputPath", x.InputPath)
		w.fMap("Parameters", x.Parameters)
		w.key("Branches")
		w.open('[')
		for i := range x.Branches {
			w.item()
			w.machine(&x.Branches[i])
		}
		w.close(']')
		w.fMap("ResultSelector", x.ResultSelector)
		w.fPath("ResultPath", x.ResultPath)
		w.fPath("OutputPath", x.OutputPath)
		w.retry(x.Retry)
		w.catch(x.Catch)
		w.fStr("Next", x.Next)
		w.fBool("End", x.End)
	case *Map:
		w.fStr("Comment", x.Comment)
		w.fPath("InputPath", x.InputPath)
		w.fPath("ItemsPath", x.ItemsPath)
		w.fMap("ItemSelector", x.ItemSelector)
		w.fMap("Parameters", x.Parameters)
		if x.ItemProcessor != nil {
			w.key("ItemProcessor")
			w.machine(x.ItemProcessor)
		}
		if x.Iterator != nil {
			w.key("Iterator")
			w.machine(x.Iterator)
		}
		w.fInt("MaxConcurrency", x.MaxConcurrency)
		w.fMap("ResultSelector", x.ResultSelector)
		w.fPath("ResultPath", x.ResultPath)
		w.fPath("OutputPath", x.OutputPath)
		w.retry(x.Retry)
		w.catch(x.Catch)
		w.fStr("Next", x.Next)
		w.fBool("End", x.End)
	default:
		w.err = fmt.Errorf("cannot encode state type %T", st)
	}
	w.close('}')
}

func (w *writer) retry(rs []Retrier) {
	if len(rs) == 0 {
		return
	}
	w.key("Retry")
	w.open('[')
	for _, r := range rs {
		w.item()
		w.open('{')
		w.fStrings("ErrorEquals", r.ErrorEquals)
		w.fInt("IntervalSeconds", r.IntervalSeconds)
		if r.MaxAttempts != nil {
			w.key("MaxAttempts")
			w.value(*r.MaxAttempts)
		}
		if r.BackoffRate != 0 {
			w.key("BackoffRate")
			w.float(r.BackoffRate)
		}
		w.fInt("MaxDelaySeconds", r.MaxDelaySeconds)
		w.fStr("JitterStrategy", r.JitterStrategy)
		w.close('}')
	}
	w.close(']')
}

func (w *writer) catch(cs []Catcher) {
	if len(cs) == 0 {
		return
	}
	w.key("Catch")
	w.open('[')
	for _, c := range cs {
		w.item()
		w.open('{')
		w.fStrings("ErrorEquals", c.ErrorEquals)
		w.fPath("ResultPath", c.ResultPath)
		w.key("Next")
		w.str(c.Next)
		w.close('}')
	}
	w.close(']')
}

func (w *writer) rule(r *ChoiceRule) {
	w.open('{')
	w.fStr("Variable", r.Variable)
	optStr := func(k string, v *string) {
		if v != nil {
			w.key(k)
			w.str(*v)
		}
	}
	optNum := func(k string, v *float64) {
		if v != nil {
			w.key(k)
			w.float(*v)
		}
	}
	optBool := func(k string, v *bool) {
		if v != nil {
			w.key(k)
			w.value(*v)
		}
	}
	optStr("StringEquals", r.StringEquals)
	w.fStr("StringEqualsPath", r.StringEqualsPath)
	optStr("StringMatches", r.StringMatches)
	optStr("StringLessThan", r.StringLessThan)
	optStr("StringGreaterThan", r.StringGreaterThan)
	optNum("NumericEquals", r.NumericEquals)
	w.fStr("NumericEqualsPath", r.NumericEqualsPath)
	optNum("NumericLessThan", r.NumericLessThan)
	optNum("NumericLessThanEquals", r.NumericLessThanEquals)
	optNum("NumericGreaterThan", r.NumericGreaterThan)
	optNum("NumericGreaterThanEquals", r.NumericGreaterThanEquals)
	optBool("BooleanEquals", r.BooleanEquals)
	w.fStr("BooleanEqualsPath", r.BooleanEqualsPath)
	optStr("TimestampLessThan", r.TimestampLessThan)
	optStr("TimestampGreaterThan", r.TimestampGreaterThan)
	optBool("IsPresent", r.IsPresent)
	optBool("IsNull", r.IsNull)
	optBool("IsString", r.IsString)
	optBool("IsNumeric", r.IsNumeric)
	optBool("IsBoolean", r.IsBoolean)
	rules := func(k string, rs []ChoiceRule) {
		if len(rs) == 0 {
			return
		}
		w.key(k)
		w.open('[')
		for i := range rs {
			w.item()
			w.rule(&rs[i])
		}
		w.close(']')
	}
	rules("And", r.And)
	rules("Or", r.Or)
	if r.Not != nil {
		w.key("Not")
		w.rule(r.Not)
	}
	w.fStr("Next", r.Next)
	w.close('}')
}
