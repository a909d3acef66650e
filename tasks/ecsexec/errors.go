package ecsexec

import (
	"fmt"
	"time"
)

// Every way a session can fail is its own type, because aws-lambda-go reports
// a Go error's type name as errorType and Step Functions matches Retry and
// Catch on it. The phase fields say how far the session got: "connect" (the
// websocket and OpenDataChannel), "handshake" (until the agent completed the
// handshake or started output) and "stream".

// DialError says the websocket to the stream URL could not be opened. Status
// is the HTTP status of a refused upgrade, 0 when there was no response.
type DialError struct {
	Status int
	Err    error
}

func (e *DialError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("ecs exec: stream url refused the websocket (HTTP %d): %v", e.Status, e.Err)
	}
	return fmt.Sprintf("ecs exec: cannot open the stream url: %v", e.Err)
}

func (e *DialError) Unwrap() error { return e.Err }

// HandshakeError says the agent asked for something this client cannot do
// (KMS encryption, an unknown session type) or the handshake did not finish
// within Limits.HandshakeTimeout. Encryption is true when the agent asked
// for KMS encryption: a setting of the cluster (executeCommandConfiguration
// kmsKeyId) that irflow does not support, not a misbehaving peer.
type HandshakeError struct {
	Reason     string
	Encryption bool
}

func (e *HandshakeError) Error() string { return "ecs exec: handshake failed: " + e.Reason }

// ProtocolError says the peer sent something that is not a valid frame:
// too short, a bad header or payload length, an unknown or unprintable type,
// a text websocket message, or (Digest) a payload whose SHA-256 does not
// match the frame's digest.
type ProtocolError struct {
	Reason string
	Digest bool
}

func (e *ProtocolError) Error() string { return "ecs exec: protocol error: " + e.Reason }

// FrameTooLargeError says a websocket message exceeded Limits.MaxFrameBytes.
// The client stops reading it at the limit, so a hostile peer cannot make it
// buffer more.
type FrameTooLargeError struct {
	Limit int
}

func (e *FrameTooLargeError) Error() string {
	return fmt.Sprintf("ecs exec: frame larger than %d bytes", e.Limit)
}

// SequenceError says the output stream cannot be put back in order: a frame
// too far ahead of the next expected one (a gap wider than
// Limits.MaxOutOfOrder), or a gap that stayed open for Limits.GapTimeout.
type SequenceError struct {
	Expected int64
	Got      int64
	Reason   string
}

func (e *SequenceError) Error() string {
	return fmt.Sprintf("ecs exec: output sequence broken: expected %d, got %d: %s", e.Expected, e.Got, e.Reason)
}

// OutputLimitError says the command wrote more than Limits.MaxOutputBytes.
// The first MaxOutputBytes bytes were written to stdout.
type OutputLimitError struct {
	Limit int64
}

func (e *OutputLimitError) Error() string {
	return fmt.Sprintf("ecs exec: output exceeds %d bytes", e.Limit)
}

// IdleTimeoutError says the peer sent no frame at all for Limits.IdleTimeout.
type IdleTimeoutError struct {
	Idle  time.Duration
	Phase string
}

func (e *IdleTimeoutError) Error() string {
	return fmt.Sprintf("ecs exec: no frame from the agent for %s during %s", e.Idle, e.Phase)
}

// AckTimeoutError says the agent did not acknowledge one of our frames
// (input or handshake response) within Limits.AckTimeout, resends included.
type AckTimeoutError struct {
	Sequence int64
	Waited   time.Duration
}

func (e *AckTimeoutError) Error() string {
	return fmt.Sprintf("ecs exec: input frame %d not acknowledged after %s", e.Sequence, e.Waited)
}

// DeadlineError says the caller's context ended (its deadline, or a cancel)
// before the agent closed the channel.
type DeadlineError struct {
	Phase string
	Err   error
}

func (e *DeadlineError) Error() string {
	return fmt.Sprintf("ecs exec: %v during %s", e.Err, e.Phase)
}

func (e *DeadlineError) Unwrap() error { return e.Err }

// ConnectionLostError says the websocket ended without a channel_closed
// message: the command's output may be incomplete.
type ConnectionLostError struct {
	Phase string
	Err   error
}

func (e *ConnectionLostError) Error() string {
	return fmt.Sprintf("ecs exec: connection lost during %s: %v", e.Phase, e.Err)
}

func (e *ConnectionLostError) Unwrap() error { return e.Err }
