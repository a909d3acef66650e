package generator

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/irflow/irflow/generator/internal/playbook"
	"github.com/irflow/irflow/schemas"
	"github.com/irflow/irflow/tasks/catalog"
)

const checkedInSchema = "../schemas/playbook.v1.schema.json"

// TestCheckedInSchemaIsCurrent: editors read schemas/playbook.v1.schema.json
// through the modeline; it must be what irflow schema prints.
// `go test ./generator -update` rewrites it.
func TestCheckedInSchemaIsCurrent(t *testing.T) {
	got := PlaybookSchema()
	if *update {
		if err := os.WriteFile(checkedInSchema, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(checkedInSchema)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale: run go test ./generator -update and review the diff", checkedInSchema)
	}
}

// TestPlaybookSchemaFromCatalog: the schema carries the catalog: every
// author action's parameters selected by action:, the action names and the
// finding types as completion values, a stable $id, and words instead of
// bare patterns.
func TestPlaybookSchemaFromCatalog(t *testing.T) {
	var s struct {
		ID   string `json:"$id"`
		Defs struct {
			With map[string]struct {
				Properties map[string]any `json:"properties"`
			} `json:"with"`
			Step struct {
				AllOf      []map[string]any          `json:"allOf"`
				Properties map[string]map[string]any `json:"properties"`
			} `json:"step"`
			FindingType struct {
				Examples []string `json:"examples"`
			} `json:"findingType"`
		} `json:"$defs"`
	}
	text := PlaybookSchema()
	if err := json.Unmarshal(text, &s); err != nil {
		t.Fatal(err)
	}
	if s.ID != schemas.PlaybookURL {
		t.Errorf("$id %q; want %q", s.ID, schemas.PlaybookURL)
	}
	examples, _ := s.Defs.Step.Properties["action"]["examples"].([]any)
	ifs := 0
	for _, c := range s.Defs.Step.AllOf {
		if _, ok := c["if"]; ok {
			ifs++
		}
	}
	for _, a := range catalog.All() {
		var params struct {
			Properties map[string]any `json:"properties"`
		}
		if err := json.Unmarshal(a.Params, &params); err != nil {
			t.Fatal(err)
		}
		w, ok := s.Defs.With[a.Name]
		switch {
		case a.Inserted && ok:
			t.Errorf("inserted action %s has parameters in the schema", a.Name)
		case !a.Inserted && !ok:
			t.Errorf("action %s has no parameters in the schema", a.Name)
		case !a.Inserted && len(w.Properties) != len(params.Properties)-len(a.Reserved):
			t.Errorf("action %s: %d parameters; the catalog has %d, %d of them reserved", a.Name, len(w.Properties), len(params.Properties), len(a.Reserved))
		}
		for _, k := range a.Reserved {
			if _, offered := w.Properties[k]; offered {
				t.Errorf("action %s: reserved parameter %s is offered to playbooks", a.Name, k)
			}
		}
		if !a.Inserted && !containsAny(examples, a.Name) {
			t.Errorf("action %s is not a completion value", a.Name)
		}
	}
	if want := len(authorActions()); ifs != want {
		t.Errorf("%d if/then selections by action; want %d", ifs, want)
	}
	for _, ft := range []string{"Impact:Runtime/CryptoMinerExecuted", "Trojan:Runtime/*"} {
		if !containsAny(anySlice(s.Defs.FindingType.Examples), ft) {
			t.Errorf("finding type %s is not a completion value", ft)
		}
	}
	// Every pattern is explained in words.
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if p, ok := x["pattern"].(string); ok && x["patternErrorMessage"] == nil && x["description"] == nil {
				t.Errorf("pattern %s has neither patternErrorMessage nor description", p)
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	var doc any
	json.Unmarshal(text, &doc)
	walk(doc)
	if strings.Contains(string(text), `"$schema": "https://json-schema.org/draft/2020-12/schema",`+"\n          ") {
		t.Error("an action's parameter schema keeps its $schema inside the playbook schema")
	}
}

func containsAny(xs []any, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func anySlice(xs []string) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// TestEditorSchemaAgrees: the schema editors use (if/then per action)
// compiles, accepts every shipped playbook and refuses a wrong with:, as
// the compiler does with its per-action selection.
func TestEditorSchemaAgrees(t *testing.T) {
	s, err := schemas.Compile(schemas.PlaybookURL, PlaybookSchema())
	if err != nil {
		t.Fatal(err)
	}
	files, _ := PlaybookFiles("../workflows")
	for _, f := range files {
		src, _ := os.ReadFile(f)
		doc, ds := playbook.Parse(src, f)
		if doc == nil {
			t.Fatal(ds)
		}
		if err := s.Validate(doc.Value); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	bad := []byte("apiVersion: irflow/v1\nkind: Playbook\nmetadata: {name: b, title: B}\nsteps:\n  - {id: i, action: isolate-network, with: {allowSSM: true}}\n")
	doc, _ := playbook.Parse(bad, "bad.yaml")
	if err := s.Validate(doc.Value); err == nil {
		t.Error("the editor schema accepts an unknown with: key")
	}
	if r, _ := Compile(bad, "bad.yaml", Options{}); r != nil {
		t.Error("the compiler accepts an unknown with: key")
	}
}
