package workflows

import (
	"regexp"
	"strings"
	"testing"

	"github.com/irflow/irflow/internal/mdblock"
)

// TestReadmePlaybookTable fails when the README's playbook table is not the
// index table of docs/playbooks (with links into docs/playbooks/); -update
// rewrites it.
func TestReadmePlaybookTable(t *testing.T) {
	books := loadBooks(t)
	index := renderIndex(books)
	start := strings.Index(index, "| Playbook | Threat")
	stop := strings.Index(index, "\n## Finding types")
	if start < 0 || stop < start {
		t.Fatal("index has no playbook table")
	}
	want := regexp.MustCompile(`\]\(([a-z0-9-]+)\.md\)`).ReplaceAllString(strings.TrimSpace(index[start:stop]), "](docs/playbooks/$1.md)") + "\n"
	mdblock.Check(t, "../README.md", "playbooks", want, *update, "README playbook table", "go test ./workflows -update")
}
