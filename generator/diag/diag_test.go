package diag

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"
)

func TestSuggest(t *testing.T) {
	cands := []string{"isolate-network", "stop-task", "scale-service", "notify"}
	tests := []struct{ word, want string }{
		{"isolate-netwrok", "isolate-network"},
		{"isolate-networks", "isolate-network"},
		{"stop-tsak", "stop-task"},
		{"notfy", "notify"},
		{"reboot", ""},
		{"NOTIFY", "notify"},
		{"Stop-Task", "stop-task"},
		{"x", ""},
	}
	for _, tt := range tests {
		if got := Suggest(tt.word, cands); got != tt.want {
			t.Errorf("Suggest(%q) = %q; want %q", tt.word, got, tt.want)
		}
	}
}

func TestNormalizeSortsAndDedupes(t *testing.T) {
	ds := Diagnostics{
		{Severity: Error, Code: "schema", File: "a.yaml", Line: 9, Column: 3, Message: "m"},
		{Severity: Error, Code: "schema", File: "a.yaml", Line: 2, Column: 1, Message: "m"},
		{Severity: Error, Code: "schema", File: "a.yaml", Line: 9, Column: 5, Message: "m"},
	}
	got := ds.Normalize()
	if len(got) != 2 || got[0].Line != 2 || got[1].Line != 9 {
		t.Errorf("got %v; want lines 2 and 9 once each", got)
	}
}

func TestNormalizeCaps(t *testing.T) {
	var ds Diagnostics
	for i := 0; i < MaxPerFile+10; i++ {
		ds = append(ds, Diagnostic{Severity: Error, Code: "schema", File: "a.yaml", Line: i + 1, Column: 1, Message: "m"})
	}
	got := ds.Normalize()
	if len(got) != MaxPerFile+1 {
		t.Fatalf("got %d diagnostics; want %d", len(got), MaxPerFile+1)
	}
	if last := got[len(got)-1]; last.Code != CodeLimit || !strings.Contains(last.Message, "10 more") {
		t.Errorf("last = %v; want a limit diagnostic counting 10", last)
	}
}

func TestWriters(t *testing.T) {
	ds := Diagnostics{{Severity: Error, Code: "unknown-action", File: "p.yaml", Line: 4, Column: 13,
		Path: "/steps/0/action", Message: `unknown action "stop-tsak"`, Hint: `did you mean "stop-task"?`}}
	var b bytes.Buffer
	if err := WriteText(&b, ds); err != nil {
		t.Fatal(err)
	}
	want := "p.yaml:4:13: error unknown-action: unknown action \"stop-tsak\" (did you mean \"stop-task\"?)\n"
	if b.String() != want {
		t.Errorf("text = %q; want %q", b.String(), want)
	}
	b.Reset()
	if err := WriteJSON(&b, nil); err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(b.String()) != `{
  "diagnostics": []
}` {
		t.Errorf("empty json = %q", b.String())
	}
}

// TestCodesListsEveryConstant: Codes holds each Code* constant of diag.go,
// read from the source, so the fuzz target's and the docs' list cannot go
// stale when a code is added (FuzzCompile failed on host-findings that way).
func TestCodesListsEveryConstant(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "diag.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, c := range Codes {
		if listed[c] {
			t.Errorf("Codes lists %q twice", c)
		}
		listed[c] = true
	}
	n := 0
	for _, decl := range f.Decls {
		g, ok := decl.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			for i, name := range spec.(*ast.ValueSpec).Names {
				if !strings.HasPrefix(name.Name, "Code") {
					continue
				}
				n++
				lit, ok := spec.(*ast.ValueSpec).Values[i].(*ast.BasicLit)
				if !ok {
					t.Fatalf("%s is not a string literal", name.Name)
				}
				if v, _ := strconv.Unquote(lit.Value); !listed[v] {
					t.Errorf("%s (%s) is not in Codes", name.Name, lit.Value)
				}
			}
		}
	}
	if n != len(Codes) {
		t.Errorf("diag.go declares %d codes, Codes lists %d", n, len(Codes))
	}
}
