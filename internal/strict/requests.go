package strict

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/irflow/irflow/internal/awsproxy"
)

// StepHeader is the request header a harness sets to say which playbook step
// (the task payload's step id) made an AWS request; the request log keeps
// it. Nothing in irflow sends it on AWS: the bench adds it with an SDK
// middleware to its handlers' clients (internal/demo).
const StepHeader = "X-Irflow-Step"

// maxLoggedRequests bounds the request log; older entries are dropped (and
// counted) beyond it.
const maxLoggedRequests = 500_000

// LoggedRequest is one AWS request the layer served (moto's answer or its
// own), with when it arrived and when the answer was written: the layer's
// view of one round trip.
type LoggedRequest struct {
	// Seq numbers requests from 1 in arrival order since the last reset.
	Seq int64 `json:"seq"`
	// Start and End are when the request arrived and its answer was done.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Service is the signing name (ec2, ecs, dynamodb, s3, ...); Operation
	// the API operation, or the HTTP method for REST APIs (S3, GuardDuty).
	Service   string `json:"service"`
	Operation string `json:"operation"`
	// Status is the HTTP status of the answer.
	Status int `json:"status"`
	// Resource is the DynamoDB table a DynamoDB request names, "" for other
	// services.
	Resource string `json:"resource,omitempty"`
	// Step is the StepHeader's value, "" when the request had none.
	Step      string `json:"step,omitempty"`
	AccessKey string `json:"accessKey,omitempty"`
}

// requestLog keeps every AWS request the layer served, in arrival order.
type requestLog struct {
	mu      sync.Mutex
	next    int64
	dropped int64
	all     []LoggedRequest
}

// begin numbers a request as it arrives.
func (rl *requestLog) begin() int64 {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	rl.next++
	return rl.next
}

func (rl *requestLog) add(lr LoggedRequest) {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	if len(rl.all) >= maxLoggedRequests {
		n := len(rl.all) / 2
		rl.all = append(rl.all[:0], rl.all[n:]...)
		rl.dropped += int64(n)
	}
	rl.all = append(rl.all, lr)
}

// since returns the requests numbered above seq, by number, and the highest
// number given so far (a mark for the next call).
func (rl *requestLog) since(seq int64) ([]LoggedRequest, int64) {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	out := []LoggedRequest{}
	for _, lr := range rl.all {
		if lr.Seq > seq {
			out = append(out, lr)
		}
	}
	// Answers finish out of order; the log is by arrival.
	sortBySeq(out)
	return out, rl.next
}

func (rl *requestLog) reset() {
	rl.mu.Lock()
	rl.all, rl.next, rl.dropped = nil, 0, 0
	rl.mu.Unlock()
}

func sortBySeq(rs []LoggedRequest) {
	slices.SortStableFunc(rs, func(a, b LoggedRequest) int { return cmp.Compare(a.Seq, b.Seq) })
}

// statusWriter notes the status of an answer on its way out.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// logged serves one prepared AWS request through serve and logs it.
func (l *Layer) logged(w http.ResponseWriter, r *http.Request, body []byte, svc awsproxy.Service, serve func(http.ResponseWriter)) {
	seq := l.requests.begin()
	start := time.Now().UTC()
	// Only a handler's requests (they name their step) are held: the
	// round-trip count reads nothing else, and the bench's own set-up
	// and reads need not wait.
	if l.cfg.Latency > 0 && r.Header.Get(StepHeader) != "" {
		select {
		case <-time.After(l.cfg.Latency):
		case <-r.Context().Done():
		}
	}
	sw := &statusWriter{ResponseWriter: w}
	serve(sw)
	op := svc.Operation
	if op == "" {
		op = r.Method
	}
	var table struct{ TableName string }
	if svc.Name == "dynamodb" {
		_ = json.Unmarshal(body, &table)
	}
	l.requests.add(LoggedRequest{Seq: seq, Start: start, End: time.Now().UTC(), Service: svc.Name, Operation: op,
		Status: sw.code, Resource: table.TableName, Step: r.Header.Get(StepHeader), AccessKey: svc.AccessKey})
}
