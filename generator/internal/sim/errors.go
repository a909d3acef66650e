package sim

import (
	"errors"
	"fmt"

	"github.com/irflow/irflow/generator/internal/asl"
)

// Error is a States error: what a state throws, Retry and Catch match by
// Name, and a Catch hands on as {"Error": Name, "Cause": Cause}.
type Error struct {
	Name  string
	Cause string
}

func (e *Error) Error() string {
	if e.Cause == "" {
		return e.Name
	}
	return e.Name + ": " + e.Cause
}

// Error names the interpreter itself throws, beside those of package asl.
const (
	ErrHeartbeatTimeout = "States.HeartbeatTimeout"
	ErrDataLimit        = "States.DataLimitExceeded"
	ErrIntrinsic        = "States.IntrinsicFailure"
)

// MaxPayloadBytes is Step Functions' limit on a state's input, result and
// output (256 KiB).
const MaxPayloadBytes = 256 * 1024

func statesErr(name, format string, args ...any) *Error {
	return &Error{Name: name, Cause: fmt.Sprintf(format, args...)}
}

// terminal errors cannot be retried or caught, not even by States.ALL:
// States.Runtime and States.DataLimitExceeded.
func terminal(name string) bool { return name == asl.ErrRuntime || name == ErrDataLimit }

// matches reports whether a Retrier's or Catcher's ErrorEquals matches the
// error. States.ALL matches everything but the terminal errors;
// States.TaskFailed matches everything but those and States.Timeout.
func matches(errorEquals []string, name string) bool {
	if terminal(name) {
		return false
	}
	for _, e := range errorEquals {
		switch {
		case e == name, e == asl.ErrAll:
			return true
		case e == asl.ErrTaskFailed && name != asl.ErrTimeout:
			return true
		}
	}
	return false
}

// Fatal errors stop the simulation itself: the definition uses something
// the interpreter does not support, an Invoker failed, or the context was
// cancelled. They are never States errors and nothing catches them.
type Fatal struct {
	State string
	Err   error
}

func (f *Fatal) Error() string {
	if f.State == "" {
		return f.Err.Error()
	}
	return fmt.Sprintf("state %q: %v", f.State, f.Err)
}

func (f *Fatal) Unwrap() error { return f.Err }

// errCancelled unwinds a branch that a failed sibling stopped; errTimedOut
// unwinds everything when the execution's TimeoutSeconds passes.
var (
	errCancelled = errors.New("branch stopped: a sibling failed")
	errTimedOut  = errors.New("execution timed out")
)

// asStates returns err as a States error, or nil when it is not one.
func asStates(err error) *Error {
	var se *Error
	if errors.As(err, &se) {
		return se
	}
	return nil
}
