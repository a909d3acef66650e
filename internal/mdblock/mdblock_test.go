package mdblock

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder is a testing.TB that keeps what Check reports.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "README.md")
	const doc = "# x\n<!-- t:begin -->\nold\n<!-- t:end -->\ntail\n"
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &recorder{TB: t}
	Check(r, path, "t", "old\n", false, "table", "it")
	if len(r.errs) != 0 {
		t.Fatalf("a current block: %v", r.errs)
	}
	Check(r, path, "t", "new\n", false, "table", "go test -update")
	if len(r.errs) != 1 || !strings.Contains(r.errs[0], "table is stale: run go test -update") {
		t.Fatalf("a stale block: %v", r.errs)
	}
	Check(r, path, "t", "new\n", true, "table", "it")
	b, _ := os.ReadFile(path)
	if string(b) != strings.Replace(doc, "old", "new", 1) || len(r.errs) != 1 {
		t.Errorf("after -update: %q, %v", b, r.errs)
	}
}
