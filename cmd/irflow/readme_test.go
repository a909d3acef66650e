package main

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/irflow/irflow/generator"
)

var update = flag.Bool("update", false, "rewrite the README's generated action table")

// TestReadmeActionTable fails when the README's action table is not the one
// the catalog generates; -update rewrites it.
func TestReadmeActionTable(t *testing.T) {
	const path = "../../README.md"
	const begin, end = "<!-- actions:begin -->\n", "<!-- actions:end -->"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("README has no %q ... %q block", begin, end)
	}
	want := actionsMarkdown()
	got := s[i+len(begin) : j]
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(s[:i+len(begin)]+want+s[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README action table is stale: run go test ./cmd/irflow -update\n--- README\n%s\n--- catalog\n%s", got, want)
}

// TestReadmeExampleCompiles: the language reference's example playbook is
// a playbook that validates strictly.
func TestReadmeExampleCompiles(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "```yaml\n# yaml-language-server")
	example, _, closed := strings.Cut(rest, "```")
	if !ok || !closed {
		t.Fatal("README has no example playbook (```yaml starting with the schema modeline)")
	}
	src := "# yaml-language-server" + example
	r, ds := generator.Compile([]byte(src), "README.md", generator.Options{Strict: true})
	if r == nil || len(ds) > 0 {
		t.Errorf("the README's example playbook does not validate strictly:\n%v", ds)
	}
}
