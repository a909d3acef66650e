// Command irflow-demo is irflow's test bench and `make demo`: it starts
// moto server (the local AWS emulator) behind the AWS-strict layer, seeds
// the named ECS worlds (internal/worlds), runs a playbook on each with the
// real task handlers (the code path of `irflow simulate --aws-endpoint`),
// decides every gate through the real approval API, then judges what the
// response left behind: the world's flows by the flow model, the task's
// status, the evidence's hashes, the audit chain. docs/demo.md.
//
//	irflow-demo [--playbook FILE] [--world NAME]... [--input FILE]
//	            [--decide approve|reject|timeout] [--summary FILE] [--keep]
//
// Exit 0 when every case ended as its decision implies (approve:
// COMPLETED; reject or timeout: REJECTED) with its evidence and audit
// chain verified; 1 otherwise (the summary says why); 2 on bad input (an
// unknown world, an unreadable playbook, an input that is neither a
// finding nor a console input), before moto starts.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/irflow/irflow/internal/demo"
	"github.com/irflow/irflow/internal/worlds"
)

func main() { os.Exit(run(os.Args[1:])) }

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func run(args []string) int {
	if len(args) > 0 && args[0] == "strict-serve" {
		return strictServe(args[1:])
	}
	fs := flag.NewFlagSet("irflow-demo", flag.ContinueOnError)
	var o demo.Options
	var ws multi
	fs.StringVar(&o.Playbook, "playbook", "", "the playbook `FILE` (default workflows/crypto-mining.yaml)")
	fs.Var(&ws, "world", "a world `NAME` to respond in, one case each; repeatable (default: the demo: fargate, ec2-bridge, four eyes)")
	fs.StringVar(&o.Input, "input", "", "a GuardDuty event or console input `FILE`, retargeted to each world's task")
	fs.StringVar(&o.Decide, "decide", "approve", "how every gate is decided: approve, reject or timeout")
	fs.StringVar(&o.Summary, "summary", "", "write the JSON summary to `FILE`")
	fs.BoolVar(&o.Keep, "keep", false, "leave moto and the strict layer running after the run (the summary's moto and env say where)")
	fs.StringVar(&o.Out, "out", "", "`DIR` for handlers.log and each case's files (default build/demo)")
	fs.StringVar(&o.Irflow, "irflow", "", "the irflow CLI `binary`; when set, `irflow audit --verify` runs on the first case")
	fs.StringVar(&o.Endpoint, "endpoint", "", "use this moto server `URL` instead of starting one")
	fs.DurationVar(&o.Latency, "latency", 0, "hold every AWS request a handler makes at least this `long` in the strict layer (as a real endpoint's round trip; make bench: 50ms)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: irflow-demo [--playbook FILE] [--world NAME]... [--input FILE] [--decide approve|reject|timeout] [--summary FILE] [--keep]\n\nworlds:\n")
		for _, n := range append(worlds.Names(), worlds.MemberNames()...) {
			fmt.Fprintf(fs.Output(), "  %-18s %s\n", n, worlds.Describe(n))
		}
		fmt.Fprintln(fs.Output())
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "irflow-demo: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	o.Worlds, o.Stdout = ws, os.Stdout
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	res, err := demo.Run(ctx, o)
	var ue *demo.UsageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(os.Stderr, "irflow-demo: %v\n", err)
		return 2
	case err != nil:
		fmt.Fprintf(os.Stdout, "\nirflow-demo: %v\n", err)
		return 1
	case !res.OK():
		fmt.Fprintln(os.Stdout, "\nirflow-demo: FAILED: see the lines marked PROBLEM above")
		return 1
	}
	return 0
}

// strictServe is the detached strict layer of a --keep run: `irflow-demo
// strict-serve --backend URL` serves until SIGTERM; the URL is its first
// line of output.
func strictServe(args []string) int {
	fs := flag.NewFlagSet("irflow-demo strict-serve", flag.ContinueOnError)
	backend := fs.String("backend", "", "moto server `URL`")
	latency := fs.Duration("latency", 0, "the least time each AWS request takes")
	if err := fs.Parse(args); err != nil || *backend == "" {
		fmt.Fprintln(os.Stderr, "usage: irflow-demo strict-serve --backend URL [--latency D]")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := demo.ServeStrict(ctx, *backend, *latency); err != nil {
		fmt.Fprintf(os.Stderr, "irflow-demo strict-serve: %v\n", err)
		return 1
	}
	return 0
}
