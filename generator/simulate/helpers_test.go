package simulate

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/generator/internal/asl"
	"github.com/irflow/irflow/tasks/incident"
)

// simStart is the virtual start of every test execution.
var simStart = time.Date(2026, 11, 20, 14, 2, 12, 0, time.UTC)

// shippedPlaybook is a playbook of workflows/, compiled.
type shippedPlaybook struct {
	file string
	r    *generator.Result
	sm   *asl.StateMachine
}

// shippedPlaybooks compiles every playbook in workflows/, whoever added it.
func shippedPlaybooks(t testing.TB) []shippedPlaybook {
	t.Helper()
	files, _ := generator.PlaybookFiles("../../workflows")
	if len(files) == 0 {
		t.Fatal("no playbooks in workflows/")
	}
	var out []shippedPlaybook
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r, ds := generator.Compile(src, f, generator.Options{})
		if r == nil {
			t.Fatalf("%s does not compile:\n%v", f, ds)
		}
		sm, err := asl.Parse(r.ASL)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, shippedPlaybook{file: f, r: r, sm: sm})
	}
	return out
}

// step is the compiler's plan of step id on any launch type, or nil.
func (p shippedPlaybook) step(id string) *generator.PlannedStep {
	for _, lt := range []string{"EC2", "FARGATE"} {
		for i, s := range p.r.Steps[lt] {
			if s.ID == id {
				return &p.r.Steps[lt][i]
			}
		}
	}
	return nil
}

// exempt reports whether a step escapes approval-required.
func (p shippedPlaybook) exempt(id string) bool {
	s := p.step(id)
	return s != nil && s.Exempt
}

// failing reports whether a failure of step id, on the launch type's
// branch, fails the execution.
func (p shippedPlaybook) failing(lt, id string) bool {
	for _, s := range p.r.Steps[lt] {
		if s.ID == id {
			return s.Fatal
		}
	}
	// A forEach is no planned step itself: a failure of its iteration's
	// resolve-target (which the trace names after the forEach) fails the
	// Map, fatal as its steps are (they default to its onError).
	for _, s := range p.r.Steps[lt] {
		if s.ForEach == id {
			return s.Fatal
		}
	}
	return false
}

// topLevel is the set of states of the machine's top level.
func (p shippedPlaybook) topLevel() map[string]bool {
	m := map[string]bool{}
	for _, ns := range p.sm.States {
		m[ns.Name] = true
	}
	return m
}

// inputFile is a sample or test input.
type inputFile struct {
	name string
	data []byte
}

func readInputs(t testing.TB, pattern string) []inputFile {
	t.Helper()
	files, _ := filepath.Glob(pattern)
	sort.Strings(files)
	var out []inputFile
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, inputFile{name: filepath.Base(f), data: b})
	}
	return out
}

// simulate runs a simulation at the fixed start time and fails the test on
// an error return.
func simulate(t testing.TB, r *generator.Result, input []byte, opts Options) *Execution {
	t.Helper()
	opts.StartTime = simStart
	run, err := Run(context.Background(), r, input, opts)
	if err != nil {
		t.Fatalf("Simulate: %v", err)
	}
	return run
}

// variant is one way to run an input: its name and options.
type variant struct {
	name string
	opts Options
	// kind is approve (everything approved), reject, timeout or fail; target
	// the gate or step it names.
	kind, target string
}

// baseVariants are the approve-everything runs of an input: once, and for
// a valid console input (no launch type of its own) also with each launch type.
func baseVariants(in inputFile) []variant {
	vs := []variant{{name: "approve", kind: "approve"}}
	if inc, err := incidentOf(in.data); err == nil && inc.LaunchType == "" {
		for _, lt := range []string{"EC2", "FARGATE"} {
			vs = append(vs, variant{name: lt + "/approve", kind: "approve", opts: Options{LaunchType: lt}})
		}
	}
	return vs
}

// followUps are the runs derived from an approve-everything run: reject and
// time out each gate it passed, and fail each step it ran.
func followUps(base variant, run *Execution) []variant {
	prefix := strings.TrimSuffix(base.name, "approve")
	var out []variant
	seen := map[string]bool{}
	for _, s := range run.Steps {
		if s.Step == "" || seen[s.Step] || s.Result == ResultSkipped {
			continue // a step its when: skipped has nothing to reject or fail
		}
		seen[s.Step] = true
		with := func(kind string, edit func(o *Options)) {
			o := base.opts
			edit(&o)
			out = append(out, variant{name: prefix + kind + "-" + s.Step, opts: o, kind: kind, target: s.Step})
		}
		if s.Result == ResultApproved {
			with("reject", func(o *Options) { o.Reject = []string{s.Step} })
			with("timeout", func(o *Options) { o.Timeout = []string{s.Step} })
		}
		// Every other step fails with a transient Lambda error, which is
		// retried with backoff before the Catch sees it.
		name := asl.ErrTaskFailed
		if len(seen)%2 == 0 {
			name = "Lambda.ServiceException"
		}
		with("fail", func(o *Options) { o.Fail = []StepFailure{{Step: s.Step, Error: name}} })
	}
	return out
}

func incidentOf(input []byte) (*incident.Incident, error) {
	return incident.Normalize(input, incident.Execution{Name: "test"})
}
