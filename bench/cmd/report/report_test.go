package main

// Cheap checks that the report generator works: it renders a recorded run
// (testdata/run, a trimmed real one), deterministically, and its counting
// is right. No timing is measured or asserted here: timings live in
// BENCHMARKS.md (make bench).

import (
	"strings"
	"testing"

	"github.com/irflow/irflow/generator/simulate"
)

func renderFixture(t *testing.T) string {
	t.Helper()
	in, err := loadInputs("testdata/run")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := render(&b, in); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestRender(t *testing.T) {
	out := renderFixture(t)
	if again := renderFixture(t); again != out {
		t.Error("two renders of the same run differ")
	}
	for _, want := range []string{
		"# irflow benchmarks", "## Missed targets", "## Headline figures",
		"## 1. Compile", "## 2. Simulate", "## 3. State transitions", "## 4. Time to containment",
		"## 5. Task Lambdas", "## 6. CDK synth", "## 7. AWS round trips to containment",
		"| crypto-mining | FARGATE | fargate | SUCCEEDED/COMPLETED | `isolate-now` | 24 | - | 12 | 31 | - | ≤ 8 from the start | **MISSED** |",
		"| crypto-mining | FARGATE | nacl-full | SUCCEEDED/COMPLETED | none: isolate-network step isolate-now ended CAUGHT: no isolation in effect |",
		"| crypto-mining | EC2 | ec2-awsvpc | SUCCEEDED/COMPLETED | `isolate` | 133 | 8 | 57 | 187 | tag (tag-container-instance), host-artifacts (ssm), memory (ssm), flow-logs (flow-logs) | ≤ 12 after the decision: 8 | met |",
		"| AWS round trips to containment, FARGATE, most (crypto-mining on fargate) | 24 | ≤ 8 | **MISSED** |",
		"- round trips to containment on FARGATE: 1 of 1 contained cases above 8 (24 to 24, most crypto-mining on fargate; section 7)",
		"| crypto-mining | 1.13 ms |",                         // the median of the two samples
		"| synth / compile | 279× (compile / synth 0.0036) |", // 14.5 s over 51.9 ms
		"| crypto-mining | EC2 | 30 | 16 (1) | $0.000750 |",
		"| crypto-mining | EC2 | `EC2: isolate` | 6 | 30s | 15 | 5m |",
		"1 template(s), no aws:cdk:error",
		"go-benchmarks 0.50, synth 1.20",
		"## 7. Finding storm",
		"| approvals requested / compromised services | 1 / 1 | equal | met |",
		"| state transitions of the case's execution per contained task | 91 / 12 = 7.6 | ≤ 15 | met |",
		"| executions | 106 (1 COMPLETED, 105 CORRELATED) | - | - |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if strings.Contains(out, "/tmp/") {
		t.Error("the report names a temporary path")
	}
	// Every table row has as many cells as its header.
	cells := 0
	for i, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "|") {
			cells = 0
			continue
		}
		n := strings.Count(line, " | ") + 1
		if cells == 0 {
			cells = n
		} else if n != cells {
			t.Errorf("line %d has %d cells, its table %d: %s", i+1, n, cells, line)
		}
	}
}

// TestRenderRatioTarget: compile is held to the ratio to a warm synth, not
// to an absolute time: a compile under 100× faster than synth is missed.
func TestRenderRatioTarget(t *testing.T) {
	in, err := loadInputs("testdata/run")
	if err != nil {
		t.Fatal(err)
	}
	if out := renderInputs(t, in); strings.Contains(out, "only 279×") || strings.Contains(out, "compile crypto-mining") {
		t.Errorf("a met ratio or a per-playbook compile time is listed as missed")
	}
	in.Synth.CompileNs = []float64{200e6, 200e6, 200e6}
	if out := renderInputs(t, in); !strings.Contains(out, "irflow compile of all playbooks: 200 ms, only 72× faster than warm synth 14.5 s (target ≥ 100×)") {
		t.Errorf("a 72× ratio is not listed as missed")
	}
}

// TestRenderRoundTrips: a count within its launch type's target is met, one
// above it missed (after the decision where a gate comes first: the
// fixture's EC2 case has 133 from the start and 8 after its gate, met
// until the count after the decision is 13); a case without isolation is
// not judged.
func TestRenderRoundTrips(t *testing.T) {
	in, err := loadInputs("testdata/run")
	if err != nil {
		t.Fatal(err)
	}
	eight, thirteen := 8, 13
	in.RoundTrips.Cases[0].RoundTrips = &eight
	in.RoundTrips.Cases[2].AfterDecision = &thirteen // a gate first: judged after the decision
	out := renderInputs(t, in)
	if !strings.Contains(out, "| `isolate-now` | 8 | - | 12 | 31 | - | ≤ 8 from the start | met |") || strings.Contains(out, "round trips to containment on FARGATE") {
		t.Errorf("8 round trips on Fargate is not met")
	}
	if !strings.Contains(out, "- round trips to containment on EC2: 1 of 1 contained cases above 12 (13 to 13, most crypto-mining on ec2-awsvpc; section 7)") {
		t.Errorf("13 round trips on EC2 is not listed as missed")
	}
	// A live triage first: judged after it.
	in.RoundTrips.Cases[0].RoundTrips, in.RoundTrips.Cases[0].AfterTriage = &thirteen, &eight
	if out := renderInputs(t, in); !strings.Contains(out, "| `isolate-now` | 13 | - | 12 | 31 | - | ≤ 8 after the live triage: 8 | met |") {
		t.Errorf("13 round trips from the start, 8 after a live triage, is not judged met after the triage")
	}
	if strings.Contains(out, "nacl-full; section 7") {
		t.Errorf("a case without isolation is judged against the target")
	}
}

// TestRenderRoundTripsLatency: section 7 says what floor the strict layer
// held each request to, and that counts without one are upper bounds.
func TestRenderRoundTripsLatency(t *testing.T) {
	in, err := loadInputs("testdata/run")
	if err != nil {
		t.Fatal(err)
	}
	if out := renderInputs(t, in); !strings.Contains(out, "answered at moto's speed (no `--latency`)") {
		t.Errorf("a run without a floor does not say its counts are upper bounds")
	}
	for i := range in.RoundTrips.Cases {
		in.RoundTrips.Cases[i].LatencyMs = 50
	}
	if out := renderInputs(t, in); !strings.Contains(out, "held every request a handler made at least 50 ms") {
		t.Errorf("a 50 ms floor is not reported")
	}
}

func renderInputs(t *testing.T, in *Inputs) string {
	t.Helper()
	var b strings.Builder
	if err := render(&b, in); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestSummarize(t *testing.T) {
	s := summarize([]float64{5, 1, 4, 2, 3})
	if s.N != 5 || s.Median != 3 || s.Min != 1 || s.Max != 5 || s.P25 != 2 || s.P75 != 4 {
		t.Errorf("got %+v", s)
	}
	if s := summarize([]float64{1, 2}); s.Median != 1.5 {
		t.Errorf("median of 1, 2: %v", s.Median)
	}
	for ns, want := range map[float64]string{999: "999 ns", 1500: "1.50 µs", 12_345_678: "12.3 ms", 14.5e9: "14.5 s"} {
		if got := fmtNs(ns); got != want {
			t.Errorf("fmtNs(%v) = %q, want %q", ns, got, want)
		}
	}
}

func TestParseGoBench(t *testing.T) {
	f, err := parseGoBench(strings.NewReader("cpu: X\nBenchmarkA/b-2 \t 10\t 1500 ns/op\t 8 B/op\t 1 allocs/op\nBenchmarkA/b-2 \t 10\t 2500 ns/op\t 8 B/op\t 1 allocs/op\nPASS\n"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.get("BenchmarkA/b")
	if err != nil || len(b.NsOp) != 2 || b.NsOp[1] != 2500 || b.Allocs[0] != 1 || f.CPU != "X" {
		t.Fatalf("%+v %v", b, err)
	}
}

// TestContainment: resolve, then a Parallel whose longest branch is an
// async start and two checks, a gate, then the isolation.
func TestContainment(t *testing.T) {
	scopes := map[string][]frame{
		"EC2: memory": {{"EC2: p", 0}}, "EC2: memory check": {{"EC2: p", 0}}, "EC2: tag": {{"EC2: p", 1}},
	}
	steps := []simulate.Step{
		{State: "Resolve target", Action: "resolve-target", Attempts: 1},
		{State: "EC2: memory", Action: "capture-memory", Attempts: 1},
		{State: "EC2: tag", Action: "tag-resources", Attempts: 2}, // a retry
		{State: "EC2: memory check", Action: "capture-memory", Attempts: 1},
		{State: "EC2: memory check", Action: "capture-memory", Attempts: 1},
		{State: "EC2: gate", Action: "request-approval", Attempts: 1, Result: simulate.ResultApproved},
		{State: "EC2: isolate", Action: "isolate-network", Attempts: 1},
		{State: "EC2: stop", Action: "stop-task", Attempts: 1},
	}
	if n, state := containment(steps, scopes); n != 5 || state != "EC2: isolate" {
		t.Errorf("containment = %d at %q, want 5 at EC2: isolate", n, state)
	}
	if n, _ := containment(steps[:2], scopes); n != -1 {
		t.Errorf("no isolation: %d, want -1", n)
	}
}
