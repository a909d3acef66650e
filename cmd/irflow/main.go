// Command irflow compiles, checks, draws and runs incident-response playbooks
// for Amazon ECS. It is the only place that reads files, prints and exits.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/irflow/irflow/generator/diag"
)

// Exit codes are a contract: scripts and CI rely on them.
const (
	exitOK       = 0
	exitPlaybook = 1 // playbook errors (or --strict warnings); operator commands: refused, failed verification, AWS error
	exitUsage    = 2 // bad flags or arguments, unreadable or malformed input
	exitFailed   = 3 // simulate: the execution FAILED
	exitVerify   = 4 // audit --verify: the case's audit trail does not verify
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

var commands []command

func register(c command) { commands = append(commands, c) }

// rootCtx is every command's context: main cancels it on Ctrl-C or
// SIGTERM, so AWS calls and simulations in flight stop instead of the
// process dying mid-write.
var rootCtx = context.Background()

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	rootCtx = ctx
	code := run(os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		// irflow help CMD is irflow CMD --help.
		if len(args) == 2 && args[0] == "help" {
			return run([]string{args[1], "--help"}, stdout, stderr)
		}
		usage(stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "irflow: unknown command %q\n", args[0])
	var names []string
	for _, c := range commands {
		names = append(names, c.name)
	}
	if s := diag.Suggest(args[0], names); s != "" {
		fmt.Fprintf(stderr, "did you mean %q?\n", s)
	}
	fmt.Fprintln(stderr, "run 'irflow help' for the list of commands")
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "irflow turns incident-response playbooks for Amazon ECS into Step Functions state machines.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: irflow <command> [arguments] [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	sorted := append([]command(nil), commands...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	for _, c := range sorted {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'irflow help <command>' (or 'irflow <command> --help') for a command's flags.")
	fmt.Fprintln(w, "Exit codes: 0 ok, 1 playbook errors (operator commands: refused or failed), 2 usage or unreadable input, 3 simulated execution FAILED,")
	fmt.Fprintln(w, "4 irflow audit --verify: the audit trail does not verify.")
}
