package format

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestKeepsMeaning: on every shipped playbook and test file, formatting
// keeps the decoded value, keeps every comment, and formats what it wrote
// to the same bytes.
func TestKeepsMeaning(t *testing.T) {
	files, _ := filepath.Glob("../../workflows/*.yaml")
	golden, _ := filepath.Glob("../testdata/golden/*.txtar")
	if len(files) == 0 {
		t.Fatal("no playbooks")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out, err := Source(src, f)
			if err != nil {
				t.Fatal(err)
			}
			var before, after any
			yaml.Unmarshal(src, &before)
			yaml.Unmarshal(out, &after)
			if !reflect.DeepEqual(before, after) {
				t.Errorf("formatting changed the value:\n%s", out)
			}
			for _, line := range strings.Split(string(src), "\n") {
				if i := strings.Index(line, "# "); i >= 0 && !strings.Contains(line[:i], `"`) && !strings.Contains(string(out), strings.TrimSpace(line[i:])) {
					t.Errorf("comment %q lost", strings.TrimSpace(line[i:]))
				}
			}
			again, err := Source(out, f)
			if err != nil || string(again) != string(out) {
				t.Errorf("not idempotent (%v):\n%s", err, again)
			}
			for _, line := range strings.Split(string(out), "\n") {
				if len(line) > Width && strings.HasPrefix(strings.TrimSpace(line), "A ") {
					t.Errorf("folded text not wrapped: %q", line)
				}
			}
		})
	}
	_ = golden
}

func TestCanonicalForm(t *testing.T) {
	src := `# yaml-language-server: $schema=../schemas/playbook.v1.schema.json
kind: Playbook
steps:
    - action: isolate-network # contain
      with: {quarantineGroupName: q, allowSsm: true}
      id: iso
      when: {inService: true}
    - parallel:
        - {action: notify, id: a}
        - - {action: notify, id: b}
      id: p
metadata:
    title: T
    name: n
apiVersion: irflow/v1
justAField: kept last
`
	want := `# yaml-language-server: $schema=../schemas/playbook.v1.schema.json
apiVersion: irflow/v1
kind: Playbook
metadata:
  name: n
  title: T
steps:
  - id: iso
    when: {inService: true}
    action: isolate-network # contain
    with: {allowSsm: true, quarantineGroupName: q}
  - id: p
    parallel:
      - {id: a, action: notify}
      - - {id: b, action: notify}
justAField: kept last
`
	out, err := Source([]byte(src), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestWrapsFoldedText(t *testing.T) {
	long := strings.Repeat("word ", 40) + "end"
	src := "apiVersion: irflow/v1\nkind: Playbook\nmetadata:\n  name: n\n  title: T\n  description: >-\n    " + long + "\n"
	out, err := Source([]byte(src), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ Metadata struct{ Description string } }
	yaml.Unmarshal(out, &v)
	if v.Metadata.Description != long {
		t.Errorf("value changed: %q", v.Metadata.Description)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if len(line) > Width {
			t.Errorf("line of %d columns: %q", len(line), line)
		}
	}
}

func TestSyntaxError(t *testing.T) {
	if _, err := Source([]byte("a: [\n"), "bad.yaml"); err == nil || !strings.HasPrefix(err.Error(), "bad.yaml: ") {
		t.Errorf("got %v; want a syntax error naming the file", err)
	}
	if _, err := Source([]byte("a: 1\n---\nb: 2\n"), "two.yaml"); err == nil {
		t.Error("two documents formatted")
	}
}
