// Package mdblock keeps a generated block of a Markdown file, the text
// between `<!-- NAME:begin -->` and `<!-- NAME:end -->`, equal to what the
// code generates: the README's action table (cmd/irflow) and playbook table
// (workflows) are both checked, and rewritten with -update, through it.
package mdblock

import (
	"os"
	"strings"
	"testing"
)

// Check fails t when the block name of the file at path is not want; with
// update it rewrites the block instead. what names the block in the
// failure, rerun the command that rewrites it.
func Check(t testing.TB, path, name, want string, update bool, what, rerun string) {
	t.Helper()
	begin, end := "<!-- "+name+":begin -->\n", "<!-- "+name+":end -->"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("%s has no %q ... %q block", path, begin, end)
	}
	got := s[i+len(begin) : j]
	if got == want {
		return
	}
	if update {
		if err := os.WriteFile(path, []byte(s[:i+len(begin)]+want+s[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s is stale: run %s\n--- %s\n%s\n--- generated\n%s", what, rerun, path, got, want)
}
