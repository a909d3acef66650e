package strict

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/irflow/irflow/internal/awsproxy"
)

// Config configures a Layer.
type Config struct {
	// Backend is moto's base URL. The layer's own look-ups (DescribeTasks,
	// DescribeNetworkInterfaces, the flow model's Describe calls) go there
	// directly, never through the layer.
	Backend string
	// Exec opens ECS Exec sessions; nil answers every ExecuteCommand of an
	// exec-enabled task with TargetNotConnectedException.
	Exec ExecBackend
	// Agents decides whether an EC2 container instance's ECS agent reaches
	// Amazon ECS; nil uses the layer's flow model, fed by world registration
	// (see FlowOracle).
	Agents AgentOracle
	// ECSRequesterID is the RequesterId shown on ENIs Amazon ECS manages;
	// "" uses DefaultECSRequesterID.
	ECSRequesterID string
	// FargateOwnerID is the InstanceOwnerId of a Fargate task ENI's
	// attachment (the Fargate fleet's account); "" uses DefaultFargateOwnerID.
	FargateOwnerID string
	// NATRequesterID and EndpointRequesterID are the RequesterId shown on
	// NAT gateways' and interface endpoints' ENIs; "" uses
	// DefaultNATRequesterID and DefaultEndpointRequesterID.
	NATRequesterID, EndpointRequesterID string
	// NACLRulesPerDirection is the network ACL rule quota, default deny rule
	// included; 0 uses the default quota, 20 (it can be raised to 40).
	NACLRulesPerDirection int
	// GroupsPerENI is the security-group-per-ENI quota; 0 uses the default, 5.
	GroupsPerENI int
	// HTTP carries the layer's look-ups; nil is a pooled client.
	HTTP *http.Client
	// Latency is the least time every AWS request a handler makes (one
	// that carries StepHeader) takes to be answered, as a call to a real
	// AWS endpoint takes its network round trip (tens of milliseconds in a
	// region). 0 answers as fast as moto does. The bench's round-trip count
	// sets it: requests a handler sends together then overlap by about
	// Latency, so a goroutine the CPU starts a few milliseconds late is not
	// counted as a round trip of its own (with moto's ~1 ms answers it was,
	// under load; BENCHMARKS.md section 7). Requests without the header
	// (the bench building its worlds, reading results) are not held.
	Latency time.Duration
}

// DefaultECSRequesterID and DefaultFargateOwnerID are observed values, which
// AWS documents nowhere: AWS-owned accounts seen on Fargate task ENIs in
// us-east-1 (the RequesterId and the attachment's InstanceOwnerId of
// DescribeNetworkInterfaces answers published in public test fixtures).
// Other regions show other accounts.
const (
	DefaultECSRequesterID = "578734482556"
	DefaultFargateOwnerID = "501673713797"
)

// Layer is the AWS-strict layer: an http.Handler in front of moto that
// enforces documented AWS behaviour moto lacks, serves the APIs moto lacks
// (GuardDuty findings, ECS ExecuteCommand), and records every refusal.
type Layer struct {
	cfg      Config
	next     http.Handler
	look     *lookups
	refusals refusalLog
	locks    keyedLocks // DynamoDB tables, network ACLs
	findings findingStore
	tasks    taskIndex // ENI → task, exec-enabled tasks, trunk ENIs, public IPs, deleted ENIs
	addrs    addrBook  // presented ENI addresses
	svc      svcIndex  // ENIs of NAT gateways and interface endpoints
	stops    stopQueue
	calls    callLog
	requests requestLog
	flow     *FlowOracle
	flowLogs flowLogDests // S3 flow log destinations with a folder
}

// New returns a Layer in front of next, which forwards to moto (an
// awsproxy.Forwarder to cfg.Backend; nil builds one).
func New(next http.Handler, cfg Config) (*Layer, error) {
	if cfg.Backend == "" {
		return nil, errors.New("strict: Config.Backend (moto's URL) is required for the layer's look-ups")
	}
	if next == nil {
		fwd, err := awsproxy.NewForwarder(cfg.Backend, nil)
		if err != nil {
			return nil, err
		}
		next = fwd
	}
	if cfg.ECSRequesterID == "" {
		cfg.ECSRequesterID = DefaultECSRequesterID
	}
	if cfg.FargateOwnerID == "" {
		cfg.FargateOwnerID = DefaultFargateOwnerID
	}
	if cfg.NATRequesterID == "" {
		cfg.NATRequesterID = DefaultNATRequesterID
	}
	if cfg.EndpointRequesterID == "" {
		cfg.EndpointRequesterID = DefaultEndpointRequesterID
	}
	if cfg.NACLRulesPerDirection <= 0 {
		cfg.NACLRulesPerDirection = 20
	}
	if cfg.GroupsPerENI <= 0 {
		cfg.GroupsPerENI = 5
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64}}
	}
	l := &Layer{cfg: cfg, next: next, look: newLookups(cfg.Backend, cfg.HTTP)}
	l.calls.accountOf = func(c caller) string {
		a, err := l.look.account(context.Background(), c)
		if err != nil {
			return ""
		}
		return a
	}
	l.flow = &FlowOracle{calls: l.calls.since}
	if l.cfg.Agents == nil {
		l.cfg.Agents = l.flow
	}
	return l, nil
}

// ServeHTTP implements http.Handler.
func (l *Layer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, controlPrefix) || r.URL.Path == strings.TrimSuffix(controlPrefix, "/") {
		l.control(w, r)
		return
	}
	if awsproxy.IsControlPath(r.URL.Path) {
		if r.Method == http.MethodPost && strings.TrimSuffix(r.URL.Path, "/") == "/moto-api/reset" {
			l.resetState() // what the layer learned names resources that are gone
		}
		l.next.ServeHTTP(w, r)
		return
	}
	r, body, svc, err := awsproxy.Prepare(r)
	if err != nil {
		http.Error(w, "strict: reading the request: "+err.Error(), http.StatusBadRequest)
		return
	}
	l.logged(w, r, body, svc, func(w http.ResponseWriter) {
		switch svc.Name {
		case "ec2":
			l.serveEC2(w, r, body, svc)
		case "ecs":
			l.serveECS(w, r, body, svc)
		case "dynamodb":
			l.serveDynamoDB(w, r, body, svc)
		case "guardduty":
			l.serveGuardDuty(w, r, body, svc)
		case "sts":
			l.serveSTS(w, r, body, svc)
		default:
			l.next.ServeHTTP(w, r)
		}
	})
}

// forward passes r to moto and keeps the answer for the caller to inspect.
// Accept-Encoding is dropped so the answer can be read and rewritten.
func (l *Layer) forward(r *http.Request, body []byte) *awsproxy.Recorder {
	r.Header.Del("Accept-Encoding")
	awsproxy.Rewind(r, body)
	rec := awsproxy.NewRecorder()
	l.next.ServeHTTP(rec, r)
	return rec
}

// Enabled reports whether the strict layer is on. IRFLOW_AWS_STRICT=0
// turns it off, for debugging only: callers then talk to moto directly and
// every rule here is silently lost.
func Enabled() bool { return os.Getenv("IRFLOW_AWS_STRICT") != "0" }

// Start serves a Layer in front of backendURL on 127.0.0.1:0, in process,
// and returns its URL and a stop function. With IRFLOW_AWS_STRICT=0 it
// serves nothing and returns backendURL itself.
func Start(backendURL string) (url string, stop func(), err error) {
	_, url, stop, err = StartWith(Config{Backend: backendURL})
	return url, stop, err
}

// StartWith is Start with a full Config; the Layer is nil when the layer is
// turned off.
func StartWith(cfg Config) (*Layer, string, func(), error) {
	if !Enabled() {
		return nil, cfg.Backend, func() {}, nil
	}
	l, err := New(nil, cfg)
	if err != nil {
		return nil, "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", nil, err
	}
	srv := &http.Server{Handler: l, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // Serve returns when Close is called
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
	return l, fmt.Sprintf("http://%s", ln.Addr()), stop, nil
}
