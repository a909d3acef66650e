package stress

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/irflow/irflow/internal/awsproxy"
	"github.com/irflow/irflow/internal/faultproxy"
	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/strict"
	"github.com/irflow/irflow/tasks/taskrt"
)

// Config is one stress run.
type Config struct {
	// Irflow is the irflow binary every incident runs with.
	Irflow string
	// Workflows is the folder of the playbooks (workflows/).
	Workflows string
	// Incidents is the number of executions; Concurrency how many run at
	// once (0: all of them).
	Incidents, Concurrency int
	// Worlds is the number of seeded mototest worlds the tasks spread over.
	Worlds int
	// Endpoint is a running moto server; "" starts one (mototest.Start).
	Endpoint string
	// Faults configures the proxy between the executions and moto.
	Faults faultproxy.Config
	// Deadline bounds the whole run, seeding and verification included.
	Deadline time.Duration
	// WorkDir keeps inputs and each execution's stdout and stderr.
	WorkDir string
	// Log gets progress lines (stderr).
	Log io.Writer
}

// Execution is how one incident's irflow simulate went.
type Execution struct {
	Incident
	ExitCode int
	Status   string // SUCCEEDED | FAILED; "" when it did not finish
	Outcome  string
	Steps    []SimStep
	Wall     time.Duration
	Err      string
}

// SimStep is one Task state of irflow simulate --format json.
type SimStep struct {
	Step   string `json:"step"`
	Action string `json:"action"`
	State  string `json:"state"`
	Result string `json:"result"`
}

// Summary is the JSON line make stress prints last.
type Summary struct {
	Executions int `json:"executions"`
	Succeeded  int `json:"succeeded"`
	Failed     int `json:"failed"`
	Lost       int `json:"lost"`
	// Correlated are the succeeded executions whose finding joined an
	// open case of its service (triggers.correlate) instead of running.
	Correlated     int   `json:"correlated"`
	FaultsInjected int64 `json:"faultsInjected"`
	P50ms          int64 `json:"p50ms"`
	P99ms          int64 `json:"p99ms"`
}

// Report is everything a run found; Summary is its one-line digest.
type Report struct {
	Summary    Summary
	Executions []*Execution
	Losses     []Loss
	Proxy      faultproxy.Stats
	// Operations is the time moto took per operation (through the proxy).
	Operations map[string]faultproxy.OpStats
	Checked    Checked
	// Problems are failures of the run itself (deadline, seeding).
	Problems []string
}

// OutcomeCorrelated is a finding that joined an open case of its service
// (crypto-mining's triggers.correlate): it succeeds when that case's
// verified chain records it.
const OutcomeCorrelated = "CORRELATED"

// OK reports whether the run proves the claim: every execution
// SUCCEEDED with outcome COMPLETED (or CORRELATED, its finding recorded in
// the case it joined), nothing lost, and faults were injected.
func (r *Report) OK() bool {
	s := r.Summary
	return len(r.Problems) == 0 && s.Executions > 0 && s.Succeeded == s.Executions && s.Failed == 0 && s.Lost == 0 && s.FaultsInjected > 0
}

func (c *Config) logf(format string, args ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, "stress: "+format+"\n", args...)
	}
}

// Run seeds a campaign in moto, puts the fault proxy in front of it, runs
// every incident as its own `irflow simulate --aws-endpoint PROXY` process,
// then verifies every case's evidence and audit chain directly against
// moto. moto (when Run started it) and the proxy stop on every path. The
// returned error is nil whenever a report could be made; report.OK says
// whether the run passed.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Deadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Deadline)
		defer cancel()
	}
	if cfg.Concurrency <= 0 || cfg.Concurrency > cfg.Incidents {
		cfg.Concurrency = cfg.Incidents
	}
	rep := &Report{Summary: Summary{Executions: cfg.Incidents}}

	endpoint, dynamoEndpoint := cfg.Endpoint, ""
	if endpoint == "" {
		// moto loads about 1,300 public AMIs and their snapshots by
		// default, and every DescribeSnapshots walks them all; the worlds
		// need none (RunInstances takes any image id).
		if os.Getenv("MOTO_EC2_LOAD_DEFAULT_AMIS") == "" {
			os.Setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
		}
		stop, ep, err := mototest.Start()
		if err != nil {
			return nil, fmt.Errorf("starting moto: %w", err)
		}
		defer stop()
		endpoint = ep
		// DynamoDB gets a moto server of its own (shard.go).
		stopDB, dbEP, err := mototest.Start()
		if err != nil {
			return nil, fmt.Errorf("starting moto for DynamoDB: %w", err)
		}
		defer stopDB()
		dynamoEndpoint = dbEP
		cfg.logf("moto servers on %s (DynamoDB) and %s (the rest)", dbEP, ep)
	}
	if err := mototest.PinTaskLifecycle(endpoint); err != nil {
		return nil, err
	}
	var fwd http.Handler
	restFwd, err := awsproxy.NewForwarder(endpoint, newMotoCompat())
	if err != nil {
		return nil, err
	}
	fwd = restFwd
	if dynamoEndpoint != "" {
		dbFwd, err := awsproxy.NewForwarder(dynamoEndpoint, newMotoCompat())
		if err != nil {
			return nil, err
		}
		fwd = byService{dynamodb: dbFwd, rest: restFwd}
		// The proxy's bound on requests in flight to moto is per server.
		cfg.Faults.MaxInFlight *= 2
	}
	// Faults → the AWS-strict layer → moto: the handlers meet what AWS
	// refuses (ECS-managed ENIs, the ACL quota, held stops) and DynamoDB's
	// atomic conditional writes, under throttling and lost replies.
	// IRFLOW_AWS_STRICT=0 leaves the layer out.
	var next http.Handler = fwd
	var layer *strict.Layer
	if strict.Enabled() {
		layer, err = strict.New(fwd, strict.Config{Backend: endpoint})
		if err != nil {
			return nil, err
		}
		next = layer
		cfg.logf("AWS-strict layer in front of moto")
	}
	proxy, err := faultproxy.New(next, cfg.Faults)
	if err != nil {
		return nil, err
	}
	proxyURL, closeProxy, err := serveLocal(proxy)
	if err != nil {
		return nil, err
	}
	defer closeProxy()
	cfg.logf("fault proxy on %s: %.0f%% throttling, %.0f%% HTTP 500, %.0f%% lost replies, latency %v-%v, seed %d",
		proxyURL, 100*cfg.Faults.ThrottleRate, 100*cfg.Faults.ServerErrorRate, 100*cfg.Faults.LostReplyRate,
		cfg.Faults.MinLatency, cfg.Faults.MaxLatency, cfg.Faults.Seed)

	// Seed against moto directly: the world is the fixture, not the test.
	directURL := endpoint
	if dynamoEndpoint != "" {
		var closeDirect func() error
		if directURL, closeDirect, err = serveLocal(fwd); err != nil {
			return nil, err
		}
		defer closeDirect()
	}
	direct := mototest.ConfigFor(directURL)
	start := time.Now()
	fargate := cfg.Incidents / 2
	camp, err := SeedCampaign(ctx, direct, cfg.Worlds, fargate, cfg.Incidents-fargate)
	if err != nil {
		rep.Problems = append(rep.Problems, "seeding: "+err.Error())
		rep.Summary.Failed = cfg.Incidents
		return rep, nil
	}
	cfg.logf("seeded %d worlds, %d distinct tasks in %v", len(camp.Worlds), len(camp.Tasks), time.Since(start).Round(time.Millisecond))
	run := time.Now().UTC().Format("150405")
	incs := Incidents(camp.Tasks[:cfg.Incidents], camp.Worlds[0].Account, run)
	if layer != nil {
		// The strict layer serves GuardDuty (moto has none): each finding
		// must be in its detector for resolve-target to confirm it, as
		// GuardDuty holds every finding it sends to EventBridge.
		if err := putFindings(ctx, layer, incs); err != nil {
			rep.Problems = append(rep.Problems, "registering the findings with the strict layer: "+err.Error())
			rep.Summary.Failed = cfg.Incidents
			return rep, nil
		}
	}

	if err := os.MkdirAll(cfg.WorkDir, 0o755); err != nil {
		return nil, err
	}
	start = time.Now()
	rep.Executions = runAll(ctx, &cfg, incs, camp, proxyURL)
	cfg.logf("%d executions in %v", len(rep.Executions), time.Since(start).Round(time.Millisecond))
	rep.Proxy = proxy.Stats()
	rep.Operations = proxy.Operations()

	var walls []time.Duration
	for _, e := range rep.Executions {
		switch {
		case e.Status == "SUCCEEDED" && e.Outcome == "COMPLETED":
			rep.Summary.Succeeded++
		case e.Status == "SUCCEEDED" && e.Outcome == OutcomeCorrelated:
			// Kept only if the case it joined records it (Verify).
			rep.Summary.Succeeded++
			rep.Summary.Correlated++
		default:
			rep.Summary.Failed++
		}
		if e.Status != "" {
			walls = append(walls, e.Wall)
		}
	}
	rep.Summary.P50ms, rep.Summary.P99ms = percentile(walls, 50).Milliseconds(), percentile(walls, 99).Milliseconds()
	rep.Summary.FaultsInjected = rep.Proxy.Faults
	if ctx.Err() != nil {
		rep.Problems = append(rep.Problems, fmt.Sprintf("the deadline (%v) passed before every execution ended", cfg.Deadline))
	}

	// Verify against moto directly, with a fresh context if the runs used
	// the deadline up: what did finish must still be checked.
	vctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if ctx.Err() == nil {
		vctx = ctx
	}
	start = time.Now()
	rep.Losses, rep.Checked = Verify(vctx, direct, camp, rep.Executions)
	rep.Summary.Lost = len(rep.Losses)
	cfg.logf("verified %d manifests, %d evidence objects (%d bytes), %d audit chains (%d records) in %v",
		rep.Checked.Manifests, rep.Checked.Objects, rep.Checked.Bytes, rep.Checked.Chains, rep.Checked.Records, time.Since(start).Round(time.Millisecond))
	return rep, nil
}

// runAll runs the incidents, at most cfg.Concurrency at once.
func runAll(ctx context.Context, cfg *Config, incs []Incident, camp *Campaign, proxyURL string) []*Execution {
	out := make([]*Execution, len(incs))
	sem := make(chan struct{}, cfg.Concurrency)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for i := range incs {
		out[i] = &Execution{Incident: incs[i], ExitCode: -1}
		wg.Add(1)
		go func(e *Execution) {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				e.Err = "not started before the deadline"
				return
			}
			defer func() { <-sem }()
			runOne(ctx, cfg, e, camp, proxyURL)
			mu.Lock()
			done++
			if done%25 == 0 || done == len(incs) {
				cfg.logf("%d/%d executions ended", done, len(incs))
			}
			mu.Unlock()
		}(out[i])
	}
	wg.Wait()
	return out
}

// runOne is one `irflow simulate PLAYBOOK --input FILE --aws-endpoint PROXY
// --format json`, configured like a deployed task Lambda: IRFLOW_* stores
// and fake credentials in the environment.
func runOne(ctx context.Context, cfg *Config, e *Execution, camp *Campaign, proxyURL string) {
	base := filepath.Join(cfg.WorkDir, fmt.Sprintf("%03d-%s-%s", e.N, e.Playbook, strings.ToLower(e.Task.LaunchType)))
	input := base + ".input.json"
	if err := os.WriteFile(input, e.Input, 0o644); err != nil {
		e.Err = err.Error()
		return
	}
	args := []string{"simulate", filepath.Join(cfg.Workflows, e.Playbook+".yaml"), "--input", input,
		"--aws-endpoint", proxyURL, "--format", "json"}
	if e.Source == "manual" {
		args = append(args, "--launch-type", e.Task.LaunchType)
	}
	cmd := exec.CommandContext(ctx, cfg.Irflow, args...)
	cmd.Env = childEnv(camp.Env(e.Task), camp.Worlds[e.Task.World].Account)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	e.Wall = time.Since(start)
	_ = os.WriteFile(base+".stdout.json", stdout.Bytes(), 0o644)
	_ = os.WriteFile(base+".stderr.log", stderr.Bytes(), 0o644)
	var ee *exec.ExitError
	switch {
	case err == nil:
		e.ExitCode = 0
	case errors.As(err, &ee) && ee.Exited():
		e.ExitCode = ee.ExitCode()
	default:
		e.Err = err.Error()
		if ctx.Err() != nil {
			e.Err = "killed at the deadline"
		}
		return
	}
	var out struct {
		Status  string    `json:"status"`
		Outcome string    `json:"outcome"`
		Steps   []SimStep `json:"steps"`
	}
	if jerr := json.Unmarshal(stdout.Bytes(), &out); jerr != nil {
		e.Err = fmt.Sprintf("exit %d, no JSON report: %s", e.ExitCode, lastLine(stderr.String()))
		return
	}
	e.Status, e.Outcome, e.Steps = out.Status, out.Outcome, out.Steps
}

// childEnv is the environment of every irflow process: the deployment's
// stores, fake credentials and a region; nothing that would aim the SDK
// elsewhere than --aws-endpoint.
func childEnv(s taskrt.Env, account string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "IRFLOW_") || strings.HasPrefix(k, "AWS_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"IRFLOW_EVIDENCE_BUCKET="+s.EvidenceBucket, "IRFLOW_AUDIT_TABLE="+s.AuditTable,
		"IRFLOW_APPROVALS_TABLE="+s.ApprovalsTable, "IRFLOW_INCIDENTS_TABLE="+s.IncidentsTable,
		"IRFLOW_TOPIC_ARN="+s.TopicArn, "IRFLOW_APPROVAL_URL="+s.ApprovalURL,
		"IRFLOW_DEFAULT_APPROVERS=arn:aws:iam::"+account+":role/IncidentCommander",
		// As the CDK app sets it on every function (infra/functions.go):
		// no sts:GetCallerIdentity per action.
		"IRFLOW_HOME_ACCOUNT="+account,
		"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_REGION="+mototest.Region,
		// A deployment pins the memory tool; without it capture-memory
		// refuses before SSM is ever called.
		"IRFLOW_AVML_URL=https://github.com/microsoft/avml/releases/download/v0.14.0/avml",
		"IRFLOW_AVML_SHA256=b4a9e6fd6f8cfba6b1a6a4b5d5b7e4d4c6f1d3d2f9e8a7b6c5d4e3f2a1b0c9d8",
		"AWS_EC2_METADATA_DISABLED=true",
	)
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// percentile is the nearest-rank percentile of ds.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := (p*len(s) + 99) / 100
	if rank < 1 {
		rank = 1
	}
	return s[rank-1]
}

// putFindings stores the GuardDuty incidents' findings (their events'
// detail) in the strict layer's detector, through its control API.
func putFindings(ctx context.Context, layer *strict.Layer, incs []Incident) error {
	var findings []json.RawMessage
	for _, in := range incs {
		if in.Source != "guardduty" {
			continue
		}
		var ev struct {
			Detail json.RawMessage `json:"detail"`
		}
		if err := json.Unmarshal(in.Input, &ev); err != nil {
			return err
		}
		findings = append(findings, ev.Detail)
	}
	srv := httptest.NewServer(layer)
	defer srv.Close()
	return strict.NewClient(srv.URL).PutFindings(ctx, findings...)
}

// serveLocal serves h on a free loopback port until close is called.
func serveLocal(h http.Handler) (url string, close func() error, err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l) //nolint:errcheck // Serve returns when Close is called
	return "http://" + l.Addr().String(), srv.Close, nil
}
