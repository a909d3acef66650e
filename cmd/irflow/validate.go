package main

import (
	"fmt"
	"io"
	"os"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/generator/diag"
)

func init() {
	register(command{name: "validate", summary: "check playbooks and report every problem with file:line:col", run: runValidate})
}

func runValidate(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("validate", "PATH... [--strict] [--format text|json]", stderr)
	strict := fs.Bool("strict", false, "treat warnings as errors")
	format := fs.String("format", "text", "diagnostics format: text or json")
	paths, help, err := parseArgs(fs, args)
	if help {
		return exitOK
	}
	if err == nil {
		err = choice("format", *format, "text", "json")
	}
	if err == nil && len(paths) == 0 {
		err = fmt.Errorf("no playbook given")
	}
	if err != nil {
		fmt.Fprintf(stderr, "irflow validate: %v\n", err)
		fs.Usage()
		return exitUsage
	}
	files, err := playbookFiles(paths)
	if err != nil {
		fmt.Fprintf(stderr, "irflow validate: %v\n", err)
		return exitUsage
	}
	compiled, ds, code := compileFiles(files, generator.Options{Strict: *strict}, stderr)
	if code != exitOK {
		return code
	}
	if err := writeDiagnostics(stdout, ds, *format); err != nil {
		fmt.Fprintf(stderr, "irflow validate: %v\n", err)
		return exitUsage
	}
	if *format == "text" {
		fmt.Fprintf(stderr, "%d playbook(s): %d valid, %d error(s), %d warning(s)\n",
			len(files), len(compiled), ds.Errors(), len(ds)-ds.Errors())
	}
	if ds.HasErrors() {
		return exitPlaybook
	}
	return exitOK
}

// compiled is one playbook that compiled without errors.
type compiled struct {
	file   string
	result *generator.Result
}

// compileFiles compiles every file and checks that playbook names are
// unique across them. Unreadable files are a usage error (exit 2).
func compileFiles(files []string, opts generator.Options, stderr io.Writer) ([]compiled, generator.Diagnostics, int) {
	var out []compiled
	var all generator.Diagnostics
	seen := map[string]compiled{}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintf(stderr, "irflow: cannot read %s: %v\n", f, unwrapPathError(err))
			return nil, nil, exitUsage
		}
		r, ds := generator.Compile(src, f, opts)
		all = append(all, ds...)
		if r == nil {
			continue
		}
		if prev, dup := seen[r.Name]; dup {
			all = append(all, generator.Diagnostic{Severity: generator.SeverityError, Code: "duplicate-id", File: f,
				Line: r.NameLine, Column: r.NameColumn, Path: "/metadata/name",
				Message: fmt.Sprintf("playbook name %q is also used by %s", r.Name, prev.file),
				Hint:    "state machines are named irflow-<name>: names must be unique"})
			continue
		}
		c := compiled{file: f, result: r}
		seen[r.Name] = c
		out = append(out, c)
	}
	return out, all.Normalize(), exitOK
}

func writeDiagnostics(w io.Writer, ds generator.Diagnostics, format string) error {
	if format == "json" {
		return diag.WriteJSON(w, ds)
	}
	return diag.WriteText(w, ds)
}
