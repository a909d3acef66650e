// Package faultproxy is a middleware in front of an AWS-compatible endpoint
// (moto server) that injects the faults a real AWS region produces under a
// burst: throttling, answered in each service's own protocol shape so the
// SDK classifies it as a throttle, HTTP 500s, and added latency. It wraps
// any http.Handler: an awsproxy.Forwarder to moto, or the strict layer in
// front of one (client → faults → strict → moto).
//
// The service of a request is identified by awsproxy.Identify, in this
// order: the X-Amz-Target header (the awsJson protocols: DynamoDB, ECS, SSM,
// CloudWatch Logs, Step Functions), the service of the SigV4 credential scope
// in the Authorization header (ec2, sns, iam, autoscaling, s3, ...), and
// last the Action form field of a query-protocol body. Each protocol gets its
// own error document and status code:
//
//	protocol            throttle                                   5xx
//	awsJson1.0/1.1      400 {"__type":"…#ThrottlingException"}     500 InternalServerError / InternalFailure
//	awsQuery            400 <ErrorResponse> Code Throttling         500 InternalFailure
//	ec2Query            503 <Response><Errors> RequestLimitExceeded 500 InternalError
//	restXml (S3)        503 <Error> SlowDown                        500 InternalError
//
// A fault is decided before the request is passed on, so a throttled or
// failed request never reaches the backend (what AWS does with a throttle).
// LostReplyRate adds the nastier case: the request is forwarded and takes
// effect, and the client gets a 500 instead of the answer, so its SDK
// resends a request that already succeeded.
//
// Requests under /moto-api/ (moto's own control API) and /irflow-strict/
// (the strict layer's) are never faulted or delayed. Decisions come from a seeded generator, so a run's fault rates
// reproduce; the exact requests faulted depend on arrival order.
package faultproxy

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/irflow/irflow/internal/awsproxy"
)

// Config sets the fault rates (0 to 1) and the latency.
type Config struct {
	// ThrottleRate is the fraction of requests answered with the service's
	// throttling error.
	ThrottleRate float64
	// ServerErrorRate is the fraction answered with an HTTP 500 internal
	// error, before the request reaches the backend.
	ServerErrorRate float64
	// LostReplyRate is the fraction forwarded to the backend whose reply is
	// replaced by an HTTP 500: the operation happened, the client cannot
	// know. 0 disables it.
	LostReplyRate float64
	// MinLatency and MaxLatency bound a uniformly random delay added to
	// every request before it is answered or forwarded.
	MinLatency, MaxLatency time.Duration
	// Seed seeds the fault and latency decisions.
	Seed uint64
	// MaxInFlight bounds the requests passed to the next handler at once
	// (0: no bound); the others wait in the proxy. moto server is one
	// Python process: a few dozen requests at once get through faster than
	// hundreds of threads fighting for its interpreter lock.
	MaxInFlight int
}

// Kinds of injected faults, as counted by Stats.
const (
	KindThrottle  = "throttle"
	KindServer    = "server-error"
	KindLostReply = "lost-reply"
)

// Proxy is an http.Handler that passes requests to the next handler and
// injects faults.
type Proxy struct {
	cfg  Config
	next http.Handler

	mu  sync.Mutex
	rng *rand.Rand

	requests atomic.Int64
	faults   atomic.Int64
	statsMu  sync.Mutex
	byKey    map[string]int64 // "service kind" → count

	observe func(awsproxy.Service) // tests: every identified request

	slots chan struct{} // MaxInFlight; nil when unbounded

	opsMu sync.Mutex
	ops   map[string]*OpStats // "service:Operation" → stats
}

// OpStats is what the next handler (the backend) did for one operation: how
// many requests reached it, and how long it took to answer them in all.
type OpStats struct {
	Requests  int64 `json:"requests"`
	BackendMs int64 `json:"backendMs"`
}

// New returns a proxy in front of next, e.g. an awsproxy.Forwarder to moto.
func New(next http.Handler, cfg Config) (*Proxy, error) {
	if next == nil {
		return nil, fmt.Errorf("faultproxy: no next handler")
	}
	for _, r := range []float64{cfg.ThrottleRate, cfg.ServerErrorRate, cfg.LostReplyRate} {
		if r < 0 || r > 1 {
			return nil, fmt.Errorf("faultproxy: rate %v is not between 0 and 1", r)
		}
	}
	if cfg.ThrottleRate+cfg.ServerErrorRate+cfg.LostReplyRate > 1 {
		return nil, fmt.Errorf("faultproxy: the rates add up to more than 1")
	}
	if cfg.MaxLatency < cfg.MinLatency {
		cfg.MaxLatency = cfg.MinLatency
	}
	var slots chan struct{}
	if cfg.MaxInFlight > 0 {
		slots = make(chan struct{}, cfg.MaxInFlight)
	}
	return &Proxy{cfg: cfg, next: next, slots: slots, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)), byKey: map[string]int64{}, ops: map[string]*OpStats{}}, nil
}

// decision is what happens to one request.
type decision struct {
	kind    string // "" forwards untouched
	latency time.Duration
}

func (p *Proxy) decide() decision {
	p.mu.Lock()
	defer p.mu.Unlock()
	var d decision
	if span := p.cfg.MaxLatency - p.cfg.MinLatency; span > 0 {
		d.latency = p.cfg.MinLatency + time.Duration(p.rng.Int64N(int64(span)+1))
	} else {
		d.latency = p.cfg.MinLatency
	}
	x := p.rng.Float64()
	switch {
	case x < p.cfg.ThrottleRate:
		d.kind = KindThrottle
	case x < p.cfg.ThrottleRate+p.cfg.ServerErrorRate:
		d.kind = KindServer
	case x < p.cfg.ThrottleRate+p.cfg.ServerErrorRate+p.cfg.LostReplyRate:
		d.kind = KindLostReply
	}
	return d
}

// ServeHTTP implements http.Handler.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if awsproxy.IsControlPath(r.URL.Path) {
		p.next.ServeHTTP(w, r)
		return
	}
	p.requests.Add(1)
	// Read the body once: the Action field may name the service, and the
	// request must still be passed on intact.
	r, _, svc, err := awsproxy.Prepare(r)
	if err != nil {
		http.Error(w, "faultproxy: reading the request: "+err.Error(), http.StatusBadRequest)
		return
	}
	if p.observe != nil {
		p.observe(svc)
	}
	d := p.decide()
	if d.latency > 0 && !sleep(r.Context(), d.latency) {
		return
	}
	switch d.kind {
	case KindThrottle, KindServer:
		p.count(svc.Name, d.kind)
		writeFault(w, r, svc, d.kind)
	case KindLostReply:
		p.forward(awsproxy.NewRecorder(), r, svc)
		p.count(svc.Name, d.kind)
		writeFault(w, r, svc, KindServer)
	default:
		p.forward(w, r, svc)
	}
}

// forward passes the request to the next handler and times it.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, svc awsproxy.Service) {
	if p.slots != nil {
		select {
		case p.slots <- struct{}{}:
			defer func() { <-p.slots }()
		case <-r.Context().Done():
			return
		}
	}
	start := time.Now()
	p.next.ServeHTTP(w, r)
	op := svc.Operation
	if op == "" {
		op = r.Method
	}
	key := svc.Name + ":" + op
	p.opsMu.Lock()
	st := p.ops[key]
	if st == nil {
		st = &OpStats{}
		p.ops[key] = st
	}
	st.Requests++
	st.BackendMs += time.Since(start).Milliseconds()
	p.opsMu.Unlock()
}

// Operations returns the forwarded requests' stats by "service:Operation"
// (S3 by method).
func (p *Proxy) Operations() map[string]OpStats {
	p.opsMu.Lock()
	defer p.opsMu.Unlock()
	out := make(map[string]OpStats, len(p.ops))
	for k, v := range p.ops {
		out[k] = *v
	}
	return out
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (p *Proxy) count(service, kind string) {
	p.faults.Add(1)
	p.statsMu.Lock()
	p.byKey[service+" "+kind]++
	p.statsMu.Unlock()
}

// Stats is what the proxy did so far.
type Stats struct {
	// Requests counts the AWS API requests (not /moto-api/) the proxy saw.
	Requests int64 `json:"requests"`
	// Faults counts the injected faults of every kind.
	Faults int64 `json:"faults"`
	// ByService counts faults by service and kind, e.g. {"ec2":{"throttle":12}}.
	ByService map[string]map[string]int64 `json:"byService"`
}

// Stats returns the counters.
func (p *Proxy) Stats() Stats {
	s := Stats{Requests: p.requests.Load(), Faults: p.faults.Load(), ByService: map[string]map[string]int64{}}
	p.statsMu.Lock()
	defer p.statsMu.Unlock()
	for _, k := range slices.Sorted(maps.Keys(p.byKey)) {
		svc, kind, _ := strings.Cut(k, " ")
		if s.ByService[svc] == nil {
			s.ByService[svc] = map[string]int64{}
		}
		s.ByService[svc][kind] = p.byKey[k]
	}
	return s
}

// ThrottleFault is the service's own throttling error: what the service
// documents, and what the SDK's retryer treats as a throttle.
func ThrottleFault(s awsproxy.Service) awsproxy.Error {
	switch s.Name {
	case "ec2":
		return awsproxy.Error{Status: http.StatusServiceUnavailable, Code: "RequestLimitExceeded", Message: "Request limit exceeded."}
	case "s3":
		return awsproxy.Error{Status: http.StatusServiceUnavailable, Code: "SlowDown", Message: "Please reduce your request rate."}
	case "sns":
		// SNS's modeled ThrottledException (error code "Throttled", HTTP 400).
		return awsproxy.Error{Status: http.StatusBadRequest, Code: "Throttled", Message: "Rate exceeded"}
	}
	if s.Protocol == awsproxy.ProtoJSON || s.Protocol == awsproxy.ProtoRESTJSON {
		return awsproxy.Error{Status: http.StatusBadRequest, Code: "ThrottlingException", Message: "Rate exceeded"}
	}
	return awsproxy.Error{Status: http.StatusBadRequest, Code: "Throttling", Message: "Rate exceeded"}
}

// ServerFault is the service's own internal error (HTTP 500).
func ServerFault(s awsproxy.Service) awsproxy.Error {
	switch {
	case s.Name == "dynamodb":
		return awsproxy.Error{Status: http.StatusInternalServerError, Code: "InternalServerError", Message: "Internal server error"}
	case s.Name == "ecs":
		return awsproxy.Error{Status: http.StatusInternalServerError, Code: "ServerException", Message: "Service unavailable, please retry"}
	case s.Name == "guardduty":
		return awsproxy.Error{Status: http.StatusInternalServerError, Code: "InternalServerErrorException", Message: "Internal server error"}
	case s.Protocol == awsproxy.ProtoEC2 || s.Protocol == awsproxy.ProtoRESTXML:
		return awsproxy.Error{Status: http.StatusInternalServerError, Code: "InternalError", Message: "We encountered an internal error. Please try again."}
	case s.Name == "sns":
		return awsproxy.Error{Status: http.StatusInternalServerError, Code: "InternalError", Message: "Internal error"}
	}
	return awsproxy.Error{Status: http.StatusInternalServerError, Code: "InternalFailure", Message: "The request processing has failed because of an unknown error."}
}

// writeFault answers r with the fault of kind in the service's protocol,
// marked with the X-Irflow-Fault header.
func writeFault(w http.ResponseWriter, r *http.Request, s awsproxy.Service, kind string) {
	f := ServerFault(s)
	if kind == KindThrottle {
		f = ThrottleFault(s)
	}
	w.Header().Set("X-Irflow-Fault", kind)
	awsproxy.WriteError(w, r, s, f)
}
