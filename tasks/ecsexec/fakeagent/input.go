package fakeagent

import (
	"context"
	"encoding/json"
	"io"
	"sync"

	"github.com/coder/websocket"

	"github.com/irflow/irflow/tasks/ecsexec"
)

// readLoop handles the client's frames until the connection ends.
func (p *peer) readLoop(ctx context.Context, cancel context.CancelFunc) {
	defer cancel()
	for {
		typ, data, err := p.conn.Read(ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageBinary {
			continue
		}
		m, err := ecsexec.ParseMessage(data)
		if err != nil {
			continue // the agent logs and drops invalid frames
		}
		switch m.Type {
		case ecsexec.TypeAcknowledge:
			var a struct{ AcknowledgedMessageSequenceNumber int64 }
			if json.Unmarshal(m.Payload, &a) == nil {
				p.mu.Lock()
				delete(p.unacked, a.AcknowledgedMessageSequenceNumber)
				p.mu.Unlock()
				p.a.update(p.s, func(r *Record) { r.Acks++ })
			}
		case ecsexec.TypeInput:
			if p.mode != NeverAck {
				p.input(ctx, m)
			}
		}
	}
}

// input follows the agent's handleStreamDataMessage (agent
// datachannel.go): the expected frame is processed, then acknowledged;
// later frames are acknowledged and buffered; earlier ones acknowledged
// again. A frame the pty is not ready for is neither acknowledged nor
// counted, so the client resends it.
func (p *peer) input(ctx context.Context, m ecsexec.Message) {
	p.mu.Lock()
	expect := p.expectIn
	p.mu.Unlock()
	switch {
	case m.Sequence < expect:
		p.ack(ctx, m)
		return
	case m.Sequence > expect:
		p.ack(ctx, m)
		p.mu.Lock()
		p.inBuf[m.Sequence] = m
		p.mu.Unlock()
		return
	}
	if !p.process(m) {
		return
	}
	p.ack(ctx, m)
	p.mu.Lock()
	p.expectIn++
	for {
		next, ok := p.inBuf[p.expectIn]
		if !ok {
			break
		}
		delete(p.inBuf, p.expectIn)
		p.mu.Unlock()
		p.process(next)
		p.mu.Lock()
		p.expectIn++
	}
	p.mu.Unlock()
}

// process delivers one input frame; false means "not ready, resend".
func (p *peer) process(m ecsexec.Message) bool {
	switch m.PayloadType {
	case ecsexec.PayloadHandshakeResponse:
		var resp ecsexec.HandshakeResponse
		if json.Unmarshal(m.Payload, &resp) == nil {
			select {
			case p.hsResp <- resp:
			default:
			}
		}
	case ecsexec.PayloadOutput:
		p.mu.Lock()
		early := p.needHandshake && !p.handshakeDone
		started := p.started
		p.mu.Unlock()
		if early {
			// Input before the handshake completed is acknowledged and
			// ignored (datachannel.go, processStreamDataMessage).
			p.a.update(p.s, func(r *Record) { r.DroppedInput++ })
			return true
		}
		if !started {
			return false // shell_unix.go: ErrHandlerNotReady
		}
		p.stdin.feed(m.Payload)
		p.a.update(p.s, func(r *Record) { r.Stdin = append(r.Stdin, m.Payload...) })
	}
	return true
}

func (p *peer) ack(ctx context.Context, m ecsexec.Message) {
	body, _ := json.Marshal(map[string]any{
		"AcknowledgedMessageType": m.Type, "AcknowledgedMessageId": m.ID.String(),
		"AcknowledgedMessageSequenceNumber": m.Sequence, "IsSequentialMessage": true,
	})
	a := ecsexec.Message{Type: ecsexec.TypeAcknowledge, SchemaVersion: 1, CreatedDate: uint64(nowMilli()),
		Flags: ecsexec.FlagSYN | ecsexec.FlagFIN, ID: ecsexec.NewUUID(), Payload: body}
	raw, _ := a.MarshalBinary()
	p.conn.Write(ctx, websocket.MessageBinary, raw)
}

// frameWriter cuts the container's output into frames of at most 1024
// bytes (agent session/config, StreamDataPayloadSize).
type frameWriter struct {
	ctx context.Context
	p   *peer
}

func (w *frameWriter) Write(b []byte) (int, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	for i := 0; i < len(b); i += 1024 {
		chunk := append([]byte(nil), b[i:min(i+1024, len(b))]...)
		w.p.sendStream(w.ctx, ecsexec.PayloadOutput, chunk)
	}
	return len(b), nil
}

// chanReader is the container's stdin: what the client sent, in order,
// without ever blocking the agent's read loop.
type chanReader struct {
	mu     sync.Mutex
	cond   *sync.Cond
	buf    []byte
	closed bool
}

func newChanReader() *chanReader {
	r := &chanReader{}
	r.cond = sync.NewCond(&r.mu)
	return r
}

func (r *chanReader) feed(b []byte) {
	r.mu.Lock()
	r.buf = append(r.buf, b...)
	r.mu.Unlock()
	r.cond.Broadcast()
}

func (r *chanReader) close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.cond.Broadcast()
}

// Read blocks until input arrives or the session ends.
func (r *chanReader) Read(b []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.buf) == 0 && !r.closed {
		r.cond.Wait()
	}
	if len(r.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(b, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}
