package taskrt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
)

// HandlerFunc is an action's logic.
type HandlerFunc func(ctx context.Context, p *contract.Payload) (*contract.Result, error)

// Runtime wraps an action's handler with what every task does: decode and
// validate the payload, log with the case's coordinates, append the start
// and the result (or error) to the audit chain, and report named errors.
type Runtime struct {
	Action string
	Handle HandlerFunc
	// Audit is the case's audit chain; nil skips auditing (unit tests).
	Audit audit.Auditor
	Log   *slog.Logger

	// Targets, when set with New, Cfg and Env, makes the step act in the
	// incident's account and region: for a target outside the home
	// account or region, each invocation builds its handler with New from
	// the target's config (the member account's responder role), Env's
	// HomeConfig keeping irflow's stores on Cfg. Handle serves the rest.
	Targets *Targets
	New     Constructor
	Cfg     aws.Config
	Env     Env
}

// handlerFor returns the handler of this invocation: Handle, or one built
// for the incident's account and region.
func (rt *Runtime) handlerFor(ctx context.Context, p *contract.Payload) (HandlerFunc, error) {
	if rt.Targets == nil || rt.New == nil || p.Incident == nil {
		return rt.Handle, nil
	}
	inc := p.Incident
	cfg, remote, err := rt.Targets.Config(ctx, rt.Action, inc.CaseID, Target{Partition: inc.Partition, Account: inc.Account, Region: inc.Region})
	if err != nil || !remote {
		return rt.Handle, err
	}
	env := rt.Env
	home := rt.Cfg
	env.HomeConfig = &home
	return rt.New(cfg, env), nil
}

// NewLogger returns the JSON logger tasks use. Callers never pass a payload
// or a task token to it.
func NewLogger(w io.Writer) *slog.Logger {
	if w == nil {
		w = os.Stdout
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// LoggerOr is log, or NewLogger(nil) when log is nil (a handler built
// without one).
func LoggerOr(log *slog.Logger) *slog.Logger {
	if log == nil {
		return NewLogger(nil)
	}
	return log
}

// NowUTC is now() in UTC, or the wall clock's time when now is nil (a
// handler built without a clock).
func NowUTC(now func() time.Time) time.Time {
	if now == nil {
		now = time.Now
	}
	return now().UTC()
}

// Invoke is the Lambda handler: lambda.Start(rt.Invoke).
func (rt *Runtime) Invoke(ctx context.Context, raw json.RawMessage) (json.RawMessage, error) {
	log := LoggerOr(rt.Log)
	p, err := contract.DecodePayload(raw)
	if err != nil {
		log.Error("payload rejected", "action", rt.Action, "error", err.Error(), "errorType", contract.ErrorName(err))
		return nil, err
	}
	if p.Action != rt.Action {
		err := &contract.InvalidInputError{Field: "action", Reason: "this function runs " + rt.Action + ", not " + p.Action}
		log.Error("payload rejected", "action", rt.Action, "error", err.Error())
		return nil, err
	}
	log = log.With("caseId", p.CaseID(), "executionId", p.Execution.ID, "step", p.Step, "action", p.Action, "mode", p.Mode, "dryRun", p.DryRun())
	start := time.Now()
	log.Info("start")
	// The start record and the handler share the invocation's time less
	// the reserve; the result record may use the reserve. The start record
	// is written while the handler reads; the handler's first request that
	// may change something waits for it (gate.go).
	hctx, reserve, cancel := handlerContext(ctx)
	defer cancel()
	g := newGate()
	var startRec *audit.Record
	go func(ctx context.Context) {
		rec, err := rt.audit(ctx, p, p.CaseID(), "start", "", "", map[string]any{"mode": p.Mode, "with": p.With, "dryRun": p.DryRun()}, nil, p.Chain)
		startRec = rec
		g.open(err)
	}(hctx)

	if inc := p.Incident; inc != nil {
		hctx = WithTarget(hctx, Target{Partition: inc.Partition, Account: inc.Account, Region: inc.Region})
	}
	var res *contract.Result
	handle, herr := rt.handlerFor(hctx, p)
	if herr == nil {
		res, herr = handle(withGate(hctx, g), p)
	}
	if err := g.wait(ctx); err != nil {
		if outOfTime(hctx, ctx) {
			err = &contract.RetryableError{Op: rt.Action, Err: fmt.Errorf("audit start record not written %v before the function's timeout: %w", reserve, err)}
		}
		err = contract.Classified(err)
		log.Error("audit append failed", "error", err.Error(), "errorType", contract.ErrorName(err))
		return nil, err
	}
	caseID := p.CaseID()
	if herr == nil && res == nil {
		herr = errors.New("handler returned no result")
	}
	if herr != nil && outOfTime(hctx, ctx) {
		// Out of time (SDK backoff under throttling, a slow API), not out
		// of luck: hand the step back to Step Functions' Retry, whose
		// backoff costs no Lambda time, before Lambda kills the function
		// with a States.Timeout that no Retry matches.
		herr = &contract.RetryableError{Op: rt.Action, Err: fmt.Errorf("stopped %v before the function's timeout: %w", reserve, herr)}
	}
	if herr != nil {
		herr = contract.Classified(herr)
		log.Error("failed", "errorType", contract.ErrorName(herr), "error", herr.Error(), "ms", time.Since(start).Milliseconds())
		if _, aerr := rt.audit(ctx, p, caseID, "error", "ERROR", herr.Error(), map[string]any{"errorType": contract.ErrorName(herr)}, startRec, nil); aerr != nil {
			log.Error("audit append failed", "error", aerr.Error())
		}
		return nil, herr
	}
	prev := startRec
	if caseID == "" {
		// Resolve target: the case is known only now, and its chain is
		// usually empty (a genesis guess; AppendAfter falls back to reading
		// the head when the case was retaken).
		caseID = caseOf(res)
		prev = &genesis
	}
	rec, err := rt.audit(ctx, p, caseID, "result", res.Status, res.Summary, map[string]any{"evidence": nonNil(res.Evidence), "outputs": res.Outputs}, prev, nil)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			// The action is done but unrecorded: actions are idempotent,
			// so Step Functions' Retry redoes it and records it.
			err = &contract.RetryableError{Op: rt.Action, Err: fmt.Errorf("audit result record not written before the function's timeout: %w", err)}
		}
		err = contract.Classified(err)
		log.Error("audit append failed", "error", err.Error(), "errorType", contract.ErrorName(err))
		return nil, err
	}
	if rec != nil {
		res.Chain = &contract.ChainHead{Seq: rec.Seq, Hash: rec.Hash}
	}
	log.Info("done", "status", res.Status, "summary", res.Summary, "evidence", len(res.Evidence), "ms", time.Since(start).Milliseconds())
	return json.Marshal(res)
}

// Time kept back from the handler before the invocation's deadline (the
// Lambda timeout), for turning a handler that ran out of time into a
// contract.RetryableError and auditing it: a tenth of the time left, within bounds.
const (
	MinTimeReserve = 2 * time.Second
	MaxTimeReserve = 10 * time.Second
)

// outOfTime reports whether the handler's time (hctx) ran out while the
// invocation (ctx) still has its reserve.
func outOfTime(hctx, ctx context.Context) bool {
	return hctx.Err() == context.DeadlineExceeded && ctx.Err() == nil
}

// handlerContext is ctx with its deadline, if it has one, brought forward
// by the time reserve.
func handlerContext(ctx context.Context) (context.Context, time.Duration, context.CancelFunc) {
	dl, ok := ctx.Deadline()
	if !ok {
		return ctx, 0, func() {}
	}
	reserve := min(max(time.Until(dl)/10, MinTimeReserve), MaxTimeReserve)
	hctx, cancel := context.WithDeadline(ctx, dl.Add(-reserve))
	return hctx, reserve, cancel
}

// audit appends one record when the case is known (resolve-target learns it
// only from its own result) and returns it (nil when none was written).
// prev is the chain's head the runtime expects (the step's start record, or
// &genesis for an empty chain), nil when unknown: with an auditor that
// takes it, the record is put without reading the head first. head is the
// one the step before handed over (chainHead), nil when none: with an
// auditor that takes it, the record is put after it, checked.
func (rt *Runtime) audit(ctx context.Context, p *contract.Payload, caseID, event, status, summary string, detail map[string]any, prev *audit.Record, head *contract.ChainHead) (*audit.Record, error) {
	if rt.Audit == nil || caseID == "" {
		return nil, nil
	}
	d, err := json.Marshal(detail)
	if err != nil {
		return nil, err
	}
	r := audit.Record{CaseID: caseID, ExecutionID: p.Execution.ID, Step: p.Step, Action: p.Action,
		Event: event, Status: status, Summary: summary, Detail: string(d)}
	if a, ok := rt.Audit.(headAppender); ok && head != nil {
		r, err = a.AppendOnHead(ctx, *head, r)
	} else if a, ok := rt.Audit.(afterAppender); ok && prev != nil {
		if prev == &genesis {
			prev = nil
		}
		r, err = a.AppendAfter(ctx, prev, r)
	} else {
		r, err = rt.Audit.Append(ctx, r)
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// headAppender is an auditor that can put a record after a head it was
// told, checking it (audit.Chain).
type headAppender interface {
	AppendOnHead(ctx context.Context, head audit.Head, r audit.Record) (audit.Record, error)
}

// afterAppender is an auditor that can put a record after a known head
// (audit.Chain).
type afterAppender interface {
	AppendAfter(ctx context.Context, prev *audit.Record, r audit.Record) (audit.Record, error)
}

// genesis stands for "the chain is empty" where audit takes a head.
var genesis audit.Record

func caseOf(res *contract.Result) string {
	switch inc := res.Outputs["incident"].(type) {
	case *incident.Incident:
		return inc.CaseID
	case incident.Incident:
		return inc.CaseID
	}
	return ""
}

func nonNil(ev []contract.Evidence) []contract.Evidence {
	if ev == nil {
		return []contract.Evidence{}
	}
	return ev
}
