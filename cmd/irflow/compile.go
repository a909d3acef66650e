package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/irflow/irflow/generator"
)

func init() {
	register(command{name: "compile", summary: "compile playbooks to Step Functions definitions (<name>.asl.json)", run: runCompile})
}

func runCompile(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("compile", "PATH... --out DIR [--strict] [--format text|json]", stderr)
	out := fs.String("out", "", "folder for the <metadata.name>.asl.json files (created if missing)")
	strict := fs.Bool("strict", false, "treat warnings as errors")
	format := fs.String("format", "text", "diagnostics format on stderr: text or json")
	paths, help, err := parseFormat(fs, args, format, "text", "json")
	if help {
		return exitOK
	}
	if err == nil && len(paths) == 0 {
		err = fmt.Errorf("no playbook given")
	}
	if err == nil && *out == "" {
		err = fmt.Errorf("--out DIR is required")
	}
	if err != nil {
		return usageError(fs, stderr, err)
	}
	files, err := playbookFiles(paths)
	if err != nil {
		fmt.Fprintf(stderr, "irflow compile: %v\n", err)
		return exitUsage
	}
	results, ds, code := compileFiles(files, generator.Options{Strict: *strict}, stderr)
	if code != exitOK {
		return code
	}
	if len(ds) > 0 || *format == "json" {
		if err := writeDiagnostics(stderr, ds, *format); err != nil {
			return exitUsage
		}
	}
	if ds.HasErrors() {
		fmt.Fprintln(stderr, "irflow compile: nothing written: fix the errors above")
		return exitPlaybook
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintf(stderr, "irflow compile: %v\n", err)
		return exitUsage
	}
	for _, c := range results {
		path := filepath.Join(*out, c.result.Name+".asl.json")
		if err := writeFileAtomic(path, c.result.ASL); err != nil {
			fmt.Fprintf(stderr, "irflow compile: %v\n", err)
			return exitUsage
		}
		fmt.Fprintln(stdout, path)
	}
	return exitOK
}

// writeFileAtomic writes through a temporary file and a rename, so a reader
// never sees half a definition.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".irflow-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
