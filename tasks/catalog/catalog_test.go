package catalog

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestDescriptionsFitLambda: the CDK app uses each description as the
// function's, and Lambda takes at most 256 characters.
func TestDescriptionsFitLambda(t *testing.T) {
	for _, a := range All() {
		if n := len(a.Description); n > 256 {
			t.Errorf("%s: description has %d characters; Lambda allows 256", a.Name, n)
		}
	}
}

// TestReservedParams: a key the compiler sets is declared in the action's
// parameter schema (so the handler's with: is documented) and says there
// that a playbook cannot write it; find-siblings' excluded list is never a
// task list a forEach may iterate.
func TestReservedParams(t *testing.T) {
	for _, a := range All() {
		var sch struct {
			Properties map[string]struct {
				Description string `json:"description"`
			} `json:"properties"`
		}
		if err := json.Unmarshal(a.Params, &sch); err != nil {
			t.Fatal(err)
		}
		for _, k := range a.Reserved {
			p, ok := sch.Properties[k]
			if !ok {
				t.Errorf("%s: reserved %q is not a parameter", a.Name, k)
			} else if !strings.Contains(p.Description, "a playbook cannot write it") {
				t.Errorf("%s.%s: the description must say a playbook cannot write it", a.Name, k)
			}
		}
	}
	fs := Lookup("find-siblings")
	if !slices.Equal(fs.Reserved, []string{"excludeTaskTags"}) || slices.Contains(fs.TaskLists, "siblings.excluded") {
		t.Errorf("find-siblings: reserved %v, task lists %v", fs.Reserved, fs.TaskLists)
	}
}
