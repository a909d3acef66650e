package workflows

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/tasks/catalog"
)

// scenarios is testdata/scenarios.json: per playbook and launch type, the
// steps an approved run executes and those a rejected gate leaves run. Its
// "comment" says how a simulation test reads it.
type scenarios struct {
	Comment   []string                    `json:"comment"`
	Inputs    map[string]string           `json:"inputs"`
	Playbooks map[string]playbookScenario `json:"playbooks"`
}

type playbookScenario struct {
	Finding     string                    `json:"finding"`
	LaunchTypes map[string]branchScenario `json:"launchTypes"`
}

type branchScenario struct {
	Steps   []string `json:"steps"`
	Outcome string   `json:"outcome"`
	Reject  struct {
		Gate    string   `json:"gate"`
		Steps   []string `json:"steps"`
		Outcome string   `json:"outcome"`
	} `json:"reject"`
}

func loadScenarios(t *testing.T) scenarios {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "scenarios.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s scenarios
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("testdata/scenarios.json: %v", err)
	}
	return s
}

// TestScenariosCoverLibrary checks that scenarios.json and the playbooks
// name the same set: a new playbook comes with its scenarios.
func TestScenariosCoverLibrary(t *testing.T) {
	s := loadScenarios(t)
	var names, want []string
	for _, b := range loadBooks(t) {
		want = append(want, b.result.Name)
	}
	for n := range s.Playbooks {
		names = append(names, n)
	}
	sort.Strings(names)
	if !reflect.DeepEqual(names, want) {
		t.Errorf("scenarios.json names playbooks %v; the library has %v", names, want)
	}
	for _, lt := range catalog.LaunchTypes {
		checkInput(t, s.Inputs[lt], lt)
	}
}

// checkInput checks that a sample input exists and is a GuardDuty finding
// event for a task of that launch type, the shape a simulation test needs.
func checkInput(t *testing.T, path, lt string) {
	t.Helper()
	if path == "" {
		t.Errorf("scenarios.json: no input for %s", lt)
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("scenarios.json: input for %s: %v", lt, err)
		return
	}
	var ev struct {
		Detail struct {
			Type     string `json:"type"`
			Resource struct {
				ECS struct {
					Task struct {
						LaunchType string `json:"launchType"`
					} `json:"taskDetails"`
				} `json:"ecsClusterDetails"`
			} `json:"resource"`
		} `json:"detail"`
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	if got := ev.Detail.Resource.ECS.Task.LaunchType; got != lt {
		t.Errorf("%s: the task's launch type is %q; want %q", path, got, lt)
	}
	if ev.Detail.Type == "" {
		t.Errorf("%s: not a GuardDuty finding event (no detail.type)", path)
	}
}

// TestScenarios compares each launch type's plan with the scenario: the
// step ids in order, the gate to reject, what has run when it rejects, and
// that nothing destructive ran before it without an escape written down.
func TestScenarios(t *testing.T) {
	s := loadScenarios(t)
	for _, b := range loadBooks(t) {
		ps, ok := s.Playbooks[b.result.Name]
		if !ok {
			continue // TestScenariosCoverLibrary reports it
		}
		if !triggeredBy(b.result, ps.Finding) {
			t.Errorf("%s: scenario finding %q does not start this playbook", b.result.Name, ps.Finding)
		}
		for _, lt := range catalog.LaunchTypes {
			t.Run(b.result.Name+"/"+lt, func(t *testing.T) {
				sc, ok := ps.LaunchTypes[lt]
				if !ok {
					t.Fatalf("scenarios.json has no %s scenario", lt)
				}
				checkScenario(t, b, lt, sc)
			})
		}
	}
}

func checkScenario(t *testing.T, b *book, lt string, sc branchScenario) {
	plan := b.result.Steps[lt]
	var ids []string
	byID := map[string]generator.PlannedStep{}
	for _, p := range plan {
		ids = append(ids, p.ID)
		byID[p.ID] = p
	}
	if !reflect.DeepEqual(ids, sc.Steps) {
		t.Errorf("plan\n got  %v\n want %v", ids, sc.Steps)
	}
	if sc.Outcome != generator.OutcomeCompleted {
		t.Errorf("outcome %q; an approved run ends %s", sc.Outcome, generator.OutcomeCompleted)
	}
	r := sc.Reject
	if r.Outcome != generator.OutcomeRejected {
		t.Errorf("reject outcome %q; a rejected gate ends %s", r.Outcome, generator.OutcomeRejected)
	}
	gate, ok := byID[r.Gate]
	if !ok || gate.Action != "request-approval" {
		t.Fatalf("reject gate %q is not an approval step of the %s plan", r.Gate, lt)
	}
	at := indexOf(ids, r.Gate)
	if want := ids[:at+1]; !reflect.DeepEqual(r.Steps, want) {
		t.Errorf("steps run when %q rejects\n got  %v\n want %v", r.Gate, r.Steps, want)
	}
	for _, id := range ids[:at] {
		a := catalog.Lookup(byID[id].Action)
		if a.Destructive && !b.steps[id].Unapproved {
			t.Errorf("destructive step %q runs before the gate %q without requiresApproval: false", id, r.Gate)
		}
	}
	guarded := false
	for _, id := range ids[at+1:] {
		guarded = guarded || catalog.Lookup(byID[id].Action).Destructive
	}
	if !guarded {
		t.Errorf("gate %q guards no destructive step", r.Gate)
	}
}

// triggeredBy reports whether a finding type starts the playbook.
func triggeredBy(r *generator.Result, findingType string) bool {
	for _, p := range r.Triggers.FindingTypes {
		if contains(generator.MatchFindingTypes(p), findingType) {
			return true
		}
	}
	return false
}

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}
