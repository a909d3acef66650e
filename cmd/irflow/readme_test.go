package main

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/internal/mdblock"
)

var update = flag.Bool("update", false, "rewrite the README's generated action table")

// TestReadmeActionTable fails when the README's action table is not the one
// the catalog generates; -update rewrites it.
func TestReadmeActionTable(t *testing.T) {
	mdblock.Check(t, "../../README.md", "actions", actionsMarkdown(), *update, "README action table", "go test ./cmd/irflow -update")
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
