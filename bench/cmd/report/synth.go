package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/irflow/irflow/generator"
)

// SynthReport is what `report synth` measures.
type SynthReport struct {
	Warmup  int       `json:"warmup"`
	SynthNs []float64 `json:"synthNs"`
	// SynthLine is the last line scripts/synth.sh printed.
	SynthLine string `json:"synthLine"`
	// CompileNs are wall times of `irflow compile workflows --out DIR`, the
	// process included.
	CompileNs []float64 `json:"compileNs"`
	Playbooks int       `json:"playbooks"`
}

func runSynth(root, irflow, tmp string, warmup, runs, compileRuns int, synthArgs []string) (*SynthReport, error) {
	rep := &SynthReport{Warmup: warmup}
	for i := 0; i < warmup+runs; i++ {
		out := filepath.Join(tmp, fmt.Sprintf("cdk.out.%d", i))
		d, output, err := timed(root, "scripts/synth.sh", append([]string{out}, synthArgs...)...)
		if err != nil {
			return nil, fmt.Errorf("scripts/synth.sh: %v\n%s", err, tail(output, 4000))
		}
		_ = os.RemoveAll(out)
		if i >= warmup {
			rep.SynthNs = append(rep.SynthNs, float64(d.Nanoseconds()))
		}
		rep.SynthLine = lastLine(output)
		fmt.Fprintf(os.Stderr, "bench: synth %d/%d: %s\n", i+1, warmup+runs, d.Round(time.Millisecond))
	}
	playbooks, _ := generator.PlaybookFiles(filepath.Join(root, "workflows"))
	rep.Playbooks = len(playbooks)
	for i := -1; i < compileRuns; i++ {
		out := filepath.Join(tmp, "asl")
		_ = os.RemoveAll(out)
		d, output, err := timed(root, irflow, "compile", "workflows", "--out", out)
		if err != nil {
			return nil, fmt.Errorf("irflow compile: %v\n%s", err, output)
		}
		if i >= 0 {
			rep.CompileNs = append(rep.CompileNs, float64(d.Nanoseconds()))
		}
	}
	return rep, nil
}

// timed runs name with args in dir and returns its wall time and combined output.
func timed(dir, name string, args ...string) (time.Duration, string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	start := time.Now()
	err := cmd.Run()
	return time.Since(start), buf.String(), err
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
