package workflows

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irflow/irflow/generator/format"
	"github.com/irflow/irflow/generator/scenario"
	"github.com/irflow/irflow/schemas"
	"github.com/irflow/irflow/tasks/catalog"
)

// The scenarios of each playbook are its <name>.test.yaml (irflow test;
// make test runs `irflow test workflows`). These tests hold the library to
// having them, and check what a scenario file cannot say.

// TestEveryPlaybookHasScenarios: a playbook comes with a test file whose
// cases pass, cover both launch types with every gate approved and one
// rejected, and run inputs its triggers would really start it on (no
// simulator note).
func TestEveryPlaybookHasScenarios(t *testing.T) {
	for _, b := range loadBooks(t) {
		name := strings.TrimSuffix(b.file, filepath.Ext(b.file))
		t.Run(name, func(t *testing.T) {
			file := name + ".test.yaml"
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("no scenarios: %v", err)
			}
			rep, err := scenario.Run(context.Background(), src, file, os.ReadFile)
			if err != nil {
				t.Fatal(err)
			}
			approved, rejected := map[string]bool{}, map[string]bool{}
			for _, c := range rep.Cases {
				if !c.Pass {
					t.Errorf("case %q fails: %s", c.Name, strings.Join(c.Failures, "; "))
				}
				for _, n := range c.Notes {
					t.Errorf("case %q: %s", c.Name, n)
				}
				if len(c.Steps) > 1 {
					lt := launchTypeOf(c)
					switch c.Outcome {
					case "COMPLETED":
						approved[lt] = true
					case "REJECTED":
						rejected[lt] = true
					}
				}
			}
			for _, lt := range catalog.LaunchTypes {
				if !approved[lt] || !rejected[lt] {
					t.Errorf("%s: no %s case approved (%v) and rejected (%v)", file, lt, approved[lt], rejected[lt])
				}
			}
		})
	}
}

// launchTypeOf reads the branch a case took from its first step's state.
func launchTypeOf(c scenario.CaseResult) string {
	for _, s := range c.Steps {
		if lt, _, ok := strings.Cut(s.State, ": "); ok {
			return lt
		}
	}
	return ""
}

// TestScenarioInputs: the findings the scenarios run are valid execution
// inputs (what EventBridge would deliver).
func TestScenarioInputs(t *testing.T) {
	s := schemas.MustCompiled(schemas.ExecutionInputURL)
	files, _ := filepath.Glob("testdata/findings/*.json")
	if len(files) == 0 {
		t.Fatal("no scenario inputs in testdata/findings")
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := s.Validate(doc); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestGatesGuardContainment: every gate of a playbook has a destructive
// step after it on each branch where it runs; a gate that guards nothing
// asks a person for nothing.
func TestGatesGuardContainment(t *testing.T) {
	for _, b := range loadBooks(t) {
		for _, lt := range catalog.LaunchTypes {
			plan := b.result.Steps[lt]
			for i, s := range plan {
				if s.Action != "request-approval" {
					continue
				}
				guarded := false
				for _, after := range plan[i+1:] {
					guarded = guarded || (after.OnRejectOf == "" && catalog.Lookup(after.Action).Destructive)
				}
				if !guarded {
					t.Errorf("%s %s: gate %q guards no destructive step", b.result.Name, lt, s.ID)
				}
			}
		}
	}
}

// TestLibraryFormatted: the library is in irflow fmt's canonical form, so
// a contributor's `irflow fmt -w workflows` changes only what they wrote.
func TestLibraryFormatted(t *testing.T) {
	files, _ := filepath.Glob("*.yaml")
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out, err := format.Source(src, f)
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != string(src) {
			t.Errorf("%s is not formatted: run irflow fmt -w workflows", f)
		}
	}
}
