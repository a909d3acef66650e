package fakeagent

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/google/shlex"

	"github.com/irflow/irflow/tasks/ecsexec"
)

// Mode is a way for the agent to behave. Normal performs the handshake, as
// the agent does for NonInteractiveCommands sessions and for ECS Exec
// sessions of clusters with a KMS key (but asks for no encryption);
// SkipHandshake is what an ECS Exec session without a KMS key really does
// (agent plugins/sessionplugin/sessionplugin.go). The other modes misbehave.
type Mode int

// The agent's modes. Each hostile one is meant to end the client with one
// named error (see the ecsexec tests), except OutOfOrder and Duplicate,
// which a correct client absorbs.
const (
	Normal         Mode = iota
	SkipHandshake       // no handshake: output starts at sequence 0
	OutOfOrder          // output frames sent in swapped pairs
	Duplicate           // every output frame sent twice
	Gap                 // the second output frame is never sent
	WideGap             // an output frame numbered far beyond the window
	BadDigest           // the first output frame's digest is wrong
	Oversized           // a 1 MiB websocket message
	Garbage             // random bytes instead of a frame
	TextMessage         // a text websocket message
	NeverClose          // all output, then neither channel_closed nor close
	NeverAck            // no acknowledgement of any client frame
	HandshakeStall      // handshake request, then never a HandshakeComplete
	KMSHandshake        // asks for KMS encryption
	Silent              // accepts the token, then says nothing
	Drop                // closes the TCP connection after the first output frame
)

var modeNames = []string{"Normal", "SkipHandshake", "OutOfOrder", "Duplicate", "Gap", "WideGap",
	"BadDigest", "Oversized", "Garbage", "TextMessage", "NeverClose", "NeverAck", "HandshakeStall",
	"KMSHandshake", "Silent", "Drop"}

func (m Mode) String() string {
	if int(m) < len(modeNames) {
		return modeNames[m]
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Options configure an Agent.
type Options struct {
	// Container runs each session's command; nil runs Echo.
	Container Container
	// Mode is how the agent behaves on every session.
	Mode Mode
	// SendExitCode sends the container's exit status as an ExitCode frame,
	// as NonInteractiveCommands sessions do; ECS Exec sessions never do.
	SendExitCode bool
	// AgentVersion is reported in the handshake request.
	AgentVersion string
}

// Agent is a fake of the agent side of Session Manager data channels,
// served on 127.0.0.1. Create it with New and stop it with Close.
type Agent struct {
	opts   Options
	srv    *httptest.Server
	mu     sync.Mutex
	next   int
	byID   map[string]*session
	closed bool
}

type session struct {
	id, token string
	argv      []string
	record    Record
}

// Record is what the agent saw of one session, for assertions.
type Record struct {
	// TokenOK is true when the client presented the session's token.
	TokenOK bool
	// Handshake is the client's handshake response, if any.
	Handshake *ecsexec.HandshakeResponse
	// Stdin is the input delivered to the container, in order.
	Stdin []byte
	// DroppedInput counts input frames that arrived before the handshake
	// completed; the real agent acknowledges and discards those.
	DroppedInput int
	// Acks counts the client's acknowledgements.
	Acks int
	// ExitCode is the container's exit status.
	ExitCode int
	// Finished is true once the container ran and its output was sent.
	Finished bool
}

// New starts an agent on a loopback port.
func New(opts Options) *Agent {
	if opts.Container == nil {
		opts.Container = Echo
	}
	if opts.AgentVersion == "" {
		opts.AgentVersion = "3.3.0.0"
	}
	a := &Agent{opts: opts, byID: make(map[string]*session)}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	return a
}

// URL is the agent's base websocket URL, ws://127.0.0.1:port.
func (a *Agent) URL() string { return "ws" + strings.TrimPrefix(a.srv.URL, "http") }

// Close stops the server and every session.
func (a *Agent) Close() {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	a.srv.CloseClientConnections()
	a.srv.Close()
}

// NewSession registers a session that will run command, split into argv the
// way the agent does in a container (agent shell_unix.go,
// StartCommandExecutor: shlex.Split, then exec without a shell), and
// returns what ecs:ExecuteCommand would: the stream URL, a fresh token and
// the session id.
func (a *Agent) NewSession(command string) (ecsexec.Session, error) {
	argv, err := shlex.Split(command)
	if err != nil {
		return ecsexec.Session{}, fmt.Errorf("fakeagent: command: %w", err)
	}
	if len(argv) == 0 {
		return ecsexec.Session{}, fmt.Errorf("fakeagent: empty command")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.next++
	s := &session{
		id:    fmt.Sprintf("ecs-execute-command-%016x", a.next),
		token: ecsexec.NewUUID().String() + ecsexec.NewUUID().String(),
		argv:  argv,
	}
	a.byID[s.id] = s
	return ecsexec.Session{
		StreamURL: a.URL() + "/v1/data-channel/" + s.id + "?role=publish_subscribe",
		Token:     s.token,
		SessionID: s.id,
	}, nil
}

// Run runs command in a new session of the agent through ecsexec.Run
// with lim, for a minute at most, and returns the result and everything
// the session wrote.
func (a *Agent) Run(command string, lim ecsexec.Limits) (ecsexec.Result, []byte, error) {
	s, err := a.NewSession(command)
	if err != nil {
		return ecsexec.Result{}, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	res, err := ecsexec.Run(ctx, s, nil, &out, lim)
	return res, out.Bytes(), err
}

// Record returns what the agent saw of the session.
func (a *Agent) Record(sessionID string) Record {
	a.mu.Lock()
	defer a.mu.Unlock()
	if s, ok := a.byID[sessionID]; ok {
		r := s.record
		r.Stdin = append([]byte(nil), r.Stdin...)
		return r
	}
	return Record{}
}

func (a *Agent) update(s *session, f func(r *Record)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f(&s.record)
}

func (a *Agent) serve(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutPrefix(r.URL.Path, "/v1/data-channel/")
	a.mu.Lock()
	s := a.byID[id]
	a.mu.Unlock()
	if !ok || s == nil {
		http.NotFound(w, r)
		return
	}
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer conn.CloseNow()
	conn.SetReadLimit(1 << 20)
	p := newPeer(a, s, conn)
	p.run(r.Context())
}
