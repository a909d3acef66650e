package scenario

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"time"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/generator/diag"
	"github.com/irflow/irflow/generator/simulate"
)

// ReadFunc reads a file a test file names (its playbook, its inputs), by a
// path already joined to the test file's folder.
type ReadFunc func(name string) ([]byte, error)

// Report is how one test file went.
type Report struct {
	File     string `json:"file"`
	Playbook string `json:"playbook"`
	// Diagnostics are the playbook's, when it does not compile (every case
	// then fails) or has warnings.
	Diagnostics diag.Diagnostics `json:"diagnostics"`
	Cases       []CaseResult     `json:"cases"`
}

// CaseResult is how one case went: Failures say what differed.
type CaseResult struct {
	Name     string          `json:"name"`
	Pass     bool            `json:"pass"`
	Failures []string        `json:"failures"`
	Status   string          `json:"status"`
	Outcome  string          `json:"outcome"`
	Steps    []simulate.Step `json:"steps"`
	Notes    []string        `json:"notes"`
	Elapsed  time.Duration   `json:"-"`
}

// Passed reports whether every case passed.
func (r *Report) Passed() bool {
	for _, c := range r.Cases {
		if !c.Pass {
			return false
		}
	}
	return !r.Diagnostics.HasErrors()
}

// FileError is a test file that cannot be run at all: unreadable, not a
// PlaybookTest, or naming files that cannot be read (irflow test exits 2).
type FileError struct{ Err error }

func (e *FileError) Error() string { return e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

// Run parses a test file and runs its cases against its playbook. Paths in
// it are relative to its folder (or absolute), slash-separated; read reads
// them. A *FileError means the
// file could not be run; a playbook with errors fails every case.
func Run(ctx context.Context, src []byte, filename string, read ReadFunc) (*Report, error) {
	f, err := Parse(src, filename)
	if err != nil {
		return nil, &FileError{err}
	}
	dir := path.Dir(filename)
	rel := func(p string) string {
		if path.IsAbs(p) {
			return p
		}
		return path.Join(dir, p)
	}
	rep := &Report{File: filename, Playbook: rel(f.Playbook)}
	pb, err := read(rep.Playbook)
	if err != nil {
		return nil, &FileError{fmt.Errorf("%s: playbook %s: %w", filename, f.Playbook, err)}
	}
	inputs := map[string][]byte{}
	for _, c := range f.Cases {
		if c.InputPath == "" || inputs[c.InputPath] != nil {
			continue
		}
		b, err := read(rel(c.InputPath))
		if err != nil {
			return nil, &FileError{fmt.Errorf("%s:%d: case %q: input %s: %w", filename, c.Line, c.Name, c.InputPath, err)}
		}
		inputs[c.InputPath] = b
	}
	r, ds := generator.Compile(pb, rep.Playbook, generator.Options{})
	rep.Diagnostics = ds
	for _, c := range f.Cases {
		cr := CaseResult{Name: c.Name}
		if r == nil {
			cr.Failures = []string{fmt.Sprintf("the playbook does not compile (%d errors)", ds.Errors())}
		} else {
			in := c.Input
			if c.InputPath != "" {
				in = inputs[c.InputPath]
			}
			start := time.Now()
			cr = runCase(ctx, r, c, in)
			cr.Elapsed = time.Since(start)
		}
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		cr.Pass = len(cr.Failures) == 0
		rep.Cases = append(rep.Cases, cr)
	}
	return rep, nil
}

// runCase simulates one case and checks what it expects.
func runCase(ctx context.Context, r *generator.Result, c Case, input []byte) CaseResult {
	cr := CaseResult{Name: c.Name}
	opts := simulate.Options{LaunchType: c.LaunchType}
	for _, gate := range slices.Sorted(maps.Keys(c.Decisions)) {
		switch c.Decisions[gate] {
		case Reject:
			opts.Reject = append(opts.Reject, gate)
		case Timeout:
			opts.Timeout = append(opts.Timeout, gate)
		}
	}
	for _, step := range slices.Sorted(maps.Keys(c.Failures)) {
		opts.Fail = append(opts.Fail, simulate.StepFailure{Step: step, Error: c.Failures[step]})
	}
	run, err := simulate.Run(ctx, r, input, opts)
	var oe *simulate.OptionError
	var ie *simulate.InputError
	switch {
	case errors.As(err, &oe), errors.As(err, &ie):
		cr.Failures = append(cr.Failures, err.Error())
		return cr
	case err != nil:
		cr.Failures = append(cr.Failures, "simulation: "+err.Error())
		return cr
	}
	cr.Status, cr.Outcome, cr.Steps, cr.Notes = run.Status, run.Outcome, run.Steps, run.Notes
	for _, gate := range slices.Sorted(maps.Keys(c.Decisions)) {
		if c.Decisions[gate] != Approve {
			continue // the simulator checked the gate and notes a rejection or timeout that had no effect
		}
		if !slices.Contains(gates(r), gate) {
			cr.Failures = append(cr.Failures, fmt.Sprintf("decisions: %s is not an approval step of the playbook%s", gate, hint(gate, gates(r))))
		} else if !ranGate(run, gate) {
			cr.Notes = append(cr.Notes, fmt.Sprintf("decision approve %s had no effect: the gate did not run", gate))
		}
	}
	cr.Failures = append(cr.Failures, check(c.Expect, run, r)...)
	return cr
}

func ranGate(run *simulate.Execution, gate string) bool {
	return slices.ContainsFunc(run.Steps, func(s simulate.Step) bool { return s.Step == gate })
}
