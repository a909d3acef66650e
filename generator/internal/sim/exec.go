package sim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/irflow/irflow/generator/internal/asl"
)

// Options configure one execution.
type Options struct {
	// Invoker does the work of Task states. Required.
	Invoker Invoker
	// Execution fills $$.Execution and $$.StateMachine.
	Execution Execution
	// Start is the virtual time the execution starts at.
	Start time.Time
	// Seed makes retry jitter, task tokens and States.UUID repeatable.
	Seed uint64
	// MaxTransitions stops a runaway execution (default 25,000, Step
	// Functions' history limit); exceeding it is a Fatal error.
	MaxTransitions int
	// Observer, when set, hears of every state as it enters and ends.
	Observer func(Event)
}

// Execution is what the context object says about the execution.
type Execution struct {
	ID, Name, RoleArn string
	StateMachineID    string
	StateMachineName  string
}

// Status of an execution.
const (
	StatusSucceeded = "SUCCEEDED"
	StatusFailed    = "FAILED"
	StatusTimedOut  = "TIMED_OUT"
)

// Result is how an execution ended.
type Result struct {
	Status string
	// Output of a SUCCEEDED execution.
	Output any
	// Error and Cause of a FAILED (or TIMED_OUT) execution.
	Error, Cause string
	// Transitions counts the states entered, in branches too.
	Transitions int
	// Duration is the virtual time the execution took.
	Duration time.Duration
}

// env is what intrinsic functions may use besides their arguments.
type env struct {
	rng *rand.Rand
}

type execution struct {
	ctx         context.Context
	prog        *program
	opts        Options
	env         *env
	sched       *scheduler
	start       time.Time
	transitions int
	tokens      int
	fatal       error
	execInfo    map[string]any
	smInfo      map[string]any
}

// Run executes the definition with the input (a JSON value, see Decode).
// States errors end the execution FAILED in the Result; the error return is
// for what stops the simulation itself (a Fatal: unsupported definition,
// failing Invoker, cancelled context).
func Run(ctx context.Context, sm *asl.StateMachine, input any, opts Options) (*Result, error) {
	if opts.Invoker == nil {
		return nil, errors.New("sim: no Invoker")
	}
	prog, err := compile(sm)
	if err != nil {
		return nil, &Fatal{Err: fmt.Errorf("cannot simulate this definition: %w", err)}
	}
	if opts.MaxTransitions <= 0 {
		opts.MaxTransitions = 25000
	}
	var deadline time.Time
	if sm.TimeoutSeconds > 0 {
		deadline = opts.Start.Add(time.Duration(sm.TimeoutSeconds) * time.Second)
	}
	sched, root := newScheduler(opts.Start, deadline)
	x := &execution{ctx: ctx, prog: prog, opts: opts, sched: sched, start: opts.Start,
		env: &env{rng: rand.New(rand.NewPCG(opts.Seed, 0x1f2e3d4c))}}
	x.execInfo = map[string]any{
		"Id": opts.Execution.ID, "Name": opts.Execution.Name, "RoleArn": opts.Execution.RoleArn,
		"StartTime": timestamp(opts.Start), "Input": input, "RedriveCount": num(0),
	}
	x.smInfo = map[string]any{"Id": opts.Execution.StateMachineID, "Name": opts.Execution.StateMachineName}

	out, err := x.machine(root, sm, input, nil)
	res := &Result{Transitions: x.transitions, Duration: sched.now.Sub(opts.Start)}
	if x.fatal != nil {
		return nil, x.fatal
	}
	var se *Error
	switch {
	case err == nil:
		res.Status, res.Output = StatusSucceeded, out
	case errors.Is(err, errTimedOut):
		res.Status, res.Error, res.Cause = StatusTimedOut, asl.ErrTimeout, "the execution ran longer than its TimeoutSeconds"
	case errors.As(err, &se):
		res.Status, res.Error, res.Cause = StatusFailed, se.Name, se.Cause
	default:
		return nil, err
	}
	return res, nil
}

func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// alive reports what must stop the process before its next state.
func (x *execution) alive() error {
	switch {
	case x.fatal != nil:
		return x.fatal
	case x.sched.timedOut:
		return errTimedOut
	}
	if err := x.ctx.Err(); err != nil {
		return x.setFatal(&Fatal{Err: err})
	}
	return nil
}

func (x *execution) setFatal(err error) error {
	if x.fatal == nil {
		x.fatal = err
	}
	return err
}

func (x *execution) emit(ev Event) {
	if x.opts.Observer != nil {
		x.opts.Observer(ev)
	}
}

// machine runs one scope (the top level, a branch, an item processor) from
// StartAt until a state ends it.
func (x *execution) machine(p *proc, sm *asl.StateMachine, input any, scope []Frame) (any, error) {
	states := x.prog.states[sm]
	name := sm.StartAt
	for {
		if err := x.alive(); err != nil {
			return nil, err
		}
		x.transitions++
		if x.transitions > x.opts.MaxTransitions {
			return nil, x.setFatal(&Fatal{State: name, Err: fmt.Errorf("the execution went past %d state transitions (an endless loop?)", x.opts.MaxTransitions)})
		}
		st := states[name]
		ev := Event{Name: name, State: st, Scope: scope}
		x.emit(Event{Kind: StateEntered, Name: name, State: st, Scope: scope, At: x.since(), Input: input})
		out, next, err := x.state(p, name, st, input, scope, &ev)
		ev.At = x.since()
		if err != nil {
			var se *Error
			switch {
			case errors.As(err, &se):
				ev.Kind, ev.Error = StateFailed, se
			case errors.Is(err, errCancelled) || errors.Is(err, errTimedOut):
				ev.Kind = StateStopped
			default:
				var f *Fatal
				if !errors.As(err, &f) {
					err = &Fatal{State: name, Err: err}
				} else if f.State == "" {
					f.State = name
				}
				return nil, x.setFatal(err)
			}
			x.emit(ev)
			return nil, err
		}
		if err := checkSize(out, name, "output"); err != nil {
			ev.Kind, ev.Error = StateFailed, err
			x.emit(ev)
			return nil, err
		}
		ev.Kind, ev.Output, ev.Next = StateExited, out, next
		x.emit(ev)
		if next == "" {
			return out, nil
		}
		input, name = out, next
	}
}

func (x *execution) since() time.Duration { return x.sched.now.Sub(x.start) }

// state runs one state and returns its output and the next state ("" when
// it ends its scope).
func (x *execution) state(p *proc, name string, st asl.State, input any, scope []Frame, ev *Event) (any, string, error) {
	switch s := st.(type) {
	case *asl.Pass:
		return x.pass(name, s, input)
	case *asl.Task:
		return x.task(p, name, s, input, ev)
	case *asl.Choice:
		eff, err := x.inputPath(s.InputPath, input)
		if err != nil {
			return nil, "", err
		}
		next, err := x.choose(s, eff, x.context(name, 0, "", nil))
		if err != nil {
			return nil, "", err
		}
		out, err := x.outputPath(s.OutputPath, eff)
		return out, next, err
	case *asl.Wait:
		return x.wait(p, name, s, input)
	case *asl.Succeed:
		eff, err := x.inputPath(s.InputPath, input)
		if err != nil {
			return nil, "", err
		}
		out, err := x.outputPath(s.OutputPath, eff)
		return out, "", err
	case *asl.Fail:
		return nil, "", x.failState(name, s, input)
	case *asl.Parallel:
		return x.parallel(p, name, s, input, scope, ev)
	case *asl.Map:
		return x.mapState(p, name, s, input, scope, ev)
	}
	return nil, "", &Fatal{State: name, Err: fmt.Errorf("state type %q is not supported", st.StateType())}
}

func (x *execution) pass(name string, s *asl.Pass, input any) (any, string, error) {
	eff, err := x.inputPath(s.InputPath, input)
	if err != nil {
		return nil, "", err
	}
	result := eff
	switch {
	case s.Result != nil:
		result = s.Result
	case s.Parameters != nil:
		if result, err = x.template(s.Parameters, eff, x.context(name, 0, "", nil)); err != nil {
			return nil, "", err
		}
	}
	out, err := x.resultPath(s.ResultPath, input, result)
	if err == nil {
		out, err = x.outputPath(s.OutputPath, out)
	}
	return out, s.Next, err
}

func (x *execution) wait(p *proc, name string, s *asl.Wait, input any) (any, string, error) {
	eff, err := x.inputPath(s.InputPath, input)
	if err != nil {
		return nil, "", err
	}
	var d time.Duration
	switch {
	case s.SecondsPath != "":
		v, ok := x.prog.path(s.SecondsPath).Get(eff, x.context(name, 0, "", nil))
		n, isInt := integer(v)
		if !ok || !isInt || n < 0 {
			return nil, "", statesErr(asl.ErrRuntime, "SecondsPath '%s' does not point to a non-negative integer", s.SecondsPath)
		}
		d = time.Duration(n) * time.Second
	case s.Timestamp != "" || s.TimestampPath != "":
		ts := s.Timestamp
		if s.TimestampPath != "" {
			v, _ := x.prog.path(s.TimestampPath).Get(eff, x.context(name, 0, "", nil))
			ts, _ = v.(string)
		}
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			return nil, "", statesErr(asl.ErrRuntime, "TimestampPath '%s' does not point to an RFC 3339 timestamp", s.TimestampPath)
		}
		d = t.Sub(x.sched.now)
	default:
		d = time.Duration(s.Seconds) * time.Second
	}
	if err := p.sleep(d); err != nil {
		return nil, "", err
	}
	out, err := x.outputPath(s.OutputPath, eff)
	return out, s.Next, err
}

func (x *execution) failState(name string, s *asl.Fail, input any) error {
	get := func(value, path string) (string, error) {
		if path == "" {
			return value, nil
		}
		v, err := x.dynamic(path, path, input, x.context(name, 0, "", nil))
		if err != nil {
			return "", err
		}
		str, ok := v.(string)
		if !ok {
			return "", statesErr(asl.ErrRuntime, "%s does not point to a string", path)
		}
		return str, nil
	}
	e, err := get(s.Error, s.ErrorPath)
	if err != nil {
		return err
	}
	c, err := get(s.Cause, s.CausePath)
	if err != nil {
		return err
	}
	return &Error{Name: e, Cause: c}
}

// context builds $$ for a state.
func (x *execution) context(state string, retry int, token string, item map[string]any) map[string]any {
	c := map[string]any{
		"Execution":    x.execInfo,
		"StateMachine": x.smInfo,
		"State":        map[string]any{"EnteredTime": timestamp(x.sched.now), "Name": state, "RetryCount": num(retry)},
	}
	if token != "" {
		c["Task"] = map[string]any{"Token": token}
	}
	if item != nil {
		c["Map"] = map[string]any{"Item": item}
	}
	return c
}

func (x *execution) inputPath(p *asl.Path, input any) (any, error) {
	return x.selectPath("InputPath", p, input)
}

func (x *execution) outputPath(p *asl.Path, output any) (any, error) {
	return x.selectPath("OutputPath", p, output)
}

func (x *execution) selectPath(field string, p *asl.Path, v any) (any, error) {
	switch {
	case p == nil:
		return v, nil
	case p.Null:
		return map[string]any{}, nil
	}
	got, ok := x.prog.path(p.Value).Get(v, nil)
	if !ok {
		return nil, statesErr(asl.ErrRuntime, "Invalid path '%s' in %s: no value at that path in '%s'", p.Value, field, clip(mustCompact(v), 300))
	}
	return got, nil
}

// resultPath puts result into the raw input (ResultPath), or replaces it (absent or "$"),
// or drops it (null).
func (x *execution) resultPath(p *asl.Path, raw, result any) (any, error) {
	switch {
	case p == nil:
		return result, nil
	case p.Null:
		return raw, nil
	}
	out, err := x.prog.path(p.Value).Set(raw, result)
	if err != nil {
		return nil, statesErr(asl.ErrResultPath, "%v", err)
	}
	return out, nil
}

// checkSize enforces the 256 KiB payload limit.
func checkSize(v any, state, what string) *Error {
	n, ok := jsonSize(v)
	if !ok {
		s, err := compact(v)
		if err != nil {
			return statesErr(asl.ErrRuntime, "state %s: %s is not JSON: %v", state, what, err)
		}
		n = len(s)
	}
	if n > MaxPayloadBytes {
		return statesErr(ErrDataLimit, "the %s of state %q is %d bytes; Step Functions allows %d", what, state, n, MaxPayloadBytes)
	}
	return nil
}
