package fakeagent

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/irflow/irflow/tasks/ecsexec"
)

// Timing of the agent side (agent session/config: the resend scheduler and
// PrepareToCloseChannel's two seconds).
const (
	resendAfter  = 300 * time.Millisecond
	drainTimeout = 2 * time.Second
	digestOffset = 4 + 32 + 4 + 8 + 8 + 8 + 16
)

// peer is one connected client.
type peer struct {
	a    *Agent
	s    *session
	conn *websocket.Conn
	mode Mode

	mu            sync.Mutex
	seq           int64
	unacked       map[int64]*pending
	expectIn      int64
	inBuf         map[int64]ecsexec.Message
	needHandshake bool
	handshakeDone bool
	started       bool
	outFrames     int
	held          []byte

	stdin  *chanReader
	hsResp chan ecsexec.HandshakeResponse
}

type pending struct {
	raw  []byte
	sent time.Time
}

func newPeer(a *Agent, s *session, conn *websocket.Conn) *peer {
	return &peer{
		a: a, s: s, conn: conn, mode: a.opts.Mode,
		unacked: make(map[int64]*pending), inBuf: make(map[int64]ecsexec.Message),
		stdin: newChanReader(), hsResp: make(chan ecsexec.HandshakeResponse, 1),
		needHandshake: a.opts.Mode != SkipHandshake,
	}
}

func (p *peer) run(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer p.stdin.close()
	context.AfterFunc(ctx, p.stdin.close)
	if !p.open(ctx) {
		return
	}
	go p.readLoop(ctx, cancel)
	switch p.mode {
	case Silent:
		<-ctx.Done()
		return
	case TextMessage:
		p.conn.Write(ctx, websocket.MessageText, []byte(`{"hello":"agent"}`))
		<-ctx.Done()
		return
	case Garbage, Oversized:
		b := make([]byte, 200)
		if p.mode == Oversized {
			b = make([]byte, 1<<20)
		}
		rand.Read(b)
		p.conn.Write(ctx, websocket.MessageBinary, b)
		<-ctx.Done()
		return
	}
	go p.resendLoop(ctx)
	if p.needHandshake && !p.handshake(ctx) {
		return
	}
	p.container(ctx)
	p.drain(ctx)
	if p.mode == NeverClose {
		<-ctx.Done()
		return
	}
	p.closeChannel(ctx, "")
	select { // let the client close first, as MGS does
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
	}
}

// open reads the OpenDataChannel message and checks the token.
func (p *peer) open(ctx context.Context) bool {
	typ, data, err := p.conn.Read(ctx)
	var open struct{ TokenValue string }
	if err != nil || typ != websocket.MessageText || json.Unmarshal(data, &open) != nil || open.TokenValue != p.s.token {
		p.conn.Close(websocket.StatusPolicyViolation, "invalid token")
		return false
	}
	p.a.update(p.s, func(r *Record) { r.TokenOK = true })
	return true
}

func (p *peer) handshake(ctx context.Context) bool {
	actions := []map[string]any{{"ActionType": "SessionType",
		"ActionParameters": map[string]any{"SessionType": "InteractiveCommands", "Properties": nil}}}
	if p.mode == KMSHandshake {
		actions = append(actions, map[string]any{"ActionType": "KMSEncryption",
			"ActionParameters": map[string]any{"KMSKeyId": "arn:aws:kms:us-east-1:123456789012:key/fake"}})
	}
	req, _ := json.Marshal(map[string]any{"AgentVersion": p.a.opts.AgentVersion, "RequestedClientActions": actions})
	start := time.Now()
	p.sendStream(ctx, ecsexec.PayloadHandshakeRequest, req)
	var resp ecsexec.HandshakeResponse
	select {
	case resp = <-p.hsResp:
	case <-ctx.Done():
		return false
	}
	p.a.update(p.s, func(r *Record) { r.Handshake = &resp })
	for _, a := range resp.ProcessedClientActions {
		if a.ActionStatus != 1 { // the agent cancels the session (datachannel.go, handleHandshakeResponse)
			p.closeChannel(ctx, "handshake failed: "+a.Error)
			return false
		}
	}
	if p.mode == HandshakeStall {
		<-ctx.Done()
		return false
	}
	done, _ := json.Marshal(ecsexec.HandshakeComplete{HandshakeTimeToComplete: int64(time.Since(start))})
	p.mu.Lock()
	p.handshakeDone = true
	p.mu.Unlock()
	p.sendStream(ctx, ecsexec.PayloadHandshakeComplete, done)
	return true
}

func (p *peer) container(ctx context.Context) {
	w := &frameWriter{ctx: ctx, p: p}
	p.mu.Lock()
	p.started = true
	p.mu.Unlock()
	code := p.a.opts.Container(ctx, p.s.argv, p.stdin, w)
	p.stdin.close()
	p.mu.Lock()
	held := p.held
	p.held = nil
	p.mu.Unlock()
	if held != nil {
		p.conn.Write(ctx, websocket.MessageBinary, held)
	}
	if p.a.opts.SendExitCode {
		p.sendStream(ctx, ecsexec.PayloadExitCode, []byte("EXIT_CODE: "+itoa(code)))
	}
	p.a.update(p.s, func(r *Record) { r.ExitCode, r.Finished = code, true })
}

// drain waits until the client acknowledged everything, at most two seconds.
func (p *peer) drain(ctx context.Context) {
	deadline := time.Now().Add(drainTimeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		p.mu.Lock()
		n := len(p.unacked)
		p.mu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (p *peer) closeChannel(ctx context.Context, output string) {
	body, _ := json.Marshal(map[string]any{
		"MessageId": ecsexec.NewUUID().String(), "CreatedDate": time.Now().UTC().Format(time.RFC3339),
		"DestinationId": "fake-target", "SessionId": p.s.id, "MessageType": ecsexec.TypeChannelClosed,
		"SchemaVersion": 1, "Output": output,
	})
	m := ecsexec.Message{Type: ecsexec.TypeChannelClosed, SchemaVersion: 1,
		CreatedDate: uint64(time.Now().UnixMilli()), ID: ecsexec.NewUUID(), Payload: body}
	raw, _ := m.MarshalBinary()
	p.conn.Write(ctx, websocket.MessageBinary, raw)
}

// sendStream numbers and sends one output_stream_data frame, bending the
// protocol as the mode says.
func (p *peer) sendStream(ctx context.Context, pt ecsexec.PayloadType, payload []byte) {
	p.mu.Lock()
	seq := p.seq
	p.seq++
	n := 0
	if pt == ecsexec.PayloadOutput {
		p.outFrames++
		n = p.outFrames
	}
	p.mu.Unlock()
	var flags uint64
	if seq == 0 {
		flags = ecsexec.FlagSYN
	}
	m := ecsexec.Message{Type: ecsexec.TypeOutput, SchemaVersion: 1, CreatedDate: uint64(time.Now().UnixMilli()),
		Sequence: seq, Flags: flags, ID: ecsexec.NewUUID(), PayloadType: pt, Payload: payload}
	switch {
	case p.mode == Gap && n == 2:
		return // never sent, never resent
	case p.mode == WideGap && n == 2:
		m.Sequence += 1 << 20
	}
	raw, _ := m.MarshalBinary()
	if p.mode == BadDigest && n == 1 {
		raw[digestOffset] ^= 0xff
	}
	p.mu.Lock()
	p.unacked[seq] = &pending{raw: raw, sent: time.Now()}
	if p.mode == OutOfOrder && n > 0 {
		if p.held == nil {
			p.held = raw
			p.mu.Unlock()
			return
		}
		held := p.held
		p.held = nil
		p.mu.Unlock()
		p.conn.Write(ctx, websocket.MessageBinary, raw)
		p.conn.Write(ctx, websocket.MessageBinary, held)
		return
	}
	p.mu.Unlock()
	p.conn.Write(ctx, websocket.MessageBinary, raw)
	if p.mode == Duplicate && n > 0 {
		p.conn.Write(ctx, websocket.MessageBinary, raw)
	}
	if p.mode == Drop && n == 1 {
		p.conn.CloseNow()
	}
}

// resendLoop resends frames the client has not acknowledged, as the agent's
// ResendStreamDataMessageScheduler does.
func (p *peer) resendLoop(ctx context.Context) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			var due [][]byte
			p.mu.Lock()
			for _, f := range p.unacked {
				if now.Sub(f.sent) > resendAfter {
					f.sent = now
					due = append(due, f.raw)
				}
			}
			p.mu.Unlock()
			for _, raw := range due {
				p.conn.Write(ctx, websocket.MessageBinary, raw)
			}
		}
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
