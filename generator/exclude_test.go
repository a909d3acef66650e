package generator

import (
	"reflect"
	"strings"
	"testing"

	"github.com/irflow/irflow/generator/diag"
	"github.com/irflow/irflow/generator/internal/asl"
	"github.com/irflow/irflow/generator/internal/playbook"
	"github.com/irflow/irflow/tasks/catalog"
)

const excludeSiblingsPlaybook = `apiVersion: irflow/v1
kind: Playbook
metadata:
  name: exclude-siblings
  title: Stop every task of the image but the excluded
exclude:
  taskTags: { irflow: ignore, canary: "*" }
steps:
  - id: siblings
    action: find-siblings
    with: { containers: [app] }
  - id: family
    action: find-siblings
  - id: approve
    approval: { prompt: "Stop every task running the image?" }
  - id: contain
    forEach: { step: siblings }
    steps:
      - id: stop-sibling
        action: stop-task
`

// findSiblingsWith returns the with: of every find-siblings Task state.
func findSiblingsWith(t *testing.T, r *Result) []map[string]any {
	t.Helper()
	sm, err := asl.Parse(r.ASL)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	asl.Walk(sm, func(ns asl.NamedState) {
		if task, ok := ns.State.(*asl.Task); ok && payloadOf(task)["action"] == "find-siblings" {
			w, _ := payloadOf(task)["with"].(map[string]any)
			out = append(out, w)
		}
	})
	return out
}

// TestExcludeReachesFindSiblings: every find-siblings step gets the
// playbook's exclude.taskTags as with.excludeTaskTags (an empty map without
// exclude:), so a forEach over its lists never reaches an excluded task.
func TestExcludeReachesFindSiblings(t *testing.T) {
	for _, tt := range []struct {
		name, src string
		want      map[string]any
	}{
		{"exclude", excludeSiblingsPlaybook, map[string]any{"irflow": "ignore", "canary": "*"}},
		{"no exclude", strings.Replace(excludeSiblingsPlaybook, "exclude:\n  taskTags: { irflow: ignore, canary: \"*\" }\n", "", 1), map[string]any{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, ds := Compile([]byte(tt.src), "exclude.yaml", Options{})
			if r == nil || ds.HasErrors() {
				t.Fatalf("%v", ds)
			}
			withs := findSiblingsWith(t, r)
			// Two steps, on each launch type's branch.
			if len(withs) != 4 {
				t.Fatalf("%d find-siblings states; want 4", len(withs))
			}
			for _, w := range withs {
				if !reflect.DeepEqual(w["excludeTaskTags"], tt.want) {
					t.Errorf("with %v; want excludeTaskTags %v", w, tt.want)
				}
			}
		})
	}
}

// TestExcludeTaskTagsIsReserved: a step cannot write excludeTaskTags (it
// would override the playbook's exclude:): an error on its line naming the
// step and the field; and excluded is no list a forEach may iterate.
func TestExcludeTaskTagsIsReserved(t *testing.T) {
	for _, with := range []string{`{ excludeTaskTags: {} }`, `{ containers: [app], excludeTaskTags: { irflow: ignore } }`} {
		src := strings.Replace(excludeSiblingsPlaybook, "    action: find-siblings\n  - id: approve", "    action: find-siblings\n    with: "+with+"\n  - id: approve", 1)
		line := strings.Count(src[:strings.Index(src, "excludeTaskTags")], "\n") + 1
		r, ds := Compile([]byte(src), "exclude.yaml", Options{})
		var errs []diag.Diagnostic
		for _, d := range ds {
			if d.Severity == diag.Error {
				errs = append(errs, d)
			}
		}
		if r != nil || len(errs) != 1 || errs[0].Code != diag.CodeSchema || errs[0].Line != line ||
			errs[0].Path != "/steps/1/with/excludeTaskTags" || !strings.Contains(errs[0].Message, `step "family" cannot set with.excludeTaskTags`) ||
			!strings.Contains(errs[0].Hint, "exclude:") {
			t.Errorf("with %s: %v; want one schema error on line %d naming step family and with.excludeTaskTags", with, ds, line)
		}
	}
	src := strings.Replace(excludeSiblingsPlaybook, "forEach: { step: siblings }", "forEach: { step: siblings, output: siblings.excluded }", 1)
	if r, ds := Compile([]byte(src), "exclude.yaml", Options{}); r != nil || len(ds) == 0 || ds[0].Code != diag.CodeForEach {
		t.Errorf("forEach over siblings.excluded: %v", ds)
	}
}

// TestReservedParamsHaveAValue: the compiler knows where every reserved
// parameter of the catalog comes from (its hint and its value).
func TestReservedParamsHaveAValue(t *testing.T) {
	pb := &playbook.Playbook{Exclude: &playbook.Exclude{TaskTags: map[string]string{"irflow": "ignore"}}}
	for _, a := range catalog.All() {
		for _, k := range a.Reserved {
			r, ok := reserved[a.Name+"."+k]
			if !ok || r.hint == "" || r.value == nil || r.value(pb) == nil {
				t.Errorf("%s.%s: the compiler has no hint or value for it", a.Name, k)
			}
		}
	}
}
