package generator

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkCompile compiles each shipped playbook. There is no absolute
// target: make bench holds irflow compile to 100× faster than a warm cdk synth.
func BenchmarkCompile(b *testing.B) {
	files, _ := PlaybookFiles("../workflows")
	if len(files) == 0 {
		b.Fatal("no playbooks")
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if r, ds := Compile(src, f, Options{}); r == nil {
					b.Fatal(ds)
				}
			}
		})
	}
}

// BenchmarkCompileAll compiles every shipped playbook once per iteration.
func BenchmarkCompileAll(b *testing.B) {
	files, _ := PlaybookFiles("../workflows")
	var srcs [][]byte
	for _, f := range files {
		src, _ := os.ReadFile(f)
		srcs = append(srcs, src)
	}
	b.ReportAllocs()
	for b.Loop() {
		for i, src := range srcs {
			if r, ds := Compile(src, files[i], Options{}); r == nil {
				b.Fatal(ds)
			}
		}
	}
}

// BenchmarkCompileSteps measures how compile time grows with the number of
// steps (generated playbooks of 10, 100 and 500 steps; the target is linear).
// Every pass runs at each size; at 500 steps the definition passes Step
// Functions' 1 MiB limit, which the verify pass reports as a limit error.
func BenchmarkCompileSteps(b *testing.B) {
	for _, n := range []int{10, 100, 500} {
		src := generatedPlaybook(n)
		b.Run(fmt.Sprintf("steps=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if r, ds := Compile(src, "generated.yaml", Options{}); r == nil && !onlyLimit(ds) {
					b.Fatal(ds)
				}
			}
		})
	}
}

func onlyLimit(ds Diagnostics) bool {
	for _, d := range ds {
		if d.Code != "limit" {
			return false
		}
	}
	return len(ds) > 0
}

// generatedPlaybook has n steps: evidence in parallels of five, an
// approval, then containment, cycling through the catalog.
func generatedPlaybook(n int) []byte {
	evidence := []string{"capture-task-metadata", "collect-logs", "tag-resources", "enable-flow-logs", "notify"}
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: irflow/v1\nkind: Playbook\nmetadata:\n  name: generated-%d\n  title: Generated\nsteps:\n", n)
	id := 0
	for id < n-3 {
		fmt.Fprintf(&b, "  - id: p%d\n    onError: continue\n    parallel:\n", id)
		for k := 0; k < 5 && id < n-3; k++ {
			id++
			fmt.Fprintf(&b, "      - { id: s%d, action: %s }\n", id, evidence[k])
		}
	}
	fmt.Fprintf(&b, "  - id: gate\n    approval: { prompt: \"go?\" }\n  - id: isolate\n    action: isolate-network\n  - id: stop\n    action: stop-task\n")
	return []byte(b.String())
}

func TestGeneratedPlaybooks(t *testing.T) {
	for _, n := range []int{10, 100} {
		if r, ds := Compile(generatedPlaybook(n), "generated.yaml", Options{}); r == nil {
			t.Fatalf("generated playbook of %d steps: %v", n, ds)
		}
	}
	if _, ds := Compile(generatedPlaybook(500), "generated.yaml", Options{}); !onlyLimit(ds) {
		t.Errorf("500 steps: got %v; want only the 1 MiB definition limit", ds)
	}
}
