package main

import (
	"flag"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/generator/diag"
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

// TestDocsListEveryDiagnosticCode: the README's and docs/design.md's code
// tables list exactly diag.Codes, in its order (a code added to the
// compiler is a contract tools match on, so it is documented in both).
func TestDocsListEveryDiagnosticCode(t *testing.T) {
	row := regexp.MustCompile("(?m)^\\| `([a-z-]+)` \\| (?:error|warning) \\|")
	for _, doc := range []string{"../../README.md", "../../docs/design.md"} {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range row.FindAllStringSubmatch(string(b), -1) {
			got = append(got, m[1])
		}
		if !slices.Equal(got, diag.Codes) {
			t.Errorf("%s's diagnostic code table lists %v; want diag.Codes %v", doc, got, diag.Codes)
		}
	}
}
