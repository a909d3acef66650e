package sim

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/irflow/irflow/generator/internal/asl"
)

// defaultTaskTimeout is Step Functions' TimeoutSeconds when a Task sets none.
const defaultTaskTimeout = 99999999

func (x *execution) task(p *proc, name string, t *asl.Task, input any, ev *Event) (any, string, error) {
	out, next, err := x.retrying(p, name, t.Retry, t.Catch, input, ev, func(attempt int) (any, error) {
		eff, err := x.inputPath(t.InputPath, input)
		if err != nil {
			return nil, err
		}
		token := ""
		if strings.HasSuffix(t.Resource, ".waitForTaskToken") {
			x.tokens++
			token = fmt.Sprintf("sim-token-%d-%s", x.tokens, strings.ReplaceAll(uuid4(x.env.rng), "-", ""))
		}
		ctx := x.context(name, attempt-1, token, nil)
		params := eff
		if t.Parameters != nil {
			if params, err = x.template(t.Parameters, eff, ctx); err != nil {
				return nil, err
			}
		}
		if err := checkSize(params, name, "input"); err != nil {
			return nil, err
		}
		reply, err := x.opts.Invoker.Invoke(x.ctx, &Call{State: name, Resource: t.Resource, Input: params, Token: token,
			Attempt: attempt, TimeoutSeconds: t.TimeoutSeconds, HeartbeatSeconds: t.HeartbeatSeconds, Now: x.sched.now})
		if err != nil {
			var f *Fatal
			if !errors.As(err, &f) {
				err = &Fatal{State: name, Err: err}
			}
			return nil, err
		}
		result, terr := x.await(p, t, reply)
		if terr != nil {
			if se := asStates(terr); se != nil {
				ev.Attempts = append(ev.Attempts, Attempt{Error: se})
			}
			return nil, terr
		}
		ev.Attempts = append(ev.Attempts, Attempt{Output: result})
		if err := checkSize(result, name, "result"); err != nil {
			return nil, err
		}
		if t.ResultSelector != nil {
			if result, err = x.template(t.ResultSelector, result, ctx); err != nil {
				return nil, err
			}
		}
		out, err := x.resultPath(t.ResultPath, input, result)
		if err == nil {
			out, err = x.outputPath(t.OutputPath, out)
		}
		return out, err
	})
	if err == nil && next == "" {
		next = t.Next
	}
	return out, next, err
}

// await lets the task's virtual time pass: its Elapsed, or its timeout when
// that comes first (States.Timeout; States.HeartbeatTimeout when a
// heartbeat was due first, as nothing sends heartbeats here).
func (x *execution) await(p *proc, t *asl.Task, r Reply) (any, error) {
	timeout := t.TimeoutSeconds
	if timeout == 0 {
		timeout = defaultTaskTimeout
	}
	limit := time.Duration(timeout) * time.Second
	if hb := time.Duration(t.HeartbeatSeconds) * time.Second; hb > 0 && r.Elapsed > hb {
		if err := p.sleep(hb); err != nil {
			return nil, err
		}
		return nil, statesErr(ErrHeartbeatTimeout, "no heartbeat within %d seconds", t.HeartbeatSeconds)
	}
	if r.Elapsed > limit {
		if err := p.sleep(limit); err != nil {
			return nil, err
		}
		return nil, statesErr(asl.ErrTimeout, "the task did not finish within %d seconds", timeout)
	}
	if err := p.sleep(r.Elapsed); err != nil {
		return nil, err
	}
	if r.Err != nil {
		return nil, r.Err
	}
	return r.Output, nil
}

// retrying runs try until it succeeds or no Retrier applies, waiting out each
// retry's backoff on the virtual clock; then the first matching Catcher
// takes the error. It returns the state's output and, after a Catch, the
// catcher's Next.
func (x *execution) retrying(p *proc, name string, retry []asl.Retrier, catch []asl.Catcher, input any, ev *Event, try func(attempt int) (any, error)) (any, string, error) {
	counts := make([]int, len(retry))
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			if err := x.alive(); err != nil {
				return nil, "", err
			}
		}
		out, err := try(attempt)
		if err == nil {
			return out, "", nil
		}
		se := asStates(err)
		if se == nil {
			return nil, "", err
		}
		if d, ok := x.backoff(retry, counts, se.Name); ok {
			if err := p.sleep(d); err != nil {
				return nil, "", err
			}
			continue
		}
		for _, c := range catch {
			if !matches(c.ErrorEquals, se.Name) {
				continue
			}
			out, err := x.resultPath(c.ResultPath, input, map[string]any{"Error": se.Name, "Cause": se.Cause})
			if err != nil {
				return nil, "", err
			}
			ev.Error, ev.Caught = se, true
			return out, c.Next, nil
		}
		return nil, "", se
	}
}

// backoff picks the first Retrier whose ErrorEquals matches; it retries when
// that retrier has attempts left. The delay is IntervalSeconds ×
// BackoffRate^(retries so far), capped by MaxDelaySeconds, and with FULL
// jitter a uniform random delay up to that.
func (x *execution) backoff(retry []asl.Retrier, counts []int, name string) (time.Duration, bool) {
	for i, r := range retry {
		if !matches(r.ErrorEquals, name) {
			continue
		}
		maxAttempts := 3
		if r.MaxAttempts != nil {
			maxAttempts = *r.MaxAttempts
		}
		if counts[i] >= maxAttempts {
			return 0, false
		}
		interval, rate := float64(r.IntervalSeconds), r.BackoffRate
		if interval == 0 {
			interval = 1
		}
		if rate == 0 {
			rate = 2
		}
		secs := interval * math.Pow(rate, float64(counts[i]))
		if r.MaxDelaySeconds > 0 {
			secs = math.Min(secs, float64(r.MaxDelaySeconds))
		}
		d := time.Duration(math.Min(secs, maxSleep.Seconds()) * float64(time.Second))
		if r.JitterStrategy == "FULL" {
			d = time.Duration(x.env.rng.Int64N(int64(d) + 1))
		}
		counts[i]++
		return d, true
	}
	return 0, false
}
