package simulate

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/generator/internal/asl"
	"github.com/irflow/irflow/generator/internal/sim"
	"github.com/irflow/irflow/tasks/catalog"
	"github.com/irflow/irflow/tasks/contract"
)

const (
	succeeded = sim.StatusSucceeded
	failed    = sim.StatusFailed
	// perOption: a console input's launch type is --launch-type (FARGATE by default).
	perOption = "per --launch-type"
)

// testInputs are the inputs of testdata/inputs and how docs/design.md ("Inputs and outcomes")
// says every playbook must end on them. The .txt files are not JSON: they
// cannot start an execution (irflow simulate exits 2).
var testInputs = map[string]struct{ status, outcome, launchType string }{
	"guardduty-ec2-other-account.json":        {succeeded, generator.OutcomeCompleted, "EC2"},
	"guardduty-fargate-other-region.json":     {succeeded, generator.OutcomeCompleted, "FARGATE"},
	"guardduty-ecs-anywhere.json":             {failed, generator.OutcomeUnsupported, "EXTERNAL"},
	"guardduty-managed-instances.json":        {failed, generator.OutcomeUnsupported, "MANAGED_INSTANCES"},
	"guardduty-task-in-other-region.json":     {failed, generator.OutcomeInvalidInput, ""},
	"guardduty-ecs-without-task-details.json": {failed, generator.OutcomeInvalidInput, ""},
	"guardduty-ec2-instance-finding.json":     {failed, generator.OutcomeInvalidInput, ""}, // an instance finding not from Runtime Monitoring (Recon:EC2/Portscan): refused even where the playbook takes host findings
	"guardduty-eks-finding.json":              {failed, generator.OutcomeInvalidInput, ""},
	"eventbridge-ec2-state-change.json":       {failed, generator.OutcomeInvalidInput, ""},
	"eventbridge-guardduty-malware-scan.json": {failed, generator.OutcomeInvalidInput, ""},
	"console-live.json":                       {succeeded, generator.OutcomeCompleted, perOption},
	"console-missing-task-arn.json":           {failed, generator.OutcomeInvalidInput, ""},
	"console-short-task-arn.json":             {failed, generator.OutcomeInvalidInput, ""},
	"console-service-arn.json":                {failed, generator.OutcomeInvalidInput, ""},
	"console-hostile-task-arn.json":           {failed, generator.OutcomeInvalidInput, ""},
	"console-task-arn-newline.json":           {failed, generator.OutcomeInvalidInput, ""},
	"console-task-arn-path-traversal.json":    {failed, generator.OutcomeInvalidInput, ""},
	"console-task-arn-wrong-partition.json":   {failed, generator.OutcomeInvalidInput, ""},
	"console-task-arn-number.json":            {failed, generator.OutcomeInvalidInput, ""},
	"console-unknown-field.json":              {failed, generator.OutcomeInvalidInput, ""},
	"console-requested-by-injection.json":     {failed, generator.OutcomeInvalidInput, ""},
	"empty-object.json":                       {failed, generator.OutcomeInvalidInput, ""},
	"array.json":                              {failed, generator.OutcomeInvalidInput, ""},
	"null.json":                               {failed, generator.OutcomeInvalidInput, ""},
	"string.json":                             {failed, generator.OutcomeInvalidInput, ""},
	"not-json.txt":                            {},
	"empty.txt":                               {},
	"two-values.txt":                          {},
	"truncated.txt":                           {},
}

// expected is how a run on the input must end: from the table for test
// inputs; for the samples (others may add some) from docs/design.md's rules.
func expected(t *testing.T, in inputFile) (status, outcome, launchType string) {
	if want, ok := testInputs[in.name]; ok {
		return want.status, want.outcome, want.launchType
	}
	inc, err := incidentOf(in.data)
	switch {
	case err != nil:
		return failed, generator.OutcomeInvalidInput, ""
	case inc.LaunchType == "":
		return succeeded, generator.OutcomeCompleted, perOption
	case inc.LaunchType == catalog.EC2 || inc.LaunchType == catalog.Fargate:
		return succeeded, generator.OutcomeCompleted, inc.LaunchType
	}
	return failed, generator.OutcomeUnsupported, inc.LaunchType
}

func TestTestInputsListed(t *testing.T) {
	for _, in := range readInputs(t, "testdata/inputs/*") {
		if _, ok := testInputs[in.name]; !ok {
			t.Errorf("testdata/inputs/%s has no expected outcome in testInputs", in.name)
		}
	}
}

// TestSimulateShippedPlaybooks holds every shipped playbook to docs/design.md on
// every sample and test input: the status, outcome and launch type; no
// action runs on a launch type it does not support; no destructive action
// runs before an approval; rejecting a gate ends REJECTED with nothing
// destructive after it; a gate nobody answers does what onTimeout says;
// failing a step whose failure is fatal ends FAILED with the case
// finalized, and any other step's failure is caught; invalid input runs no
// evidence or containment action; no run takes more than 60 transitions.
func TestSimulateShippedPlaybooks(t *testing.T) {
	inputs := append(readInputs(t, "../../examples/inputs/*.json"), readInputs(t, "testdata/inputs/*.json")...)
	for _, p := range shippedPlaybooks(t) {
		for _, in := range inputs {
			status, outcome, lt := expected(t, in)
			if inc, err := incidentOf(in.data); err == nil && inc.IsHost() {
				// A finding about a container instance: only a playbook
				// that takes host findings responds (its target, the host,
				// is EC2); resolve-target refuses it for the others.
				status, outcome, lt = failed, generator.OutcomeInvalidInput, ""
				if p.r.Triggers.HostFindings {
					status, outcome, lt = succeeded, generator.OutcomeCompleted, catalog.EC2
				}
			}
			for _, base := range baseVariants(in) {
				t.Run(p.r.Name+"/"+strings.TrimSuffix(in.name, ".json")+"/"+base.name, func(t *testing.T) {
					want := lt
					if want == perOption {
						want = base.opts.LaunchType
						if want == "" {
							want = catalog.Fargate
						}
					}
					run := simulate(t, p.r, in.data, base.opts)
					if run.Status != status || run.Outcome != outcome || run.LaunchType != want {
						t.Fatalf("got %s %s on %q; want %s %s on %q\n%s", run.Status, run.Outcome, run.LaunchType, status, outcome, want, describe(run))
					}
					checkRun(t, p, run)
					if run.Outcome != generator.OutcomeCompleted {
						return
					}
					for _, v := range followUps(base, run) {
						checkFollowUp(t, p, in, v, run)
					}
				})
			}
		}
	}
}

func checkFollowUp(t *testing.T, p shippedPlaybook, in inputFile, v variant, approved *Execution) {
	t.Helper()
	run := simulate(t, p.r, in.data, v.opts)
	checkRun(t, p, run)
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("%s: "+format+"\n%s", append([]any{v.name}, append(args, describe(run))...)...)
	}
	info := p.step(v.target)
	switch v.kind {
	case "reject":
		if run.Status != succeeded || run.Outcome != generator.OutcomeRejected {
			fail("got %s %s; want SUCCEEDED REJECTED", run.Status, run.Outcome)
		}
		noDestructionAfter(t, run, v.target, ResultRejected)
	case "timeout":
		want := generator.OutcomeRejected
		if info.OnTimeout == "approve" {
			want = generator.OutcomeCompleted
		}
		if run.Status != succeeded || run.Outcome != want {
			fail("got %s %s; want SUCCEEDED %s (onTimeout %s)", run.Status, run.Outcome, want, info.OnTimeout)
		}
		if want == generator.OutcomeRejected {
			noDestructionAfter(t, run, v.target, ResultTimedOut)
		}
	case "fail":
		if !p.failing(run.LaunchType, v.target) {
			if run.Status != approved.Status || run.Outcome != approved.Outcome {
				fail("a failure of step %s (onError continue) ended %s %s; want %s %s", v.target, run.Status, run.Outcome, approved.Status, approved.Outcome)
			}
			return
		}
		if run.Status != failed || run.Outcome != generator.OutcomeFailed {
			fail("got %s %s; want FAILED FAILED", run.Status, run.Outcome)
		}
		top := p.topLevel()
		after := false
		for _, s := range run.Steps {
			switch {
			case s.Step == v.target && s.Result == ResultFailed:
				after = true
			case after && s.Step != "" && top[s.State]:
				fail("step %s ran after step %s failed", s.Step, v.target)
			}
		}
		if !after {
			fail("no FAILED entry for step %s", v.target)
		}
	}
}

// checkRun holds a run to the rules every run keeps.
func checkRun(t *testing.T, p shippedPlaybook, run *Execution) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf(format+"\n%s", append(args, describe(run))...)
	}
	// A forEach's Map runs its steps once per task of its list: each
	// iteration (its resolve-target in mode sibling, its steps and their
	// polls) may take 12 more transitions than the run's own 60.
	iterations := 0
	for _, s := range run.Steps {
		if s.Action == "resolve-target" && s.Step != "" {
			iterations++
		}
	}
	if limit := 60 + 12*iterations; run.Transitions > limit {
		fail("%d state transitions; at most %d (60, and 12 per forEach iteration: %d)", run.Transitions, limit, iterations)
	}
	if (run.Status == succeeded) != (run.Outcome == generator.OutcomeCompleted || run.Outcome == generator.OutcomeRejected || run.Outcome == generator.OutcomeDuplicate) {
		fail("status %s with outcome %s", run.Status, run.Outcome)
	}
	approved := false
	finalized := 0
	for i, s := range run.Steps {
		a := catalog.Lookup(s.Action)
		if a == nil {
			fail("entry %d runs unknown action %q", i, s.Action)
			continue
		}
		lt := run.LaunchType
		if (lt == catalog.EC2 || lt == catalog.Fargate) && !a.Supports(lt) {
			fail("%s (%s) ran on %s, which it does not support", s.State, s.Action, lt)
		}
		if run.Outcome == generator.OutcomeInvalidInput || run.Outcome == generator.OutcomeUnsupported {
			if a.Kind == catalog.KindEvidence || a.Kind == catalog.KindContainment {
				fail("%s (%s) ran on an execution that ended %s", s.State, s.Action, run.Outcome)
			}
		}
		switch {
		case s.Result == ResultApproved:
			approved = true
		case s.Result == ResultTimedOut:
			if info := p.step(s.Step); info != nil && info.OnTimeout == "approve" {
				approved = true
			}
		case a.Destructive && !approved && !p.exempt(s.Step):
			fail("destructive %s (%s) ran before any approval", s.State, s.Action)
		}
		if s.Action == "finalize-case" {
			finalized++
			if i != len(run.Steps)-1 {
				fail("finalize-case is not the last task")
			}
		}
	}
	// A case exists once resolve-target described the task: it is finalized
	// exactly once, whatever happens later.
	switch {
	case run.LaunchType != "" && finalized != 1:
		fail("the case was finalized %d times; want once", finalized)
	case run.LaunchType == "" && finalized != 0:
		fail("finalize-case ran though resolve-target never described a task")
	case run.Outcome == generator.OutcomeInvalidInput && len(run.Steps) != 1:
		fail("invalid input ran more than resolve-target")
	}
}

// noDestructionAfter checks that nothing destructive runs after the gate's entry.
func noDestructionAfter(t *testing.T, run *Execution, gate, result string) {
	t.Helper()
	after := false
	for _, s := range run.Steps {
		if s.Step == gate && s.Result == result {
			after = true
			continue
		}
		if a := catalog.Lookup(s.Action); after && a != nil && a.Destructive {
			t.Errorf("destructive %s (%s) ran after gate %s ended %s\n%s", s.State, s.Action, gate, result, describe(run))
		}
	}
	if !after {
		t.Errorf("gate %s never ended %s\n%s", gate, result, describe(run))
	}
}

func describe(run *Execution) string {
	var b strings.Builder
	for _, s := range run.Steps {
		b.WriteString("    " + s.State + " " + s.Action + " " + s.Result + "\n")
	}
	return b.String() + "    " + run.Status + " " + run.Outcome + " " + run.Error
}

func TestSimulateRefusesInputsThatAreNotJSON(t *testing.T) {
	r := shippedPlaybooks(t)[0].r
	for _, in := range readInputs(t, "testdata/inputs/*.txt") {
		t.Run(in.name, func(t *testing.T) {
			_, err := Run(context.Background(), r, in.data, Options{StartTime: simStart})
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Errorf("got %v; want an InputError", err)
			}
		})
	}
	big := []byte(`{"taskArn":"` + strings.Repeat("a", sim.MaxPayloadBytes) + `"}`)
	if _, err := Run(context.Background(), r, big, Options{}); !errors.As(err, new(*InputError)) {
		t.Errorf("a %d-byte input: got %v; want an InputError", len(big), err)
	}
}

func TestSimulateOptionErrors(t *testing.T) {
	p := shippedPlaybooks(t)[0]
	gate := ""
	for _, s := range p.r.Steps[catalog.Fargate] {
		if s.Action == "request-approval" {
			gate = s.ID
		}
	}
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"unknown gate", Options{Reject: []string{"no-such-gate"}}, "no approval step"},
		{"unknown timeout gate", Options{Timeout: []string{"nope"}}, "no approval step"},
		{"unknown step", Options{Fail: []StepFailure{{Step: "no-such-step", Error: asl.ErrTaskFailed}}}, "no step"},
		{"bad launch type", Options{LaunchType: "EXTERNAL"}, "EC2 or FARGATE"},
		{"reject and timeout", Options{Reject: []string{gate}, Timeout: []string{gate}}, "both"},
	}
	if gate == "" {
		tests = tests[:4]
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Run(context.Background(), p.r, []byte(`{}`), tt.opts)
			var oe *OptionError
			if !errors.As(err, &oe) || !strings.Contains(oe.Message, tt.want) {
				t.Errorf("got %v; want an OptionError saying %q", err, tt.want)
			}
		})
	}
}

func TestParseStepFailure(t *testing.T) {
	tests := []struct {
		in, step, name string
		ok             bool
	}{
		{"stop", "stop", "States.TaskFailed", true},
		{"stop=Lambda.ServiceException", "stop", "Lambda.ServiceException", true},
		{"stop=", "", "", false},
		{"=X", "", "", false},
		{"stop=a b", "", "", false},
	}
	for _, tt := range tests {
		got, err := ParseStepFailure(tt.in)
		if (err == nil) != tt.ok || got.Step != tt.step || got.Error != tt.name {
			t.Errorf("ParseStepFailure(%q) = %+v, %v; want %s=%s ok %v", tt.in, got, err, tt.step, tt.name, tt.ok)
		}
	}
}

// TestSimulateResolveFailures covers what the mocks never do on their own:
// a duplicate execution, a task that is gone, throttling.
func TestSimulateResolveFailures(t *testing.T) {
	p := shippedPlaybooks(t)[0]
	input := readInputs(t, "../../examples/inputs/guardduty-fargate-cryptominer.json")[0].data
	throwing := func(err error) Handlers {
		h := MockHandlers(MockOptions{})
		h["resolve-target"] = func(context.Context, json.RawMessage) (json.RawMessage, error) { return nil, err }
		return h
	}
	tests := []struct {
		name              string
		err               error
		status, outcome   string
		resolveAttempts   int
		notifiedOrRetried string
	}{
		{"duplicate", &TaskError{Name: generator.ErrDuplicateIncident, Message: "case gd-1 is open"}, succeeded, generator.OutcomeDuplicate, 1, ""},
		{"target gone", &TaskError{Name: generator.ErrTargetNotFound, Message: "no such task"}, failed, generator.OutcomeFailed, 1, "notify"},
		{"throttled", &TaskError{Name: generator.ErrRetryable, Message: "Throttling"}, failed, generator.OutcomeFailed, 7, "notify"},
		{"plain error", errors.New("boom"), failed, generator.OutcomeFailed, 1, "notify"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := simulate(t, p.r, input, Options{Handlers: throwing(tt.err)})
			if run.Status != tt.status || run.Outcome != tt.outcome {
				t.Fatalf("got %s %s; want %s %s\n%s", run.Status, run.Outcome, tt.status, tt.outcome, describe(run))
			}
			if got := run.Steps[0].Attempts; got != tt.resolveAttempts {
				t.Errorf("resolve-target ran %d times; want %d", got, tt.resolveAttempts)
			}
			for _, s := range run.Steps[1:] {
				if s.Action != tt.notifiedOrRetried {
					t.Errorf("%s (%s) ran after resolve-target failed", s.State, s.Action)
				}
			}
			checkRun(t, p, run)
		})
	}
}

// TestErrorName: the simulator names a handler's error as Lambda would.
func TestErrorName(t *testing.T) {
	type InvalidInputError struct{ error }
	tests := []struct {
		err  error
		want string
	}{
		{&TaskError{Name: "RetryableError"}, "RetryableError"},
		{&contract.PreconditionFailedError{}, "PreconditionFailedError"},
		{&InvalidInputError{errors.New("x")}, "InvalidInputError"},
		{InvalidInputError{errors.New("x")}, "InvalidInputError"},
		{errors.New("x"), "errorString"},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := contract.ErrorName(tt.err); got != tt.want {
			t.Errorf("contract.ErrorName(%T) = %q; want %q", tt.err, got, tt.want)
		}
	}
}

// TestManualFalseRefusesConsoleInputs: a playbook with triggers.manual:
// false starts from GuardDuty findings only; resolve-target (the same
// incident.Admit in the mock and in AWS) refuses a console input with
// InvalidInputError naming the input, and nothing else runs.
func TestManualFalseRefusesConsoleInputs(t *testing.T) {
	src := `apiVersion: irflow/v1
kind: Playbook
metadata: { name: findings-only, title: Findings only, severity: HIGH }
triggers:
  guardduty: { findingTypes: ["Impact:Runtime/CryptoMinerExecuted"] }
  manual: false
steps:
  - id: tag
    action: tag-resources
`
	r, diags := generator.Compile([]byte(src), "findings-only.yaml", generator.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	console := readInputs(t, "../../examples/inputs/console-fargate.json")[0].data
	run := simulate(t, r, console, Options{})
	if run.Status != failed || run.Outcome != generator.OutcomeInvalidInput || run.Error != generator.ErrInvalidInput || !strings.Contains(run.Cause, "triggers.manual is false") {
		t.Fatalf("console input: %s %s %s %q; want FAILED %s %s naming triggers.manual\n%s", run.Status, run.Outcome, run.Error, run.Cause, generator.OutcomeInvalidInput, generator.ErrInvalidInput, describe(run))
	}
	for _, s := range run.Steps[1:] {
		t.Errorf("%s (%s) ran after the console input was refused", s.State, s.Action)
	}
	finding := readInputs(t, "../../examples/inputs/guardduty-fargate-cryptominer.json")[0].data
	if run := simulate(t, r, finding, Options{}); run.Status != succeeded || run.Outcome != generator.OutcomeCompleted {
		t.Errorf("finding: %s %s; want SUCCEEDED %s\n%s", run.Status, run.Outcome, generator.OutcomeCompleted, describe(run))
	}
}
