package workflows

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestReadmePlaybookTable fails when the README's playbook table is not the
// index table of docs/playbooks (with links into docs/playbooks/); -update
// rewrites it.
func TestReadmePlaybookTable(t *testing.T) {
	const path = "../README.md"
	const begin, end = "<!-- playbooks:begin -->\n", "<!-- playbooks:end -->"
	books := loadBooks(t)
	index := renderIndex(books)
	start := strings.Index(index, "| Playbook | Threat")
	stop := strings.Index(index, "\n## Finding types")
	if start < 0 || stop < start {
		t.Fatal("index has no playbook table")
	}
	want := regexp.MustCompile(`\]\(([a-z0-9-]+)\.md\)`).ReplaceAllString(strings.TrimSpace(index[start:stop]), "](docs/playbooks/$1.md)") + "\n"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("README has no %q ... %q block", begin, end)
	}
	if got := s[i+len(begin) : j]; got != want {
		if *update {
			if err := os.WriteFile(path, []byte(s[:i+len(begin)]+want+s[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("README playbook table is stale: run go test ./workflows -update\n--- README\n%s\n--- playbooks\n%s", got, want)
	}
}
