package generator

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/irflow/irflow/generator/diag"
)

var update = flag.Bool("update", false, "rewrite golden files")

// archive is a txtar archive: a comment, then files introduced by "-- name --".
type archive struct {
	comment []byte
	files   []archiveFile
}

type archiveFile struct {
	name string
	data []byte
}

var marker = regexp.MustCompile(`^-- (.+) --$`)

func parseArchive(b []byte) *archive {
	a := &archive{}
	var cur *archiveFile
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		if m := marker.FindSubmatch(bytes.TrimRight(line, "\n")); m != nil {
			a.files = append(a.files, archiveFile{name: string(m[1])})
			cur = &a.files[len(a.files)-1]
			continue
		}
		if cur == nil {
			a.comment = append(a.comment, line...)
		} else {
			cur.data = append(cur.data, line...)
		}
	}
	return a
}

func (a *archive) get(name string) ([]byte, bool) {
	for _, f := range a.files {
		if f.name == name {
			return f.data, true
		}
	}
	return nil, false
}

func (a *archive) set(name string, data []byte) {
	for i := range a.files {
		if a.files[i].name == name {
			a.files[i].data = data
			return
		}
	}
	a.files = append(a.files, archiveFile{name: name, data: data})
}

func (a *archive) drop(name string) {
	out := a.files[:0]
	for _, f := range a.files {
		if f.name != name {
			out = append(out, f)
		}
	}
	a.files = out
}

func (a *archive) format() []byte {
	var b bytes.Buffer
	b.Write(a.comment)
	for _, f := range a.files {
		fmt.Fprintf(&b, "-- %s --\n", f.name)
		b.Write(f.data)
		if len(f.data) > 0 && f.data[len(f.data)-1] != '\n' {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
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
			a := parseArchive(raw)
			src, ok := a.get("playbook.yaml")
			if !ok {
				t.Fatal("archive has no playbook.yaml")
			}
			r, ds := Compile(src, "playbook.yaml", Options{})
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
						a.set(n, g)
					} else {
						a.drop(n)
					}
				}
				if err := os.WriteFile(file, a.format(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			for _, n := range []string{"out/asl.json", "out/diagnostics"} {
				want, has := a.get(n)
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
			for _, e := range expectations(src) {
				found := false
				for _, d := range ds {
					if d.Line == e.line && d.Severity == e.severity && strings.Contains(d.Message, e.text) {
						found = true
					}
				}
				if !found {
					t.Errorf("line %d: no %s containing %q; got:\n%s", e.line, e.severity, e.text, diagText.String())
				}
			}
		})
	}
}
