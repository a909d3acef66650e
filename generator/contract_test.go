package generator

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/irflow/irflow/generator/diag"
	"github.com/irflow/irflow/generator/internal/asl"
	"github.com/irflow/irflow/tasks/catalog"
)

// checkContract asserts what docs/design.md ("The generated state machine") promises,
// from the outside, on one compiled playbook.
func checkContract(t *testing.T, name string, src []byte, r *Result) {
	t.Helper()
	sm, err := asl.Parse(r.ASL)
	if err != nil {
		t.Fatalf("%s: ASL does not parse: %v", name, err)
	}
	if sm.QueryLanguage != "JSONPath" || sm.StartAt != StateResolveTarget {
		t.Errorf("%s: QueryLanguage %q StartAt %q", name, sm.QueryLanguage, sm.StartAt)
	}
	for _, p := range asl.Verify(sm) {
		t.Errorf("%s: structure: %s", name, p)
	}
	for _, p := range Policy(sm) {
		t.Errorf("%s: policy: %s", name, p)
	}
	choice, ok := sm.States.Get(StateLaunchType).(*asl.Choice)
	if !ok {
		t.Fatalf("%s: no %q Choice", name, StateLaunchType)
	}
	var branches []string
	for _, c := range choice.Choices {
		if c.Variable != "$.target.launchType" || c.StringEquals == nil {
			t.Errorf("%s: launch-type rule %+v", name, c)
			continue
		}
		branches = append(branches, *c.StringEquals)
	}
	if strings.Join(branches, ",") != "EC2,FARGATE" {
		t.Errorf("%s: launch-type Choice branches %v; want EC2 and FARGATE", name, branches)
	}
	for _, ns := range ReachableTasks(sm, catalog.Fargate) {
		action := payloadOf(ns.State.(*asl.Task))["action"].(string)
		if !catalog.Lookup(action).Supports(catalog.Fargate) {
			t.Errorf("%s: EC2-only %s reachable on FARGATE at %q", name, action, ns.Name)
		}
	}
	asl.Walk(sm, func(ns asl.NamedState) {
		task, ok := ns.State.(*asl.Task)
		if !ok {
			return
		}
		p := payloadOf(task)
		if p["action"] == nil || p["execution.$"] != "$$.Execution" {
			t.Errorf("%s: %q payload lacks action or execution: %v", name, ns.Name, p)
		}
		if len(task.Retry) == 0 || task.TimeoutSeconds <= 0 || (len(task.Catch) == 0 && p["action"] != "finalize-case") {
			t.Errorf("%s: %q lacks Retry, TimeoutSeconds or Catch", name, ns.Name)
		}
		for _, r := range task.Retry {
			if r.JitterStrategy != "FULL" || r.BackoffRate < 1 {
				t.Errorf("%s: %q retry without full jitter/backoff", name, ns.Name)
			}
		}
		if p["action"] == "request-approval" && p["mode"] == "request" {
			if task.Resource != asl.ResourceLambdaInvokeWait || p["taskToken.$"] != "$$.Task.Token" {
				t.Errorf("%s: approval %q is not a waitForTaskToken task with $$.Task.Token", name, ns.Name)
			}
		}
	})
	again, ds := Compile(src, name, Options{})
	if again == nil || !bytes.Equal(again.ASL, r.ASL) {
		t.Errorf("%s: two compiles differ (%v)", name, ds)
	}
}

func payloadOf(t *asl.Task) map[string]any {
	p, _ := t.Parameters["Payload"].(map[string]any)
	return p
}

// TestShippedPlaybooksCompile compiles everything in workflows/ and checks
// the contract on each.
func TestShippedPlaybooksCompile(t *testing.T) {
	files, _ := PlaybookFiles("../workflows")
	if len(files) == 0 {
		t.Fatal("no playbooks in workflows/")
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r, ds := Compile(src, f, Options{Strict: true})
		if r == nil || len(ds) > 0 {
			t.Errorf("%s: %v", f, ds)
			continue
		}
		checkContract(t, f, src, r)
	}
}

// TestContractOnRandomPlaybooks generates valid playbooks the tests have
// never seen (seeded, so failures reproduce) and checks the contract on each.
func TestContractOnRandomPlaybooks(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 7))
	for i := 0; i < 300; i++ {
		src := randomPlaybook(rng, i)
		r, ds := Compile(src, fmt.Sprintf("random-%d.yaml", i), Options{})
		if r == nil {
			t.Fatalf("random playbook %d does not compile:\n%s\n%s", i, src, ds)
		}
		checkContract(t, fmt.Sprintf("random-%d", i), src, r)
	}
}

// randomPlaybook writes a valid playbook: random evidence (SSM steps before
// any isolation), parallels, an approval before containment, and sometimes
// launch-type restrictions and onError: continue.
func randomPlaybook(rng *rand.Rand, n int) []byte {
	evidence := []string{"tag-resources", "capture-task-metadata", "collect-logs", "enable-flow-logs", "snapshot-volumes",
		"capture-memory", "collect-host-artifacts", "capture-traffic", "notify"}
	containment := []string{"isolate-network", "protect-instance", "revoke-task-role-sessions", "stop-task", "scale-service"}
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: irflow/v1\nkind: Playbook\nmetadata:\n  name: random-%d\n  title: Random %d\nsteps:\n", n, n)
	id := 0
	next := func() string { id++; return fmt.Sprintf("s%d", id) }
	step := func(indent, action string) {
		fmt.Fprintf(&b, "%s- id: %s\n%s  action: %s\n", indent, next(), indent, action)
		if rng.IntN(3) == 0 {
			fmt.Fprintf(&b, "%s  onError: continue\n", indent)
		}
		if action == "isolate-network" {
			fmt.Fprintf(&b, "%s  with: { allowSsm: %t }\n", indent, rng.IntN(2) == 0)
		}
	}
	for k := rng.IntN(4); k >= 0; k-- {
		if rng.IntN(3) == 0 {
			fmt.Fprintf(&b, "  - id: %s\n    parallel:\n", next())
			for j := 2 + rng.IntN(3); j > 0; j-- {
				if rng.IntN(2) == 0 {
					step("      ", evidence[rng.IntN(len(evidence))])
				} else {
					b.WriteString("      - ")
					fmt.Fprintf(&b, "- { id: %s, action: %s }\n        - { id: %s, action: %s }\n",
						next(), evidence[rng.IntN(len(evidence))], next(), evidence[rng.IntN(len(evidence))])
				}
			}
			continue
		}
		step("  ", evidence[rng.IntN(len(evidence))])
	}
	if rng.IntN(4) > 0 {
		fmt.Fprintf(&b, "  - id: %s\n    approval: { prompt: \"contain?\", timeout: %dm, onTimeout: %s }\n", next(), 5+rng.IntN(60), []string{"reject", "approve"}[rng.IntN(2)])
		for k := 1 + rng.IntN(3); k > 0; k-- {
			step("  ", containment[rng.IntN(len(containment))])
		}
	}
	return []byte(b.String())
}

// FuzzCompile: no panic, every diagnostic has a line and a known code, and
// whatever compiles satisfies the contract.
func FuzzCompile(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/golden/*.txtar")
	for _, s := range seeds {
		raw, _ := os.ReadFile(s)
		if src, ok := archiveGet(txtar.Parse(raw), "playbook.yaml"); ok {
			f.Add(src)
		}
	}
	shipped, _ := PlaybookFiles("../workflows")
	for _, s := range shipped {
		src, _ := os.ReadFile(s)
		f.Add(src)
	}
	codes := map[string]bool{}
	for _, c := range diag.Codes {
		codes[c] = true
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		r, ds := Compile(src, "fuzz.yaml", Options{})
		for _, d := range ds {
			if d.Line < 1 || d.Column < 1 || !codes[d.Code] || d.Message == "" {
				t.Fatalf("bad diagnostic %+v", d)
			}
		}
		if r != nil {
			sm, err := asl.Parse(r.ASL)
			if err != nil {
				t.Fatalf("compiled ASL does not parse: %v", err)
			}
			if ps := append(asl.Verify(sm), Policy(sm)...); len(ps) > 0 {
				t.Fatalf("compiled ASL breaks the contract: %v", ps)
			}
		}
	})
}

// TestPolicyRefusesNegativeTests: IsPresent (or IsNull) false never matches
// on aws-local-stepfunctions, so the engines would part ways; the compiler
// writes Not of the true test, and Policy holds it to that.
func TestPolicyRefusesNegativeTests(t *testing.T) {
	rule := func(r asl.ChoiceRule) *asl.StateMachine {
		r.Next = "E"
		return &asl.StateMachine{StartAt: "C", States: asl.States{
			{Name: "C", State: &asl.Choice{Type: "Choice", Choices: []asl.ChoiceRule{r}, Default: "E"}},
			{Name: "E", State: &asl.Succeed{Type: "Succeed"}},
		}}
	}
	bad := []asl.ChoiceRule{
		{Variable: "$.a", IsPresent: asl.Bool(false)},
		{And: []asl.ChoiceRule{{Variable: "$.a", IsNull: asl.Bool(false)}}},
	}
	for _, r := range bad {
		if ps := Policy(rule(r)); len(ps) != 1 {
			t.Errorf("%+v: %v; want one problem", r, ps)
		}
	}
	if ps := Policy(rule(asl.ChoiceRule{Not: &asl.ChoiceRule{Variable: "$.a", IsPresent: asl.Bool(true)}})); len(ps) != 0 {
		t.Errorf("Not IsPresent true refused: %v", ps)
	}
}
