package sim

import (
	"context"
	"math"
	"time"

	"github.com/irflow/irflow/generator/internal/asl"
)

// EventKind says what happened to a state.
type EventKind uint8

// Event kinds, in the order a state goes through them.
const (
	// StateEntered: the state starts (one transition).
	StateEntered EventKind = iota + 1
	// StateExited: the state ended and the run goes on, to Next or, after a
	// Catch, to the catcher's Next (Caught is set).
	StateExited
	// StateFailed: the state threw an error nothing caught; its scope fails.
	StateFailed
	// StateStopped: the state was interrupted because a sibling branch failed
	// or the execution timed out.
	StateStopped
)

// Frame is one level of nesting: a Parallel branch or a Map iteration.
type Frame struct {
	State string // the Parallel or Map state
	Index int    // the branch or the item
}

// Event is one thing that happened to one state, reported as it happens.
type Event struct {
	Kind  EventKind
	Name  string
	State asl.State
	Scope []Frame
	// At is virtual time since the execution started.
	At     time.Duration
	Input  any    // StateEntered
	Output any    // StateExited
	Next   string // StateExited; "" when the state ended its scope
	// Error is the error of StateFailed, or the one a Catch took (Caught).
	Error  *Error
	Caught bool
	// Attempts are the tries of a Task, Parallel or Map, retries included.
	Attempts []Attempt
}

// Attempt is one try of a state: the raw result (a Task's result as the
// service returned it, before ResultSelector) or the error it threw.
type Attempt struct {
	Output any
	Error  *Error
}

// Forever is the Elapsed of a task that never answers (an approval nobody
// decides): the task runs into its TimeoutSeconds.
const Forever time.Duration = math.MaxInt64

// Call is one try of a Task state.
type Call struct {
	State    string
	Resource string
	// Input is the effective input: after InputPath and Parameters.
	Input any
	// Token is $$.Task.Token for .waitForTaskToken resources, else "".
	Token            string
	Attempt          int // 1 for the first try
	TimeoutSeconds   int
	HeartbeatSeconds int
	Now              time.Time // virtual time of the call
}

// Reply is what the work of a Task did.
type Reply struct {
	// Output is the result (a JSON value, see Decode), when Err is nil.
	Output any
	// Err is the States error the task threw (its Name is what Retry and
	// Catch match).
	Err *Error
	// Elapsed is how long the work took in virtual time; past the state's
	// TimeoutSeconds it becomes States.Timeout. Forever never answers.
	Elapsed time.Duration
}

// Invoker does the work of Task states. An error it returns is not a
// States error: it stops the simulation (as a Fatal).
type Invoker interface {
	Invoke(ctx context.Context, call *Call) (Reply, error)
}

// InvokerFunc adapts a function to Invoker.
type InvokerFunc func(ctx context.Context, call *Call) (Reply, error)

// Invoke implements Invoker.
func (f InvokerFunc) Invoke(ctx context.Context, call *Call) (Reply, error) { return f(ctx, call) }
