package main

import (
	"fmt"
	"io"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/generator/diag"
)

func init() {
	register(command{name: "graph", summary: "draw a playbook's state machine (Mermaid or Graphviz dot)", run: runGraph})
}

func runGraph(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("graph", "FILE [--format mermaid|dot]", stderr)
	format := fs.String("format", "mermaid", "mermaid or dot")
	path, help, err := parseOne(fs, args, "playbook file", format, "mermaid", "dot")
	if help {
		return exitOK
	}
	if err != nil {
		return usageError(fs, stderr, err)
	}
	src, name, err := readSource(path)
	if err != nil {
		fmt.Fprintf(stderr, "irflow graph: %v\n", err)
		return exitUsage
	}
	r, ds := generator.Compile(src, name, generator.Options{})
	if len(ds) > 0 {
		diag.WriteText(stderr, ds)
	}
	if r == nil {
		return exitPlaybook
	}
	g, err := generator.Graph(r, *format)
	if err != nil {
		fmt.Fprintf(stderr, "irflow graph: %v\n", err)
		return exitUsage
	}
	io.WriteString(stdout, g)
	return exitOK
}
