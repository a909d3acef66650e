package simulate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/generator/diag"
	"github.com/irflow/irflow/generator/internal/asl"
	"github.com/irflow/irflow/generator/internal/sim"
	"github.com/irflow/irflow/tasks/catalog"
	"github.com/irflow/irflow/tasks/incident"
)

// Options configure a simulated execution (irflow simulate).
type Options struct {
	// LaunchType is the launch type of a console input, which names only a
	// task ARN: EC2 or FARGATE. Empty assumes FARGATE (a note says so). A
	// GuardDuty finding carries its own launch type, which wins.
	LaunchType string
	// Reject names approval steps to reject; every other gate is approved.
	Reject []string
	// Timeout names approval steps nobody answers: they time out and their
	// onTimeout decides.
	Timeout []string
	// Fail makes every Task state of a step throw an error on every attempt.
	Fail []StepFailure
	// UnconfirmedFinding makes the simulated GuardDuty not know the input's
	// finding (MockOptions.UnconfirmedFinding); only with the mock handlers.
	UnconfirmedFinding bool
	// Handlers run the actions; nil runs MockHandlers. Tasks/registry's real
	// handlers plug in here (irflow simulate --aws-endpoint).
	Handlers Handlers
	// Approver decides gates; nil applies Reject and Timeout and approves
	// the rest (PolicyApprover).
	Approver Approver
	// ExecutionName, StartTime, Region and Account describe the execution
	// ($$.Execution). By default the name is a UUID derived from the
	// playbook and the input, the start is now, and region and account come
	// from the input's task ARN.
	ExecutionName   string
	StartTime       time.Time
	Region, Account string
	// Seed makes retry jitter and task tokens repeatable.
	Seed uint64
	// Trace, when set, gets one line per state as it runs.
	Trace io.Writer

	// observe sees every interpreter event (tests: the cross-check).
	observe func(sim.Event)
}

// StepFailure makes every Task state of a step (async checks and approval
// gates too) throw Error on every attempt.
type StepFailure struct {
	Step  string
	Error string
}

// ParseStepFailure parses STEP[=ErrorName]; the error defaults to States.TaskFailed.
func ParseStepFailure(s string) (StepFailure, error) {
	step, name, named := strings.Cut(s, "=")
	if !named {
		name = asl.ErrTaskFailed
	}
	switch {
	case step == "":
		return StepFailure{}, &OptionError{Message: fmt.Sprintf("--fail %q: name a step, as STEP or STEP=ErrorName", s)}
	case name == "" || len(name) > 256 || strings.ContainsAny(name, " \t\r\n"):
		return StepFailure{}, &OptionError{Message: fmt.Sprintf("--fail %q: the error name must be 1 to 256 characters without spaces", s)}
	}
	return StepFailure{Step: step, Error: name}, nil
}

// InputError says the execution input could not start an execution at all
// (not JSON, too large), as StartExecution would refuse it. Valid JSON that
// is not a valid incident is not an InputError: it runs, and fails in
// resolve-target with outcome INVALID_INPUT.
type InputError struct{ Reason string }

func (e *InputError) Error() string { return "input " + e.Reason }

// OptionError says the options name a gate or step the playbook does not
// have, or contradict each other.
type OptionError struct{ Message string }

func (e *OptionError) Error() string { return e.Message }

// Execution is how a simulated execution went.
type Execution struct {
	Playbook string
	// Status is SUCCEEDED or FAILED; Outcome one of the Outcome constants.
	Status  string
	Outcome string
	// LaunchType is the target's launch type; "" when resolve-target
	// rejected the input.
	LaunchType  string
	Transitions int
	// Steps has one entry per Task state, in execution order.
	Steps []Step
	// Error and Cause of a FAILED execution.
	Error, Cause string
	// Duration is the virtual time the execution took.
	Duration time.Duration
	// Notes are what a person should know about how the run was set up.
	Notes []string
	// Requester is who asked for the response, as resolve-target
	// established it; nil when it refused the input.
	Requester *Requester
}

// Requester is the run's requester: its id and whether it was verified
// (a GuardDuty finding GuardDuty confirmed, or the start API's envelope);
// an unverified requester makes every gate need two approvers.
type Requester struct {
	ID       string `json:"id"`
	Verified bool   `json:"verified"`
}

// Step is one Task state of a run, or a step its when: skipped. Result is
// OK, DRY_RUN or SKIPPED (the task's status, or a step whose condition did
// not hold: State is then its "skipped: …" state), APPROVED, REJECTED or
// TIMED_OUT (a gate), CAUGHT (it failed and the playbook went on) or FAILED
// (it failed and that failed the step: the failure path, or the execution).
type Step struct {
	Step     string `json:"step"`
	Action   string `json:"action"`
	State    string `json:"state"`
	Result   string `json:"result"`
	Attempts int    `json:"-"`
	// RequiredApprovals is, on an approval step, how many distinct
	// approvers the gate needed (request-approval's requiredApprovals).
	RequiredApprovals int `json:"requiredApprovals,omitempty"`
}

// Task results of Step.
const (
	ResultSkipped  = "SKIPPED"
	ResultApproved = "APPROVED"
	ResultRejected = "REJECTED"
	ResultTimedOut = "TIMED_OUT"
	ResultCaught   = "CAUGHT"
	ResultFailed   = "FAILED"
)

// StateTransitionPrice is what a Standard workflow costs per state
// transition ($0.025 per 1,000).
const StateTransitionPrice = 0.000025

// EstimatedCost is the run's Standard-workflow cost in US dollars.
func (r *Execution) EstimatedCost() float64 { return float64(r.Transitions) * StateTransitionPrice }

// Succeeded reports whether the execution ended SUCCEEDED.
func (r *Execution) Succeeded() bool { return r.Status == sim.StatusSucceeded }

// Simulate runs the compiled playbook's state machine (the ASL bytes that
// are deployed, placeholders and all) on the input, with virtual time:
// gates, waits and retry delays cost nothing. A States error ends the run
// FAILED in the Execution; an error return is an *InputError, an *OptionError,
// or something that stopped the simulation itself.
func Run(ctx context.Context, r *generator.Result, input []byte, opts Options) (*Execution, error) {
	if len(input) > sim.MaxPayloadBytes {
		return nil, &InputError{Reason: fmt.Sprintf("is %d bytes; Step Functions accepts at most %d", len(input), sim.MaxPayloadBytes)}
	}
	in, err := sim.Decode(input)
	if err != nil {
		return nil, &InputError{Reason: "is not JSON: " + err.Error()}
	}
	sm, err := asl.Parse(r.ASL)
	if err != nil {
		return nil, fmt.Errorf("cannot read the compiled definition: %w", err)
	}
	m := newSimModel(sm)
	if err := m.validate(r, &opts); err != nil {
		return nil, err
	}
	run := &Execution{Playbook: r.Name}
	setDefaults(r, input, &opts, run)
	iv := &invoker{model: m, handlers: opts.Handlers, approver: opts.Approver, fail: map[string]string{}, required: map[string]int{}}
	if iv.handlers == nil {
		iv.handlers = MockHandlers(MockOptions{LaunchType: opts.LaunchType, UnconfirmedFinding: opts.UnconfirmedFinding})
	}
	if iv.approver == nil {
		iv.approver = PolicyApprover(opts.Reject, opts.Timeout)
	}
	for _, f := range opts.Fail {
		iv.fail[f.Step] = f.Error
	}
	rec := &recorder{model: m, run: run, trace: opts.Trace, observe: opts.observe, ran: map[string]bool{}, required: iv.required}
	res, err := sim.Run(ctx, sm, in, sim.Options{
		Invoker: iv,
		Execution: sim.Execution{
			ID:               fmt.Sprintf("arn:aws:states:%s:%s:execution:irflow-%s:%s", opts.Region, opts.Account, r.Name, opts.ExecutionName),
			Name:             opts.ExecutionName,
			RoleArn:          fmt.Sprintf("arn:aws:iam::%s:role/irflow-%s-execution", opts.Account, r.Name),
			StateMachineID:   fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:irflow-%s", opts.Region, opts.Account, r.Name),
			StateMachineName: "irflow-" + r.Name,
		},
		Start:    opts.StartTime,
		Seed:     opts.Seed,
		Observer: rec.event,
	})
	if err != nil {
		return nil, err
	}
	rec.finish(res, &opts)
	return run, nil
}

// setDefaults fills the execution's identity and notes how a console input's
// launch type was chosen.
func setDefaults(r *generator.Result, input []byte, opts *Options, run *Execution) {
	inc, ierr := incident.Normalize(input, incident.Execution{Name: "x"})
	if opts.Region == "" {
		opts.Region = "us-east-1"
		if ierr == nil {
			opts.Region = inc.Region
		}
	}
	if opts.Account == "" {
		opts.Account = "123456789012"
		if ierr == nil {
			opts.Account = inc.Account
		}
	}
	if opts.ExecutionName == "" {
		sum := sha256.Sum256(append([]byte(r.Name+"\x00"), input...))
		h := hex.EncodeToString(sum[:16])
		opts.ExecutionName = h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
	}
	if opts.StartTime.IsZero() {
		opts.StartTime = time.Now().UTC().Truncate(time.Millisecond)
	}
	if ierr == nil && inc.Finding != nil {
		if ok, why := r.Triggers.Matches(inc.Finding.Type, inc.Finding.Severity); !ok {
			run.Notes = append(run.Notes, "in AWS this finding would not start the playbook: "+why)
		} else if inc.IsHost() && !r.Triggers.HostFindings {
			run.Notes = append(run.Notes, "in AWS this finding would not start the playbook: it is about container instance "+inc.InstanceID+
				" (resourceType Instance) and the playbook does not take host findings (triggers.guardduty.hostFindings)")
		}
	}
	if ierr != nil || opts.Handlers != nil {
		return
	}
	switch {
	case inc.LaunchType == "" && opts.LaunchType == "":
		run.Notes = append(run.Notes, "the console input names no launch type: assuming FARGATE (use --launch-type EC2 for an EC2 task)")
	case inc.LaunchType != "" && opts.LaunchType != "" && inc.LaunchType != opts.LaunchType:
		run.Notes = append(run.Notes, fmt.Sprintf("--launch-type %s ignored: the finding says the task runs on %s", opts.LaunchType, inc.LaunchType))
	}
}

// simModel is what the simulator knows about the generated machine's Task
// states, read from the definition itself.
type simModel struct {
	tasks map[string]taskInfo // by state name
	gates []string            // approval step ids
	steps []string            // step ids with Task states
	// skips are the Pass states that record a step SKIPPED because its
	// when: did not hold, by state name.
	skips map[string]taskInfo
}

// taskInfo is a Task state's static Payload fields.
type taskInfo struct {
	action, step, mode string
	gate               bool // lambda:invoke.waitForTaskToken
	timeout            int
}

func newSimModel(sm *asl.StateMachine) *simModel {
	m := &simModel{tasks: map[string]taskInfo{}, skips: map[string]taskInfo{}}
	seen := map[string]bool{}
	actions := map[string]string{} // step id → action, from its Task states
	defer func() {
		for name, info := range m.skips {
			info.action = actions[info.step]
			if info.action == "" {
				info.action = "parallel"
			}
			m.skips[name] = info
		}
	}()
	asl.Walk(sm, func(ns asl.NamedState) {
		if step, ok := skipStep(ns.State); ok {
			m.skips[ns.Name] = taskInfo{step: step}
			return
		}
		t, ok := ns.State.(*asl.Task)
		if !ok {
			return
		}
		p, _ := t.Parameters["Payload"].(map[string]any)
		info := taskInfo{gate: t.Resource == asl.ResourceLambdaInvokeWait, timeout: t.TimeoutSeconds}
		info.action, _ = p["action"].(string)
		info.step, _ = p["step"].(string)
		info.mode, _ = p["mode"].(string)
		m.tasks[ns.Name] = info
		if actions[info.step] == "" {
			actions[info.step] = info.action
		}
		if info.step != "" && !seen[info.step] {
			seen[info.step] = true
			m.steps = append(m.steps, info.step)
			if info.gate {
				m.gates = append(m.gates, info.step)
			}
		}
	})
	return m
}

// skipStep recognizes the state the compiler emits for a step whose when:
// did not hold: a Pass writing a SKIPPED task result to $.steps.<id>.
func skipStep(st asl.State) (string, bool) {
	p, ok := st.(*asl.Pass)
	if !ok || p.ResultPath == nil {
		return "", false
	}
	r, _ := p.Result.(map[string]any)
	step, ok := strings.CutPrefix(p.ResultPath.Value, "$.steps.")
	return step, ok && r["status"] == "SKIPPED"
}

// validate checks the gate and step names of the options.
func (m *simModel) validate(r *generator.Result, opts *Options) error {
	if lt := opts.LaunchType; lt != "" && lt != catalog.EC2 && lt != catalog.Fargate {
		return &OptionError{Message: fmt.Sprintf("--launch-type must be EC2 or FARGATE, not %q", lt)}
	}
	gate := func(flag, name string) error {
		if slices.Contains(m.gates, name) {
			return nil
		}
		return m.unknown(r, flag, name, m.gates, "approval step")
	}
	for _, g := range opts.Reject {
		if err := gate("--reject", g); err != nil {
			return err
		}
	}
	for _, g := range opts.Timeout {
		if err := gate("--timeout", g); err != nil {
			return err
		}
		if slices.Contains(opts.Reject, g) {
			return &OptionError{Message: fmt.Sprintf("gate %q cannot be both rejected (--reject) and left to time out (--timeout)", g)}
		}
	}
	for _, f := range opts.Fail {
		if !slices.Contains(m.steps, f.Step) {
			return m.unknown(r, "--fail", f.Step, m.steps, "step")
		}
	}
	return nil
}

func (m *simModel) unknown(r *generator.Result, flag, name string, valid []string, what string) error {
	msg := fmt.Sprintf("%s %s: playbook %s has no %s %q", flag, name, r.Name, what, name)
	var inner []string
	for _, lt := range catalog.LaunchTypes {
		for _, ps := range r.Steps[lt] {
			if ps.Parallel == name && !slices.Contains(inner, ps.ID) {
				inner = append(inner, ps.ID)
			}
		}
	}
	switch {
	case len(inner) > 0 && flag == "--fail":
		msg += fmt.Sprintf(" (%s is a parallel; name one of its steps: %s)", name, strings.Join(inner, ", "))
	case slices.Contains(m.steps, name):
		msg += fmt.Sprintf(" (%s is not an approval step)", name)
	case diag.Suggest(name, valid) != "":
		msg += " (" + diag.DidYouMean(name, valid) + ")"
	}
	if len(valid) == 0 {
		msg += fmt.Sprintf("; it has no %ss", what)
	} else {
		msg += fmt.Sprintf("; %ss: %s", what, strings.Join(valid, ", "))
	}
	return &OptionError{Message: msg}
}
