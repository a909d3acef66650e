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
	"github.com/irflow/irflow/generator/simulate"
	"github.com/irflow/irflow/internal/benchdoc"
	"github.com/irflow/irflow/internal/casecheck"
	"github.com/irflow/irflow/internal/flowmodel"
	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/worlds"
	"github.com/irflow/irflow/tasks/approval-api/approval"
	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/catalog"
	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/registry"
	"github.com/irflow/irflow/tasks/taskrt"
)

// DemoAVMLURL and DemoAVMLSha256 are the AVML location and pin the bench
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

// Result is what a bench run did.
type Result struct {
	// Strict says the strict layer stood in front of moto.
	Strict bool
	Env    taskrt.Env
	Cases  []*Case
	// Refusals are every refusal of the strict layer during the run.
	Refusals []Refusal
	// Moto is the kept server (Options.Keep); nil otherwise.
	Moto    *MotoInfo
	LogPath string
	// CLI is the `irflow audit` run; nil without Options.Irflow.
	CLI     *CLIRun
	Elapsed time.Duration
	// Storm is the storm world's run (--world storm); nil otherwise.
	Storm *benchdoc.StormRun
}

// OK reports whether every case went as the bench expects.
func (r *Result) OK() bool {
	for _, c := range r.Cases {
		if len(c.Problems) > 0 {
			return false
		}
	}
	return r.CLI == nil || r.CLI.Err == nil
}

// Case is one incident response of the bench: a world, an input, the
// run, and what the world looks like afterwards.
type Case struct {
	Title     string
	WorldName string
	World     *worlds.World
	Kind      worlds.InputKind
	Input     []byte
	// Finding is the GuardDuty finding the world's detector holds for a
	// finding input; nil for a console input.
	Finding []byte
	CaseID  string
	Run     *simulate.Execution
	// Deciders decide this case's gates, in order: every attempt goes
	// through the approval API, refusals included.
	Deciders []Decider
	// Want is the outcome the decision implies.
	Want string
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
	// Baseline is the network before the response (through the strict
	// layer, as the handlers see it).
	Baseline *flowmodel.Network
	// Flows are the world's flows judged before and after.
	Flows []FlowResult
	// TaskStatus is the target's lastStatus at the end.
	TaskStatus string
	// Refusals are the strict layer's refusals during this case.
	Refusals []Refusal
	// EC2Calls counts the EC2 changes moto accepted during the case.
	EC2Calls int
	// MemberNetwork are the world's flows judged as new connections on the
	// member account's network read back from moto with the member's
	// credentials after the response (organization worlds).
	MemberNetwork []FlowResult
	// replayed is the network after the response as the replay of its
	// calls has it.
	replayed *flowmodel.Network
	// Path is the execution's path to containment, measured from the
	// strict layer's request log; nil without the layer.
	Path *benchdoc.ContainmentPath
	// Problems are what did not go as the bench expects; none when it did.
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
	// Expected names the failure the world is built to cause (AWS's
	// behaviour, not moto's); "" when it is not one.
	Expected string
}

// ExpectFailClosed: isolate-network refuses a world whose network ACLs
// have no rule number free below their allows (nacl-full) before changing
// anything, and the playbook goes on to the approval and the stop.
const ExpectFailClosed = "fail-closed"

// expectedFailure names the failure a world is built to cause, or "".
func expectedFailure(world, action, err string) string {
	if world == "nacl-full" && action == "isolate-network" && strings.Contains(err, "cannot deny the task's addresses in every network ACL") {
		return ExpectFailClosed
	}
	return ""
}

// The moto gaps a step runs into, each recognised by its action and the
// error the handler reports: anything else that fails is a problem.
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

// Run checks the options, starts moto and the strict layer (unless
// Options.Endpoint names a moto), seeds irflow's stores, and runs each case:
// build its world, respond, judge. A *UsageError comes before anything
// starts.
func Run(ctx context.Context, o Options) (*Result, error) {
	began := time.Now()
	if err := o.check(); err != nil {
		return nil, err
	}
	out := o.Stdout
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, err
	}
	res := &Result{LogPath: relative(filepath.Join(o.Out, "handlers.log"))}
	logFile, err := os.Create(res.LogPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()

	env, err := startAWS(ctx, &o, res)
	if err != nil {
		return nil, err
	}
	defer env.close()
	if o.organization() {
		res.Env.GuardDutyDetectorID = AdminDetector
	}
	fmt.Fprintf(out, "irflow bench: %s against moto server at %s", relative(o.Playbook), env.motoURL)
	if res.Strict {
		fmt.Fprintf(out, " behind the AWS-strict layer at %s", env.endpoint)
	}
	fmt.Fprintf(out, "\nreal task handlers, the real approval API; the handlers' JSON logs go to %s\n", res.LogPath)

	compiled, _ := generator.Compile(o.src, o.Playbook, generator.Options{})
	handlers := realHandlers(env.cfg, res.Env, logFile)
	for i, plan := range o.plans() {
		c, err := plan.build(ctx, &o, env, compiled)
		if err != nil {
			return nil, fmt.Errorf("case %d (%s): %w", i+1, plan.world, err)
		}
		fmt.Fprintf(out, "\n== Case %d  %s ==\n", i+1, c.Title)
		printWorld(out, c.World)
		if plan.world == StormWorld {
			if res.Storm, err = runStorm(ctx, out, &o, compiled, handlers, env, res.Env, logFile, c); err != nil {
				return nil, fmt.Errorf("case %s: %w", c.Title, err)
			}
		} else if err := runCase(ctx, out, compiled, handlers, env, res.Env, logFile, c); err != nil {
			return nil, fmt.Errorf("case %s: %w", c.Title, err)
		}
		if err := saveCase(ctx, env.cfg, res.Env, filepath.Join(o.Out, c.CaseID), c); err != nil {
			return nil, fmt.Errorf("case %s: saving its files: %w", c.Title, err)
		}
		res.Cases = append(res.Cases, c)
	}
	if res.Strict {
		if res.Refusals, err = env.layer.Refusals(ctx); err != nil {
			return nil, err
		}
	}
	printGaps(out, res.Cases)
	if o.Irflow != "" && len(res.Cases) > 0 {
		res.CLI = runAuditCLI(ctx, out, o.Irflow, env.endpoint, res.Env, res.Cases[0].CaseID)
	}
	res.Elapsed = time.Since(began)
	printSummary(out, res, relative(o.Out))
	if o.Summary != "" {
		if err := writeSummary(o.Summary, res, env); err != nil {
			return nil, err
		}
		fmt.Fprintf(out, "  summary: %s\n", relative(o.Summary))
	}
	if o.Keep {
		env.keep()
		fmt.Fprintf(out, "  moto is still running at %s (pid %d): kill it when done\n", env.endpoint, res.Moto.PID)
	}
	return res, nil
}

// benchRetryer is irflow's SDK retryer (taskrt.NewRetryer: its attempts,
// retryable codes, no client-side quota) with the backoff capped at 50 ms
// instead of 10 s: moto on loopback never throttles, and a request moto
// cannot serve (an HTTP 500 for an API it lacks) should cost milliseconds,
// not the ~20 s of backoff that is right against AWS.
func benchRetryer() aws.Retryer {
	return retry.AddWithMaxBackoffDelay(taskrt.NewRetryer(), 50*time.Millisecond)
}

// realHandlers builds every action's handler the way registry.Handlers does
// for `irflow simulate --aws-endpoint` (the registry's constructors, each in
// the task runtime with the audit chain) except that they log to log.
func realHandlers(cfg aws.Config, env taskrt.Env, log io.Writer) simulate.Handlers {
	out := simulate.Handlers{}
	cfg = withStepHeader(cfg) // the strict layer's request log names each request's step
	for name, newHandler := range registry.Constructors() {
		rt := taskrt.NewRuntime(name, cfg, env, newHandler)
		rt.Log = taskrt.NewLogger(log)
		out[name] = tagSteps(rt.Invoke)
	}
	return out
}

// configFor is an SDK config for endpoint with the bench's retryer.
func configFor(endpoint string) aws.Config {
	cfg := mototest.ConfigFor(endpoint)
	cfg.Retryer = benchRetryer
	return cfg
}

// caseIDOf is the case id resolve-target derives from the input.
func caseIDOf(input []byte) (string, error) {
	inc, err := incident.Normalize(input, incident.Execution{Name: "demo"})
	if err != nil {
		return "", err
	}
	return inc.CaseID, nil
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
			return "", errors.New("run irflow-demo inside the irflow repository (no go.mod of github.com/irflow/irflow above the working directory)")
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
