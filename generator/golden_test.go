package generator

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/irflow/irflow/generator/diag"
)

var update = flag.Bool("update", false, "rewrite golden files")

// archiveGet returns the data of the named file of a txtar archive.
func archiveGet(a *txtar.Archive, name string) ([]byte, bool) {
	for _, f := range a.Files {
		if f.Name == name {
			return f.Data, true
		}
	}
	return nil, false
}

// archiveSet replaces the named file's data, or appends the file.
func archiveSet(a *txtar.Archive, name string, data []byte) {
	for i := range a.Files {
		if a.Files[i].Name == name {
			a.Files[i].Data = data
			return
		}
	}
	a.Files = append(a.Files, txtar.File{Name: name, Data: data})
}

// archiveDrop removes the named file.
func archiveDrop(a *txtar.Archive, name string) {
	a.Files = slices.DeleteFunc(a.Files, func(f txtar.File) bool { return f.Name == name })
}

// expectation is an inline `# ERROR "text"` or `# WARNING "text"` comment:
// a diagnostic of that severity on that line whose message contains text.
type expectation struct {
	line     int
	severity Severity
	text     string
}

var inline = regexp.MustCompile(`#\s*(ERROR|WARNING)\s+("(?:[^"\\]|\\.)*")`)

func expectations(src []byte) []expectation {
	var out []expectation
	for i, line := range strings.Split(string(src), "\n") {
		for _, m := range inline.FindAllStringSubmatch(line, -1) {
			text, err := strconv.Unquote(m[2])
			if err != nil {
				continue
			}
			sev := SeverityError
			if m[1] == "WARNING" {
				sev = SeverityWarning
			}
			out = append(out, expectation{line: i + 1, severity: sev, text: text})
		}
	}
	return out
}

// compileArchive compiles a golden case: its playbook.yaml alone (ASL or
// diagnostics), or else every *.yaml of the archive as a set, as irflow
// validate checks a folder (diagnostics only: CheckSet's with each file's).
func compileArchive(t *testing.T, a *txtar.Archive) (*Result, Diagnostics, map[string][]byte) {
	if src, ok := archiveGet(a, "playbook.yaml"); ok {
		r, ds := Compile(src, "playbook.yaml", Options{})
		return r, ds, map[string][]byte{"playbook.yaml": src}
	}
	srcs := map[string][]byte{}
	var ds Diagnostics
	var set []Member
	for _, f := range a.Files {
		if !strings.HasSuffix(f.Name, ".yaml") || strings.HasPrefix(f.Name, "out/") {
			continue
		}
		srcs[f.Name] = f.Data
		r, fds := Compile(f.Data, f.Name, Options{})
		ds = append(ds, fds...)
		if r != nil {
			set = append(set, Member{File: f.Name, Result: r})
		}
	}
	if len(srcs) == 0 {
		t.Fatal("archive has no playbook.yaml and no other *.yaml")
	}
	return nil, append(ds, CheckSet(set)...).Normalize(), srcs
}

// TestGolden compiles every testdata/golden/*.txtar playbook and compares
// the ASL (out/asl.json) or the diagnostics (out/diagnostics) with the
// archive. `go test ./generator -update` rewrites them; review the diff.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/golden/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txtar")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			a := txtar.Parse(raw)
			r, ds, srcs := compileArchive(t, a)
			var diagText bytes.Buffer
			diag.WriteText(&diagText, ds)
			got := map[string][]byte{}
			if r != nil {
				got["out/asl.json"] = r.ASL
			}
			if len(ds) > 0 {
				got["out/diagnostics"] = diagText.Bytes()
			}
			if *update {
				for _, n := range []string{"out/asl.json", "out/diagnostics"} {
					if g, ok := got[n]; ok {
						archiveSet(a, n, g)
					} else {
						archiveDrop(a, n)
					}
				}
				if err := os.WriteFile(file, txtar.Format(a), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			for _, n := range []string{"out/asl.json", "out/diagnostics"} {
				want, has := archiveGet(a, n)
				g, produced := got[n]
				switch {
				case has && !produced:
					t.Errorf("%s expected but not produced; diagnostics:\n%s", n, diagText.String())
				case !has && produced:
					t.Errorf("%s produced but not in the archive (run with -update):\n%s", n, g)
				case has && !bytes.Equal(g, want):
					t.Errorf("%s differs from the archive (run with -update and review):\n--- got\n%s\n--- want\n%s", n, g, want)
				}
			}
			for file, src := range srcs {
				for _, e := range expectations(src) {
					found := false
					for _, d := range ds {
						if d.File == file && d.Line == e.line && d.Severity == e.severity && strings.Contains(d.Message, e.text) {
							found = true
						}
					}
					if !found {
						t.Errorf("%s:%d: no %s containing %q; got:\n%s", file, e.line, e.severity, e.text, diagText.String())
					}
				}
			}
		})
	}
}
