package workflows

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/generator/diag"
	"github.com/irflow/irflow/tasks/catalog"
)

// minCoverage is the share of GuardDuty's ECS runtime finding types the
// library's triggers must match together.
const minCoverage = 0.90

// maxTransitions bounds the state transitions of one branch's approved run,
// counted the way estimateTransitions does: Standard workflows bill per
// transition and a lean execution history is one a responder can read.
const maxTransitions = 45

// book is one shipped playbook: its source, the strict compile and the
// step details the compiler's Result does not carry.
type book struct {
	file   string // file name in this folder
	src    []byte
	result *generator.Result
	steps  map[string]stepMeta // by step id
}

// loadBooks compiles every playbook of this folder strictly; a playbook
// that does not compile cleanly fails the calling test.
func loadBooks(t *testing.T) []*book {
	t.Helper()
	files, err := generator.PlaybookFiles(".")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no playbooks (*.yaml) in workflows/")
	}
	var out []*book
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r, ds := generator.Compile(src, f, generator.Options{Strict: true})
		if r == nil || len(ds) > 0 {
			var b strings.Builder
			diag.WriteText(&b, ds)
			t.Fatalf("%s does not compile cleanly with --strict:\n%s", f, b.String())
		}
		steps, err := parseStepMeta(src)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, &book{file: f, src: src, result: r, steps: steps})
	}
	return out
}

func TestPlaybooksCompileStrict(t *testing.T) {
	books := loadBooks(t)
	if len(books) < 6 {
		t.Errorf("the library has %d playbooks; want at least 6", len(books))
	}
	for _, b := range books {
		if want := strings.TrimSuffix(b.file, filepath.Ext(b.file)); b.result.Name != want {
			t.Errorf("%s: metadata.name is %q; want the file name %q", b.file, b.result.Name, want)
		}
		if b.result.Severity == "" {
			t.Errorf("%s: metadata.severity is not set", b.file)
		}
		if len(b.result.Triggers.FindingTypes) == 0 {
			t.Errorf("%s: no GuardDuty finding types trigger it", b.file)
		}
		if _, err := splitDescription(b.result.Description); err != nil {
			t.Errorf("%s: metadata.description: %v", b.file, err)
		}
	}
}

// TestCoverage measures the share of GuardDuty's ECS runtime finding types
// that start some playbook, and checks that none starts two: both would
// race for the same task and the second would end DUPLICATE.
func TestCoverage(t *testing.T) {
	books := loadBooks(t)
	owners := findingOwners(books)
	known := generator.KnownFindingTypes()
	var uncovered []string
	for _, ft := range known {
		switch n := len(owners[ft]); {
		case n == 0:
			uncovered = append(uncovered, ft)
		case n > 1:
			t.Errorf("%s starts %d playbooks (%s); give it to one", ft, n, strings.Join(owners[ft], ", "))
		}
	}
	share := float64(len(known)-len(uncovered)) / float64(len(known))
	t.Logf("coverage: %d of %d ECS runtime finding types (%.0f%%)", len(known)-len(uncovered), len(known), 100*share)
	if len(uncovered) > 0 {
		t.Logf("uncovered: %s", strings.Join(uncovered, ", "))
	}
	if share < minCoverage {
		t.Errorf("coverage %.0f%% is below %.0f%%; uncovered: %s", 100*share, 100*minCoverage, strings.Join(uncovered, ", "))
	}
}

// branchRequirements are the actions the launch-type table (docs/design.md, "Launch types") asks of
// every branch: evidence first, containment after, a human in between.
var branchRequirements = map[string][]string{
	catalog.EC2:     {"capture-memory", "collect-host-artifacts", "snapshot-volumes", "capture-task-metadata", "collect-logs", "enable-flow-logs", "request-approval", "isolate-network", "protect-instance", "stop-task"},
	catalog.Fargate: {"tag-resources", "capture-task-metadata", "collect-logs", "enable-flow-logs", "request-approval", "isolate-network", "stop-task"},
}

func TestBranches(t *testing.T) {
	for _, b := range loadBooks(t) {
		for _, lt := range catalog.LaunchTypes {
			t.Run(b.result.Name+"/"+lt, func(t *testing.T) {
				plan := b.result.Steps[lt]
				if len(plan) == 0 {
					t.Fatalf("the %s branch is empty", lt)
				}
				actions := map[string]bool{}
				for _, s := range plan {
					a := catalog.Lookup(s.Action)
					if a == nil {
						t.Fatalf("step %q: unknown action %q", s.ID, s.Action)
					}
					if !a.Supports(lt) {
						t.Errorf("step %q: %s does not run on %s", s.ID, s.Action, lt)
					}
					actions[s.Action] = true
				}
				for _, want := range branchRequirements[lt] {
					if !actions[want] {
						t.Errorf("the %s branch has no %s step", lt, want)
					}
				}
				if n := estimateTransitions(plan); n > maxTransitions {
					t.Errorf("an approved %s run takes about %d state transitions; keep it at %d or fewer", lt, n, maxTransitions)
				}
			})
		}
	}
}

// TestEvidenceBeforeContainment checks the order docs/design.md asks for on every
// branch: no evidence step runs after the task is stopped, and the EC2
// branch takes memory before anything isolates the host.
func TestEvidenceBeforeContainment(t *testing.T) {
	for _, b := range loadBooks(t) {
		for _, lt := range catalog.LaunchTypes {
			stopped, isolated := "", ""
			for _, s := range b.result.Steps[lt] {
				a := catalog.Lookup(s.Action)
				if a.Kind == catalog.KindEvidence && stopped != "" {
					t.Errorf("%s/%s: evidence step %q runs after %q stopped the task", b.result.Name, lt, s.ID, stopped)
				}
				if s.Action == "capture-memory" && isolated != "" {
					t.Errorf("%s/%s: memory is captured after %q isolated the host", b.result.Name, lt, isolated)
				}
				if a.StopsTarget && stopped == "" {
					stopped = s.ID
				}
				if s.Action == "isolate-network" && isolated == "" {
					isolated = s.ID
				}
			}
		}
	}
}

// estimateTransitions counts the states an approved run of a branch enters:
// Resolve target and Launch type? before it; Completed, Finalize case,
// Outcome? and Done after it; one per sync Task and gate; one per Parallel;
// five per SSM step that needs one poll (start, done?, wait, check, done?),
// three more per extra poll.
func estimateTransitions(plan []generator.PlannedStep) int {
	n := 2 + 4
	parallels := map[string]bool{}
	for _, s := range plan {
		if s.OnRejectOf != "" {
			continue // an approved run does not take them
		}
		if s.Parallel != "" && !parallels[s.Parallel] {
			parallels[s.Parallel] = true
			n++
		}
		if a := catalog.Lookup(s.Action); a != nil && a.Async {
			n += 5
		} else {
			n++
		}
	}
	return n
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
