package demo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/generator/diag"
	"github.com/irflow/irflow/generator/simulate"
	"github.com/irflow/irflow/internal/casecheck"
	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/tasks/approval-api/approval"
	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/catalog"
	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/registry"
	"github.com/irflow/irflow/tasks/taskrt"
)

// Playbook is the playbook the demo runs, relative to the repository root.
const Playbook = "workflows/crypto-mining.yaml"

// FindingType is the finding both GuardDuty events carry: one of
// crypto-mining's trigger types.
const FindingType = "Impact:Runtime/CryptoMinerExecuted"

// DemoAVMLURL and DemoAVMLSha256 are the AVML location and pin the demo
// deploys with (IRFLOW_AVML_URL, IRFLOW_AVML_SHA256). moto never runs the
// command, so nothing downloads or executes this: the pin only lets
// capture-memory get as far as a real deployment does (presigned uploads,
// the rendered script, ssm:SendCommand) instead of refusing to run an
// unpinned tool. The hash is SHA-256("irflow demo placeholder: not an AVML
// build"), which no real binary has, and the host is under .invalid.
const DemoAVMLURL = "https://tools.example.invalid/avml/v0.14.0/avml"

// DemoAVMLSha256 is the placeholder pin (see DemoAVMLURL).
var DemoAVMLSha256 = func() string {
	sum := sha256.Sum256([]byte("irflow demo placeholder: not an AVML build"))
	return hex.EncodeToString(sum[:])
}()

// Options configure a demo run.
type Options struct {
	// Endpoint is moto server's URL.
	Endpoint string
	// Out gets handlers.log (the task handlers' and the approval API's JSON
	// logs) and one folder per case with its report, manifest and audit
	// chain; "" is build/demo in the repository.
	Out string
	// Irflow is the irflow CLI; when set, `irflow audit --verify` runs on the
	// first case, as an operator would.
	Irflow string
	// Root is the repository root; "" finds it from the working directory.
	Root string
	// Stdout gets the demo's report.
	Stdout io.Writer
}

// Result is what a demo run did.
type Result struct {
	World   *mototest.World
	Env     taskrt.Env
	Cases   []*Case
	LogPath string
	// CLI is the `irflow audit` run; nil without Options.Irflow.
	CLI     *CLIRun
	Elapsed time.Duration
}

// OK reports whether every case went as the demo expects.
func (r *Result) OK() bool {
	for _, c := range r.Cases {
		if len(c.Problems) > 0 {
			return false
		}
	}
	return r.CLI == nil || r.CLI.Err == nil
}

// Case is one incident response of the demo.
type Case struct {
	Title      string // e.g. "Fargate: GuardDuty finding"
	LaunchType string
	TaskArn    string
	Input      []byte
	CaseID     string
	Run        *simulate.Execution
	// Deciders decide this case's gates, in order: every attempt goes
	// through the approval API, refusals included.
	Deciders []Decider
	// Attempts are the decisions sent to the approval API, in order.
	Attempts []Attempt
	// Approvals are the case's gates as the approvals table holds them.
	Approvals []*approval.Approval
	Evidence  []casecheck.Object
	Records   []audit.Record
	ChainErr  error
	// Caught are the steps that failed and let the playbook go on.
	Caught []CaughtStep
	// Brief cases print no state-by-state trace and no audit table.
	Brief bool
	// Problems are what did not go as the demo expects; none when it did.
	Problems []string
}

// Decider is one caller deciding a gate through the approval API.
type Decider struct {
	Who      string // IAM ARN of the caller
	Decision string // approve or reject
	Reason   string
	// WantStatus is the HTTP status the API should answer.
	WantStatus int
}

// Attempt is one decision the approval API received, and its answer.
type Attempt struct {
	Step, ApprovalID string
	Decider
	Status int
	Body   []byte
}

// CaughtStep is a step that failed and continued (onError: continue), with
// the error its audit record names.
type CaughtStep struct {
	Step, Action, Error string
	// Gap names the moto gap that explains the failure; "" when none does.
	Gap string
}

// The moto gaps a step of the demo runs into, each recognised by its action
// and the error the handler reports: anything else that fails is a problem.
const (
	GapSSM      = "ssm"
	GapFlowLogs = "flow-logs"
	GapTagCI    = "tag-container-instance"
)

// motoGap names the moto gap that explains a caught step's error, or "".
func motoGap(action, err string) string {
	a := catalog.Lookup(action)
	switch {
	case a != nil && a.UsesSSM && strings.Contains(err, "reported Success but its command output"):
		// moto accepts SendCommand and reports Success without running it.
		return GapSSM
	case action == "enable-flow-logs" && strings.Contains(err, "LogDestination") && strings.Contains(err, "does not exist"):
		// moto 5.2 reads an S3 LogDestination "bucket/prefix/" as a bucket name.
		return GapFlowLogs
	case action == "tag-resources" && strings.Contains(err, ":container-instance/") && strings.Contains(err, "StatusCode: 500"):
		// moto 5.2 has no ecs:TagResource for container instances.
		return GapTagCI
	}
	return ""
}

// Run seeds moto, runs every case and prints what happened.
func Run(ctx context.Context, o Options) (*Result, error) {
	began := time.Now()
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	out := o.Stdout
	root := o.Root
	if root == "" {
		var err error
		if root, err = findRoot(); err != nil {
			return nil, err
		}
	}
	if o.Out == "" {
		o.Out = filepath.Join(root, "build", "demo")
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, err
	}
	res := &Result{LogPath: relative(filepath.Join(o.Out, "handlers.log"))}
	logFile, err := os.Create(res.LogPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()

	fmt.Fprintf(out, "irflow demo: %s on a Fargate and an EC2 task (GuardDuty findings), then a four-eyes check,\n", Playbook)
	fmt.Fprintf(out, "against moto server at %s with the real task handlers and the real approval API\n", o.Endpoint)
	fmt.Fprintf(out, "the task handlers' and the approval API's JSON logs go to %s\n", res.LogPath)

	if err := mototest.PinTaskLifecycle(o.Endpoint); err != nil {
		return nil, err
	}
	cfg := mototest.ConfigFor(o.Endpoint)
	cfg.Retryer = demoRetryer
	seedStart := time.Now()
	w, err := mototest.SeedWith(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("seeding moto: %w", err)
	}
	res.World = w
	env := w.Env
	env.DefaultApprovers = []string{roleARN(w.Account, "IncidentCommander")}
	env.AVMLURL, env.AVMLSha256 = DemoAVMLURL, DemoAVMLSha256
	res.Env = env
	printWorld(out, w, env, time.Since(seedStart))

	src, err := os.ReadFile(filepath.Join(root, Playbook))
	if err != nil {
		return nil, err
	}
	compiled, ds := generator.Compile(src, Playbook, generator.Options{})
	if compiled == nil {
		var b strings.Builder
		_ = diag.WriteText(&b, ds)
		return nil, fmt.Errorf("%s does not compile:\n%s", Playbook, b.String())
	}

	handlers := realHandlers(cfg, env, logFile)
	cases := buildCases(root, w)
	for i, build := range cases {
		c, err := build(ctx)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(out, "\n== Case %d/%d  %s ==\n", i+1, len(cases), c.Title)
		if err := runCase(ctx, out, compiled, handlers, cfg, env, logFile, c); err != nil {
			return nil, fmt.Errorf("case %s: %w", c.Title, err)
		}
		if err := saveCase(ctx, cfg, env, filepath.Join(o.Out, c.CaseID), c); err != nil {
			return nil, fmt.Errorf("case %s: saving its files: %w", c.Title, err)
		}
		res.Cases = append(res.Cases, c)
	}
	printGaps(out, res.Cases)
	if o.Irflow != "" {
		res.CLI = runAuditCLI(ctx, out, o.Irflow, o.Endpoint, env.AuditTable, res.Cases[0].CaseID)
	}
	res.Elapsed = time.Since(began)
	printSummary(out, res, relative(o.Out))
	return res, nil
}

// demoRetryer is irflow's SDK retryer (taskrt.NewRetryer: its attempts,
// retryable codes, no client-side quota) with the backoff capped at 50 ms
// instead of 10 s: moto on loopback never throttles, and a request moto
// cannot serve (an HTTP 500 for an API it lacks) should cost the demo
// milliseconds, not the ~20 s of backoff that is right against AWS.
func demoRetryer() aws.Retryer {
	return retry.AddWithMaxBackoffDelay(taskrt.NewRetryer(), 50*time.Millisecond)
}

// realHandlers builds every action's handler the way registry.Handlers does
// for `irflow simulate --aws-endpoint` (the registry's constructors, each in
// the task runtime with the audit chain) except that they log to log, not
// to stderr.
func realHandlers(cfg aws.Config, env taskrt.Env, log io.Writer) simulate.Handlers {
	out := simulate.Handlers{}
	for name, newHandler := range registry.Constructors() {
		rt := taskrt.NewRuntime(name, cfg, env, newHandler)
		rt.Log = taskrt.NewLogger(log)
		out[name] = simulate.TaskHandler(rt.Invoke)
	}
	return out
}

// runCase runs one case and checks what it left behind.
func runCase(ctx context.Context, out io.Writer, compiled *generator.Result, handlers simulate.Handlers, cfg aws.Config,
	env taskrt.Env, log io.Writer, c *Case) error {
	var trace io.Writer
	if !c.Brief {
		fmt.Fprintln(out, "  each state as it runs (virtual time; every Task state ran the real handler against moto):")
		trace = &indenter{w: out, prefix: "  "}
	}
	run, err := simulate.Run(ctx, compiled, c.Input, simulate.Options{
		Handlers: handlers,
		Approver: approver(cfg, env, log, c),
		Trace:    trace,
	})
	if err != nil {
		return err
	}
	c.Run = run
	if c.Brief {
		var steps []string
		for _, s := range run.Steps {
			name := s.Step
			if name == "" {
				name = s.Action
			}
			steps = append(steps, name+" "+s.Result)
		}
		if inc, err := incident.Normalize(c.Input, incident.Execution{Name: "demo"}); err == nil {
			fmt.Fprintf(out, "  input: a %s input requested by %s, dryRun %v, on task %s\n", inc.Source, inc.RequestedBy, inc.DryRun, inc.TaskArn)
		}
		fmt.Fprintf(out, "  task states: %s\n", strings.Join(steps, ", "))
	}
	if err := run.WriteSummary(&indenter{w: out, prefix: "  "}); err != nil {
		return err
	}
	if !run.Succeeded() || run.Outcome != generator.OutcomeCompleted {
		c.problem("the execution ended %s with outcome %s; want SUCCEEDED, COMPLETED", run.Status, run.Outcome)
	}
	if c.LaunchType != "" && run.LaunchType != c.LaunchType {
		c.problem("the execution took the %s branch; want %s", run.LaunchType, c.LaunchType)
	}
	if c.CaseID, err = caseIDOf(c.Input); err != nil {
		return err
	}
	if c.Records, err = taskrt.NewChain(cfg, env).Read(ctx, c.CaseID); err != nil {
		return err
	}
	c.ChainErr = audit.Verify(c.Records)
	if c.ChainErr != nil {
		c.problem("the audit chain does not verify: %v", c.ChainErr)
	}
	c.Caught = caughtSteps(run, c.Records)
	for _, s := range c.Caught {
		if s.Gap == "" {
			c.problem("step %s (%s) failed and was caught: %s", s.Step, s.Action, s.Error)
		}
	}
	if err := readApprovals(ctx, cfg, env, c); err != nil {
		return err
	}
	printApprovals(out, c)
	if err := checkEvidence(ctx, cfg, env, c); err != nil {
		return err
	}
	printEvidence(out, env, c)
	printAudit(out, env, c)
	for _, p := range c.Problems {
		fmt.Fprintf(out, "  PROBLEM: %s\n", p)
	}
	return nil
}

func (c *Case) problem(format string, args ...any) {
	c.Problems = append(c.Problems, fmt.Sprintf(format, args...))
}

// caseIDOf is the case id resolve-target derives from the input.
func caseIDOf(input []byte) (string, error) {
	inc, err := incident.Normalize(input, incident.Execution{Name: "demo"})
	if err != nil {
		return "", err
	}
	return inc.CaseID, nil
}

// caughtSteps are the run's CAUGHT task states, with the error their audit
// record names.
func caughtSteps(run *simulate.Execution, records []audit.Record) []CaughtStep {
	var out []CaughtStep
	seen := map[string]bool{}
	for _, s := range run.Steps {
		if s.Result != simulate.ResultCaught || seen[s.Step] {
			continue
		}
		seen[s.Step] = true
		cs := CaughtStep{Step: s.Step, Action: s.Action}
		for _, r := range records {
			if r.Step == s.Step && r.Event == "error" {
				cs.Error = r.Summary
			}
		}
		cs.Gap = motoGap(cs.Action, cs.Error)
		out = append(out, cs)
	}
	return out
}

// relative shortens a path under the working directory for printing.
func relative(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	if rel, err := filepath.Rel(wd, abs); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return path
}

// findRoot walks up from the working directory to irflow's go.mod.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(b), "module github.com/irflow/irflow\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run the demo inside the irflow repository (no go.mod of github.com/irflow/irflow above the working directory)")
		}
		dir = parent
	}
}

// indenter prefixes every line written through it.
type indenter struct {
	w      io.Writer
	prefix string
	mid    bool
}

func (in *indenter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if !in.mid && p[0] != '\n' {
			if _, err := io.WriteString(in.w, in.prefix); err != nil {
				return 0, err
			}
			in.mid = true
		}
		i := strings.IndexByte(string(p), '\n')
		if i < 0 {
			_, err := in.w.Write(p)
			return n, err
		}
		if _, err := in.w.Write(p[:i+1]); err != nil {
			return 0, err
		}
		in.mid = false
		p = p[i+1:]
	}
	return n, nil
}
