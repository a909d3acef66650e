package taskrt

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// The start-record gate (docs/design.md, "The audit chain"): a step's start
// record is written while its handler runs, and every AWS request of the
// handler that may change something waits until the record is on the
// chain. What a step reads (Describe*, List*, Get*, ...) overlaps the
// record's three round trips (read the head, kms:GenerateMac, conditional
// put) instead of following them; nothing is changed, in the world or in
// irflow's stores, before the chain says the step started, unless a
// handler says so explicitly (Ungated).

// gate opens once the step's start record is written, or failed.
type gate struct {
	done chan struct{}
	err  error
}

func newGate() *gate { return &gate{done: make(chan struct{})} }

// open records the start record's outcome and lets the waiting requests go.
func (g *gate) open(err error) {
	g.err = err
	close(g.done)
}

// wait blocks until the start record is written (nil) or failed (its
// error), or ctx ends.
func (g *gate) wait(ctx context.Context) error {
	select {
	case <-g.done:
		return g.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

type gateKey struct{}

func withGate(ctx context.Context, g *gate) context.Context {
	return context.WithValue(ctx, gateKey{}, g)
}

// Ungated returns ctx for requests that may go before the step's start
// record is written: writes to irflow's own stores that only record how to
// undo what the step is about to do (a containment ledger), so they can
// overlap the start record. A handler says so where it makes the request.
func Ungated(ctx context.Context) context.Context {
	return context.WithValue(ctx, gateKey{}, (*gate)(nil))
}

// readPrefixes are the operation names that only read: they never wait for
// the start record. Anything else (Create*, Modify*, Put*, Send*, Tag*,
// Update*, ...) waits. kms:GenerateMac and sts:AssumeRole change nothing
// either.
var readPrefixes = []string{"Describe", "List", "Get", "BatchGet", "Query", "Scan", "Head", "Lookup", "Filter", "Search", "GenerateMac", "VerifyMac", "AssumeRole"}

func readOnly(op string) bool {
	for _, p := range readPrefixes {
		if strings.HasPrefix(op, p) {
			return true
		}
	}
	return false
}

// withStartGate adds the middleware that holds a request that may change
// something until its context's gate opens.
func withStartGate(cfg aws.Config) aws.Config {
	cfg = cfg.Copy()
	cfg.APIOptions = append(cfg.APIOptions, func(st *middleware.Stack) error {
		// Finalize, ahead of the retryer: a request waits once, not per attempt.
		return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("irflowStartGate",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				if g, _ := ctx.Value(gateKey{}).(*gate); g != nil && !readOnly(awsmiddleware.GetOperationName(ctx)) {
					if err := g.wait(ctx); err != nil {
						return middleware.FinalizeOutput{}, middleware.Metadata{}, &startGateError{op: awsmiddleware.GetOperationName(ctx), err: err}
					}
				}
				return next.HandleFinalize(ctx, in)
			}), middleware.Before)
	})
	return cfg
}

// startGateError is a request the step did not send because its start
// record could not be written.
type startGateError struct {
	op  string
	err error
}

func (e *startGateError) Error() string {
	return "not sent: " + e.op + " waits for the step's audit start record, which was not written: " + e.err.Error()
}

func (e *startGateError) Unwrap() error { return e.err }
