// Command report measures what `make bench` reports and writes
// BENCHMARKS.md. scripts/bench.sh runs its phases in order, each writing a
// JSON file into one directory, then renders them:
//
//	report machine -out DIR/machine.json           the machine, versions, load at the start
//	report sim -root . -out DIR/sim.json -job DIR/node-job.json
//	                                               transitions, invocations, containment, Go simulate timings,
//	                                               and the job bench/node/stepfunctions.mjs replays
//	report lambda -rie BIN -arm64 DIR -timed DIR [-baseline DIR] -out DIR/lambda.json
//	                                               bootstrap sizes, cold and warm invokes under the emulator
//	report synth -irflow BIN -tmp DIR -out DIR/synth.json
//	                                               warm cdk synth and irflow compile wall times
//	report roundtrips -out DIR/roundtrips.json SUMMARY...
//	                                               round trips to containment from bin/irflow-demo's summaries
//	report render -dir DIR -out BENCHMARKS.md      the report (reads DIR/go-bench.txt and node.json too)
//
// Timings live here and in BENCHMARKS.md, never in tests.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "machine":
		err = cmdMachine(os.Args[2:])
	case "sim":
		err = cmdSim(os.Args[2:])
	case "lambda":
		err = cmdLambda(os.Args[2:])
	case "synth":
		err = cmdSynth(os.Args[2:])
	case "roundtrips":
		err = cmdRoundTrips(os.Args[2:])
	case "render":
		err = cmdRender(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "report %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: report machine|sim|lambda|synth|roundtrips|render [flags] (see the package comment)")
	os.Exit(2)
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func cmdMachine(args []string) error {
	fs := flag.NewFlagSet("machine", flag.ExitOnError)
	root := fs.String("root", ".", "repository root")
	out := fs.String("out", "", "output JSON")
	fs.Parse(args)
	return writeJSON(*out, probeMachine(*root))
}

func cmdSim(args []string) error {
	fs := flag.NewFlagSet("sim", flag.ExitOnError)
	root := fs.String("root", ".", "repository root")
	out := fs.String("out", "", "output JSON")
	jobOut := fs.String("job", "", "the Node job to write")
	warm := fs.Int("warm-runs", 30, "timed generator.Simulate runs per case")
	nodeRuns := fs.Int("node-runs", 30, "timed aws-local-stepfunctions runs per case")
	nodeWarmup := fs.Int("node-warmup", 5, "untimed aws-local-stepfunctions runs before them")
	nodeConstructs := fs.Int("node-constructs", 5, "new StateMachine + run, per case")
	fs.Parse(args)
	rep, job, err := runSim(*root, *warm, *nodeRuns, *nodeWarmup, *nodeConstructs)
	if err != nil {
		return err
	}
	if err := writeJSON(*out, rep); err != nil {
		return err
	}
	return writeJSON(*jobOut, job)
}

func cmdLambda(args []string) error {
	fs := flag.NewFlagSet("lambda", flag.ExitOnError)
	rie := fs.String("rie", "bin/aws-lambda-rie", "the runtime interface emulator")
	arm64 := fs.String("arm64", "build/tasks", "the deployed linux/arm64 builds (sizes)")
	timed := fs.String("timed", "", "builds for this machine's architecture (timings)")
	baseline := fs.String("baseline", "", "directory of the do-nothing Lambda's bootstrap")
	cold := fs.Int("cold", 5, "cold starts per function")
	warm := fs.Int("warm", 50, "warm invocations per function")
	out := fs.String("out", "", "output JSON")
	fs.Parse(args)
	rep, err := runLambda(*rie, *arm64, *timed, *baseline, *cold, *warm)
	if err != nil {
		return err
	}
	return writeJSON(*out, rep)
}

func cmdSynth(args []string) error {
	fs := flag.NewFlagSet("synth", flag.ExitOnError)
	root := fs.String("root", ".", "repository root")
	irflow := fs.String("irflow", "", "the irflow binary")
	tmp := fs.String("tmp", "", "scratch directory")
	warmup := fs.Int("warmup", 1, "untimed synths first")
	runs := fs.Int("runs", 3, "timed synths")
	compileRuns := fs.Int("compile-runs", 10, "timed irflow compile runs")
	out := fs.String("out", "", "output JSON")
	fs.Parse(args)
	rep, err := runSynth(*root, *irflow, *tmp, *warmup, *runs, *compileRuns, fs.Args())
	if err != nil {
		return err
	}
	return writeJSON(*out, rep)
}

func cmdRender(args []string) error {
	fs := flag.NewFlagSet("render", flag.ExitOnError)
	dir := fs.String("dir", "", "the directory the phases wrote")
	out := fs.String("out", "BENCHMARKS.md", "the report")
	wall := fs.Float64("wall", 0, "seconds the run took (before rendering)")
	fs.Parse(args)
	in, err := loadInputs(*dir)
	if err != nil {
		return err
	}
	in.Machine.WallSeconds = *wall
	in.Machine.LoadAtEnd = loadAvg()
	var b strings.Builder
	if err := render(&b, in); err != nil {
		return err
	}
	return os.WriteFile(*out, []byte(b.String()), 0o644)
}
