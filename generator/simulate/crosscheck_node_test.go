package simulate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"
)

// nodeRunner runs scripts/crosscheck/run.mjs.
type nodeRunner struct {
	node, root string
}

// nodeEngine finds node and the pinned aws-local-stepfunctions, or skips
// (fails under IRFLOW_REQUIRE_NODE=1).
func nodeEngine(t *testing.T) nodeRunner {
	t.Helper()
	root, _ := filepath.Abs("../..")
	unavailable := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("IRFLOW_REQUIRE_NODE") == "1" {
			t.Fatalf(format+" (IRFLOW_REQUIRE_NODE=1; run npm ci)", args...)
		}
		t.Skipf(format+"; the cross-check with aws-local-stepfunctions is skipped (set IRFLOW_REQUIRE_NODE=1 to require it)", args...)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		unavailable("node is not on PATH")
	}
	raw, err := os.ReadFile(filepath.Join(root, "node_modules", "aws-local-stepfunctions", "package.json"))
	if err != nil {
		unavailable("node_modules/aws-local-stepfunctions is missing")
	}
	var pkg struct{ Version string }
	if json.Unmarshal(raw, &pkg); pkg.Version != "3.0.0" {
		t.Fatalf("node_modules has aws-local-stepfunctions %s; the cross-check is pinned to 3.0.0", pkg.Version)
	}
	return nodeRunner{node: node, root: root}
}

// run runs the job in as many node processes as there are CPUs (each
// builds only its share of the playbooks' machines) and returns the
// reports in the order of job.Cases.
func (n nodeRunner) run(t *testing.T, job xcJob) []xcReport {
	t.Helper()
	var names []string
	for name := range job.Machines {
		names = append(names, name)
	}
	sort.Strings(names)
	parts := min(runtime.NumCPU(), len(names))
	share := map[string]int{}
	for i, name := range names {
		share[name] = i % parts
	}
	jobs := make([]xcJob, parts)
	index := make([][]int, parts)
	for i := range jobs {
		jobs[i].Machines = map[string]json.RawMessage{}
	}
	for name, def := range job.Machines {
		jobs[share[name]].Machines[name] = def
	}
	for i, c := range job.Cases {
		k := share[c.Machine]
		jobs[k].Cases = append(jobs[k].Cases, c)
		index[k] = append(index[k], i)
	}
	reports := make([]xcReport, len(job.Cases))
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for k := range jobs {
		dir := t.TempDir()
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := n.runPart(dir, jobs[k])
			if err == nil && len(got) != len(index[k]) {
				err = fmt.Errorf("node reported %d executions for %d cases", len(got), len(index[k]))
			}
			errs[k] = err
			for j, i := range index[k] {
				if j < len(got) {
					reports[i] = got[j]
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return reports
}

func (n nodeRunner) runPart(dir string, job xcJob) ([]xcReport, error) {
	b, err := json.Marshal(job)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "job.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, n.node, "--import", "./scripts/crosscheck/polyfill.mjs", "scripts/crosscheck/run.mjs", path)
	cmd.Dir = n.root
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("node scripts/crosscheck/run.mjs: %v\n%s", err, stderr.String())
	}
	var reports []xcReport
	if err := json.Unmarshal(stdout.Bytes(), &reports); err != nil {
		return nil, fmt.Errorf("node report: %v\n%s", err, stderr.String())
	}
	return reports, nil
}
