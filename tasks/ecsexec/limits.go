package ecsexec

import "time"

// Limits bound what one session may cost. Zero fields take the defaults in
// DefaultLimits.
type Limits struct {
	// MaxFrameBytes bounds one websocket message. The agent sends at most
	// 1024 payload bytes a frame plus a few bytes of an unfinished UTF-8
	// sequence (agent session/config, StreamDataPayloadSize; shell.go,
	// processStdoutData), plus the 120-byte header.
	MaxFrameBytes int
	// MaxOutputBytes bounds what Run writes to stdout.
	MaxOutputBytes int64
	// IdleTimeout ends a session whose agent sends no frame for this long.
	IdleTimeout time.Duration
	// HandshakeTimeout bounds a handshake the agent started.
	HandshakeTimeout time.Duration
	// ReadyWait is how long stdin waits for the agent to show it is ready
	// (a completed handshake, or output). An agent that skips the
	// handshake, as ECS Exec does without a KMS key, discards input that
	// arrives before it decided to skip (agent datachannel.go,
	// processStreamDataMessage); a command that reads before it writes
	// would wait forever, so after ReadyWait input goes anyway.
	ReadyWait time.Duration
	// MaxOutOfOrder is how far ahead of the next expected frame a frame may
	// be and still be buffered; GapTimeout is how long a gap may stay open.
	MaxOutOfOrder int
	GapTimeout    time.Duration
	// AckTimeout bounds the wait for an acknowledgement of our frames;
	// ResendInterval is how often the oldest unacknowledged one is resent.
	AckTimeout     time.Duration
	ResendInterval time.Duration
	// WriteTimeout bounds one websocket write to a peer that stopped reading.
	WriteTimeout time.Duration
}

// DefaultLimits suit a triage run inside a Lambda invocation of minutes.
var DefaultLimits = Limits{
	MaxFrameBytes:    64 << 10,
	MaxOutputBytes:   256 << 20,
	IdleTimeout:      2 * time.Minute,
	HandshakeTimeout: 30 * time.Second,
	ReadyWait:        2 * time.Second,
	MaxOutOfOrder:    256,
	GapTimeout:       30 * time.Second,
	AckTimeout:       30 * time.Second,
	ResendInterval:   500 * time.Millisecond,
	WriteTimeout:     10 * time.Second,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxFrameBytes > 0 {
		d.MaxFrameBytes = l.MaxFrameBytes
	}
	if l.MaxOutputBytes > 0 {
		d.MaxOutputBytes = l.MaxOutputBytes
	}
	for _, p := range []struct{ dst, src *time.Duration }{
		{&d.IdleTimeout, &l.IdleTimeout}, {&d.HandshakeTimeout, &l.HandshakeTimeout}, {&d.ReadyWait, &l.ReadyWait},
		{&d.GapTimeout, &l.GapTimeout}, {&d.AckTimeout, &l.AckTimeout},
		{&d.ResendInterval, &l.ResendInterval}, {&d.WriteTimeout, &l.WriteTimeout},
	} {
		if *p.src > 0 {
			*p.dst = *p.src
		}
	}
	if l.MaxOutOfOrder > 0 {
		d.MaxOutOfOrder = l.MaxOutOfOrder
	}
	return d
}

// Result describes a finished (or failed) session.
type Result struct {
	// ExitCode is the command's exit status when the agent sent one
	// (ExitCodeKnown). ECS Exec runs commands with the InteractiveCommands
	// plugin in a pty, which never sends an exit code (agent shell.go:
	// only NonInteractiveCommands calls sendExitCode), so a command that
	// must report success prints it itself.
	ExitCode      int
	ExitCodeKnown bool
	// Handshake is true when the agent performed the handshake.
	Handshake    bool
	AgentVersion string
	SessionType  string
	// ClosedOutput is the channel_closed message's text, if any.
	ClosedOutput string
	// Stderr collects StdErr and Error payloads, at most 4 KiB.
	Stderr      string
	OutputBytes int64
	Frames      int
	Duplicates  int
}

const maxStderr = 4 << 10
