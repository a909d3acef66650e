// Command irflow-stress is `make stress` (scripts/stress.sh): a
// crypto-mining campaign of concurrent incidents run with `irflow simulate
// --aws-endpoint` against moto server behind a fault-injecting proxy; see
// package tasks/internal/stress. Progress goes to stderr; the last line on
// stdout is the JSON summary. Exit 0 when every execution SUCCEEDED, nothing
// was lost and faults were injected; 1 otherwise; 2 on usage errors.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/irflow/irflow/internal/faultproxy"
	"github.com/irflow/irflow/internal/stress"
)

func main() { os.Exit(run()) }

func run() int {
	fs := flag.NewFlagSet("irflow-stress", flag.ContinueOnError)
	cfg := stress.Config{Log: os.Stderr}
	fs.StringVar(&cfg.Irflow, "irflow", "bin/irflow", "the irflow `binary` every incident runs with")
	fs.StringVar(&cfg.Workflows, "workflows", "workflows", "the playbook `folder`")
	fs.IntVar(&cfg.Incidents, "incidents", 200, "concurrent incidents (executions), each on a task of its own")
	fs.IntVar(&cfg.Concurrency, "concurrency", 0, "executions in flight at once (0: all)")
	fs.IntVar(&cfg.Worlds, "worlds", 10, "seeded worlds (VPC, cluster, service, Auto Scaling group) the tasks spread over")
	fs.StringVar(&cfg.Endpoint, "endpoint", "", "a running moto server `URL` (default: start a fresh one)")
	fs.Float64Var(&cfg.Faults.ThrottleRate, "throttle", 0.20, "fraction of AWS requests throttled")
	fs.Float64Var(&cfg.Faults.ServerErrorRate, "server-errors", 0.03, "fraction of AWS requests answered HTTP 500 before reaching moto")
	fs.Float64Var(&cfg.Faults.LostReplyRate, "lost-replies", 0.02, "fraction of AWS requests that reach moto and are answered HTTP 500 (the reply is lost: the SDK resends a request that took effect)")
	fs.DurationVar(&cfg.Faults.MinLatency, "min-latency", 2*time.Millisecond, "least latency added to every AWS request")
	fs.DurationVar(&cfg.Faults.MaxLatency, "max-latency", 40*time.Millisecond, "most latency added to every AWS request")
	fs.IntVar(&cfg.Faults.MaxInFlight, "moto-in-flight", 8, "AWS requests the proxy lets through to each moto server at once (0: no bound)")
	fs.Uint64Var(&cfg.Faults.Seed, "seed", 9, "seed of the fault decisions")
	fs.DurationVar(&cfg.Deadline, "deadline", 10*time.Minute, "hard deadline of the whole run")
	fs.StringVar(&cfg.WorkDir, "workdir", "", "keep inputs, outputs, logs and report.json here (default: a temporary folder)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	if fs.NArg() > 0 || cfg.Incidents < 1 {
		fmt.Fprintln(os.Stderr, "irflow-stress: no arguments, and -incidents must be at least 1")
		return 2
	}
	if _, err := os.Stat(cfg.Irflow); err != nil {
		fmt.Fprintf(os.Stderr, "irflow-stress: %v (make irflow builds bin/irflow)\n", err)
		return 2
	}
	if cfg.WorkDir == "" {
		dir, err := os.MkdirTemp("", "irflow-stress-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "irflow-stress:", err)
			return 1
		}
		cfg.WorkDir = dir
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// The last resort: whatever hangs, the process (and with it moto and
	// every irflow child, through their parent-death signal) ends.
	summary := stress.Summary{Executions: cfg.Incidents, Failed: cfg.Incidents}
	watchdog := time.AfterFunc(cfg.Deadline+3*time.Minute, func() {
		fmt.Fprintf(os.Stderr, "irflow-stress: still running %v after the deadline: giving up\n", 3*time.Minute)
		printSummary(summary)
		os.Exit(1)
	})
	defer watchdog.Stop()

	start := time.Now()
	rep, err := stress.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "irflow-stress:", err)
		printSummary(summary)
		return 1
	}
	describe(rep, cfg.WorkDir, time.Since(start))
	printSummary(rep.Summary)
	if !rep.OK() {
		return 1
	}
	return 0
}

// describe writes report.json and tells on stderr what went wrong.
func describe(rep *stress.Report, dir string, wall time.Duration) {
	b, _ := json.MarshalIndent(rep, "", "  ")
	path := filepath.Join(dir, "report.json")
	_ = os.WriteFile(path, b, 0o644)
	st := rep.Proxy
	fmt.Fprintf(os.Stderr, "stress: proxy saw %d AWS requests, injected %d faults: %v\n", st.Requests, st.Faults, st.ByService)
	type op struct {
		name string
		st   faultproxy.OpStats
	}
	var ops []op
	for k, v := range rep.Operations {
		ops = append(ops, op{k, v})
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].st.BackendMs > ops[j].st.BackendMs })
	for i, o := range ops {
		if i == 8 {
			break
		}
		fmt.Fprintf(os.Stderr, "stress: moto time %-44s %6d requests %8d ms (%.1f ms each)\n", o.name, o.st.Requests, o.st.BackendMs, float64(o.st.BackendMs)/float64(max(o.st.Requests, 1)))
	}
	var slow []string
	for a, d := range rep.Checked.Slowest {
		slow = append(slow, fmt.Sprintf("%s %v", a, d.Round(100*time.Millisecond)))
	}
	sort.Strings(slow)
	fmt.Fprintf(os.Stderr, "stress: %d invocations timed from the audit chains; slowest per action: %s\n", rep.Checked.Invocations, strings.Join(slow, ", "))
	for i, o := range rep.Checked.Overtime {
		if i < 20 {
			fmt.Fprintf(os.Stderr, "stress: OVERTIME %s\n", o)
		}
	}
	fmt.Fprintf(os.Stderr, "stress: contained %d tasks (stop-task completed, ECS says STOPPED)\n", rep.Checked.Contained)
	shown := 0
	for _, e := range rep.Executions {
		if e.Status == "SUCCEEDED" && (e.Outcome == "COMPLETED" || e.Outcome == stress.OutcomeCorrelated) {
			continue // a CORRELATED one unrecorded in its case is LOST, below
		}
		if shown++; shown <= 20 {
			fmt.Fprintf(os.Stderr, "stress: FAILED execution %d (%s, %s, %s): status %q outcome %q exit %d %s\n",
				e.N, e.Playbook, e.Task.LaunchType, e.CaseID, e.Status, e.Outcome, e.ExitCode, e.Err)
		}
	}
	for i, l := range rep.Losses {
		if i < 20 {
			fmt.Fprintf(os.Stderr, "stress: LOST in case %s (execution %d): %s\n", l.CaseID, l.Execution, l.What)
		}
	}
	for _, u := range rep.Checked.Uncontained {
		fmt.Fprintf(os.Stderr, "stress: NOT CONTAINED: %s\n", u)
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(os.Stderr, "stress: PROBLEM: %s\n", p)
	}
	fmt.Fprintf(os.Stderr, "stress: %s in %v; details in %s\n", verdict(rep), wall.Round(time.Second), path)
}

func verdict(rep *stress.Report) string {
	if rep.OK() {
		return "PASS"
	}
	return "FAIL"
}

func printSummary(s stress.Summary) {
	b, _ := json.Marshal(s)
	fmt.Println(string(b))
}
