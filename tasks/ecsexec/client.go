package ecsexec

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/coder/websocket"
)

// Session is the session field of an ecs:ExecuteCommand response.
type Session struct {
	StreamURL string
	Token     string
	SessionID string
	// Header holds extra headers for the websocket upgrade. Recent plugins
	// add a SigV4 signature for service "ssmmessages" there when they have
	// credentials, and go on unsigned when they do not (plugin
	// communicator/websocketchannel.go, getV4SignatureHeader); the token in
	// the first message is what authenticates the client.
	Header http.Header
}

// Run opens the session's data channel, sends stdin to the command (once
// the agent is ready for it) and writes the command's output to stdout, in
// sequence order, until the agent closes the channel. It returns within
// ctx's deadline and the limits whatever the peer does; every failure is
// one of the named error types of this package, and the Result so far is
// returned with it.
//
// Stdin is read in 1024-byte frames as the plugin does; a blocking stdin
// that never returns keeps one goroutine alive until it does, so pass a
// finite reader. Output bytes are the pty's: see the package doc.
func Run(ctx context.Context, s Session, stdin io.Reader, stdout io.Writer, lim Limits) (Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c := &client{lim: lim.withDefaults(), stdout: stdout, stdin: stdin, phase: "connect"}
	c.in = newReorder(c.lim.MaxOutOfOrder)
	c.out = newOutbox(64)
	conn, resp, err := websocket.Dial(ctx, s.StreamURL, &websocket.DialOptions{HTTPHeader: s.Header})
	if err != nil {
		if ctx.Err() != nil {
			return c.res, &DeadlineError{Phase: c.phase, Err: ctx.Err()}
		}
		de := &DialError{Err: err}
		if resp != nil {
			de.Status = resp.StatusCode
		}
		return c.res, de
	}
	c.conn = conn
	conn.SetReadLimit(int64(c.lim.MaxFrameBytes) + 1)
	err = c.loop(ctx, s)
	if err == nil {
		closeBounded(conn)
	} else {
		conn.CloseNow()
	}
	return c.res, err
}

// closeBounded closes politely but waits at most a second for the peer's
// close frame.
func closeBounded(conn *websocket.Conn) {
	done := make(chan struct{})
	go func() { conn.Close(websocket.StatusNormalClosure, ""); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Second):
		conn.CloseNow()
	}
}

type client struct {
	conn   *websocket.Conn
	lim    Limits
	stdin  io.Reader
	stdout io.Writer
	in     *reorder
	out    *outbox
	res    Result
	phase  string
	ready  bool
	// handshakeAt is when a HandshakeRequest arrived; zero if none did.
	handshakeAt time.Time
	openedAt    time.Time
	lastFrame   time.Time
	input       chan []byte
	closed      bool
}

type inbound struct {
	typ      websocket.MessageType
	data     []byte
	err      error
	tooLarge bool
}

func (c *client) loop(ctx context.Context, s Session) error {
	open, _ := json.Marshal(openDataChannel{
		MessageSchemaVersion: "1.0", RequestID: NewUUID().String(), TokenValue: s.Token,
		ClientID: NewUUID().String(), ClientVersion: ClientVersion,
	})
	if err := c.write(ctx, websocket.MessageText, open); err != nil {
		return err
	}
	c.phase = "handshake"
	frames := make(chan inbound)
	go c.read(ctx, frames)
	tick := time.NewTicker(min(c.lim.ResendInterval/2, 100*time.Millisecond))
	defer tick.Stop()
	c.lastFrame = time.Now()
	c.openedAt = c.lastFrame
	for !c.closed {
		var input <-chan []byte
		if c.input != nil && c.out.room() {
			input = c.input
		}
		select {
		case <-ctx.Done():
			return &DeadlineError{Phase: c.phase, Err: ctx.Err()}
		case f := <-frames:
			if err := c.inbound(ctx, f); err != nil {
				return err
			}
		case chunk, ok := <-input:
			if !ok {
				c.input = nil
				continue
			}
			if err := c.send(ctx, PayloadOutput, chunk); err != nil {
				return err
			}
		case now := <-tick.C:
			if err := c.check(ctx, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// read hands websocket messages to the loop, reading at most
// MaxFrameBytes+1 bytes of each.
func (c *client) read(ctx context.Context, out chan<- inbound) {
	for {
		var f inbound
		typ, r, err := c.conn.Reader(ctx)
		if err == nil {
			f.typ = typ
			f.data, err = io.ReadAll(io.LimitReader(r, int64(c.lim.MaxFrameBytes)+1))
			f.tooLarge = len(f.data) > c.lim.MaxFrameBytes
		}
		f.err = err
		select {
		case out <- f:
		case <-ctx.Done():
			return
		}
		if f.err != nil || f.tooLarge {
			return
		}
	}
}

func (c *client) inbound(ctx context.Context, f inbound) error {
	switch {
	case f.err != nil && ctx.Err() != nil:
		return &DeadlineError{Phase: c.phase, Err: ctx.Err()}
	case f.err != nil:
		return &ConnectionLostError{Phase: c.phase, Err: f.err}
	case f.tooLarge:
		return &FrameTooLargeError{Limit: c.lim.MaxFrameBytes}
	case f.typ != websocket.MessageBinary:
		return &ProtocolError{Reason: "text websocket message from the agent"}
	}
	m, err := ParseMessage(f.data)
	if err != nil {
		return err
	}
	c.lastFrame = time.Now()
	c.res.Frames++
	return c.handle(ctx, m)
}

func (c *client) handle(ctx context.Context, m Message) error {
	switch m.Type {
	case TypeOutput:
		ready, dup, err := c.in.add(m, time.Now())
		if err != nil {
			return err
		}
		if dup {
			c.res.Duplicates++
		}
		if err := c.write(ctx, websocket.MessageBinary, ackFor(m)); err != nil {
			return err
		}
		for _, r := range ready {
			if err := c.deliver(ctx, r); err != nil {
				return err
			}
		}
	case TypeAcknowledge:
		var a acknowledgeContent
		if err := json.Unmarshal(m.Payload, &a); err != nil {
			return &ProtocolError{Reason: "acknowledge payload: " + err.Error()}
		}
		c.out.ack(a.SequenceNumber)
	case TypeChannelClosed:
		var cc channelClosed
		_ = json.Unmarshal(m.Payload, &cc) // the text is informative only
		c.res.ClosedOutput = cc.Output
		if err := c.in.open(); err != nil {
			return err
		}
		c.closed = true
	case TypeInput:
		return &ProtocolError{Reason: "input_stream_data from the agent"}
	}
	// start_publication, pause_publication and unknown types are ignored,
	// as the plugin does (streaming.go, OutputMessageHandler).
	return nil
}

func (c *client) deliver(ctx context.Context, m Message) error {
	switch m.PayloadType {
	case PayloadHandshakeRequest:
		var req HandshakeRequest
		if err := json.Unmarshal(m.Payload, &req); err != nil {
			return &ProtocolError{Reason: "handshake request: " + err.Error()}
		}
		c.handshakeAt = time.Now()
		c.res.AgentVersion = req.AgentVersion
		resp, st, fatal := answerHandshake(req)
		c.res.SessionType = st
		body, _ := json.Marshal(resp)
		if err := c.send(ctx, PayloadHandshakeResponse, body); err != nil {
			return err
		}
		return fatal
	case PayloadHandshakeComplete:
		c.res.Handshake = true
		c.setReady(ctx)
	case PayloadEncChallengeRequest:
		return &HandshakeError{Reason: "encryption challenge, but irflow never accepts encryption"}
	case PayloadOutput:
		c.setReady(ctx) // output without a handshake: the agent skipped it
		return c.output(m.Payload)
	case PayloadStdErr, PayloadError:
		if room := maxStderr - len(c.res.Stderr); room > 0 {
			c.res.Stderr += string(m.Payload[:min(room, len(m.Payload))])
		}
	case PayloadExitCode:
		c.res.ExitCode, c.res.ExitCodeKnown = parseExitCode(m.Payload)
	}
	return nil
}

func (c *client) setReady(ctx context.Context) {
	if c.ready {
		return
	}
	c.ready = true
	c.phase = "stream"
	if c.stdin != nil {
		c.input = make(chan []byte)
		go pump(ctx, c.stdin, c.input)
	}
}

func (c *client) output(p []byte) error {
	room := c.lim.MaxOutputBytes - c.res.OutputBytes
	if int64(len(p)) > room {
		n, _ := c.stdout.Write(p[:room])
		c.res.OutputBytes += int64(n)
		return &OutputLimitError{Limit: c.lim.MaxOutputBytes}
	}
	n, err := c.stdout.Write(p)
	c.res.OutputBytes += int64(n)
	return err
}

// send numbers, sends and keeps one input_stream_data frame until acknowledged.
func (c *client) send(ctx context.Context, pt PayloadType, payload []byte) error {
	seq := c.out.seq()
	raw, err := newMessage(TypeInput, seq, 0, pt, payload).MarshalBinary()
	if err != nil {
		return err
	}
	c.out.sent(seq, raw, time.Now())
	return c.write(ctx, websocket.MessageBinary, raw)
}

func (c *client) check(ctx context.Context, now time.Time) error {
	if idle := now.Sub(c.lastFrame); idle > c.lim.IdleTimeout {
		return &IdleTimeoutError{Idle: idle.Round(time.Millisecond), Phase: c.phase}
	}
	if !c.handshakeAt.IsZero() && !c.ready && now.Sub(c.handshakeAt) > c.lim.HandshakeTimeout {
		return &HandshakeError{Reason: "the agent did not complete the handshake within " + c.lim.HandshakeTimeout.String()}
	}
	if !c.ready && c.handshakeAt.IsZero() && now.Sub(c.openedAt) > c.lim.ReadyWait {
		c.setReady(ctx)
	}
	if err := c.in.stalled(now, c.lim.GapTimeout); err != nil {
		return err
	}
	if err := c.out.overdue(now, c.lim.AckTimeout); err != nil {
		return err
	}
	if raw := c.out.due(now, c.lim.ResendInterval); raw != nil {
		return c.write(ctx, websocket.MessageBinary, raw)
	}
	return nil
}

func (c *client) write(ctx context.Context, typ websocket.MessageType, b []byte) error {
	wctx, cancel := context.WithTimeout(ctx, c.lim.WriteTimeout)
	defer cancel()
	if err := c.conn.Write(wctx, typ, b); err != nil {
		if ctx.Err() != nil {
			return &DeadlineError{Phase: c.phase, Err: ctx.Err()}
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return &ConnectionLostError{Phase: c.phase, Err: errors.New("write timed out: the agent stopped reading")}
		}
		return &ConnectionLostError{Phase: c.phase, Err: err}
	}
	return nil
}

// pump reads stdin in frames of at most 1024 bytes, the plugin's
// StreamDataPayloadSize (plugin src/config/config.go).
func pump(ctx context.Context, r io.Reader, out chan<- []byte) {
	defer close(out)
	buf := make([]byte, 1024)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			select {
			case out <- append([]byte(nil), buf[:n]...):
			case <-ctx.Done():
				return
			}
		}
		if err != nil {
			return
		}
	}
}
