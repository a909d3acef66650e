package main

import (
	"fmt"
	"io"

	"github.com/irflow/irflow/generator"
)

func init() {
	register(command{name: "schema", summary: "print the playbook JSON Schema (generated from the catalog) for editors", run: runSchema})
}

// runSchema prints the schema editors complete and check playbooks with;
// schemas/playbook.v1.schema.json is the same bytes.
func runSchema(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("schema", "", stderr)
	rest, help, err := parseArgs(fs, args)
	if help {
		return exitOK
	}
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("takes no arguments")
	}
	if err != nil {
		fmt.Fprintf(stderr, "irflow schema: %v\n", err)
		fs.Usage()
		return exitUsage
	}
	if _, err := stdout.Write(generator.PlaybookSchema()); err != nil {
		return exitUsage
	}
	return exitOK
}
