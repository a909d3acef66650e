package workflows

import (
	"flag"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/playbooks from the playbooks")

// docsDir is where the playbook pages live, from this package's folder.
var docsDir = filepath.Join("..", "docs", "playbooks")

// TestDocsFresh regenerates docs/playbooks (a page per playbook, with its
// Mermaid graph exactly as generator.Graph draws it, and the index) and
// fails when a committed file differs or a page has no playbook; with
// -update it writes them instead.
func TestDocsFresh(t *testing.T) {
	books := loadBooks(t)
	want := map[string]string{filepath.Join(docsDir, "README.md"): renderIndex(books)}
	for _, b := range books {
		page, err := renderPage(b)
		if err != nil {
			t.Fatalf("%s: %v", b.file, err)
		}
		want[filepath.Join(docsDir, b.result.Name+".md")] = page
	}
	existing, err := filepath.Glob(filepath.Join(docsDir, "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.MkdirAll(docsDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, path := range slices.Sorted(maps.Keys(want)) {
			if err := os.WriteFile(path, []byte(want[path]), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for _, path := range existing {
			if _, ok := want[path]; !ok {
				if err := os.Remove(path); err != nil {
					t.Fatal(err)
				}
			}
		}
		return
	}
	for _, path := range slices.Sorted(maps.Keys(want)) {
		got, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s is missing: run go test ./workflows -update", path)
			continue
		}
		if string(got) != want[path] {
			line, g, w := firstDiff(string(got), want[path])
			t.Errorf("%s is stale: run go test ./workflows -update\nfirst difference at line %d:\n got  %q\n want %q", path, line, g, w)
		}
	}
	for _, path := range existing {
		if _, ok := want[path]; !ok {
			t.Errorf("%s documents no playbook: remove it (go test ./workflows -update does)", path)
		}
	}
}

// firstDiff returns the first line (1-based) where a and b differ, and
// that line of each.
func firstDiff(a, b string) (int, string, string) {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y || i >= len(al) || i >= len(bl) {
			return i + 1, x, y
		}
	}
	return 0, "", ""
}
