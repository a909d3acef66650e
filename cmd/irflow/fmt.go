package main

import (
	"bytes"
	"fmt"
	"io"

	"github.com/irflow/irflow/generator/format"
)

func init() {
	register(command{name: "fmt", summary: "rewrite playbooks and playbook tests in canonical form (key order, indentation; comments kept)", run: runFmt})
}

func runFmt(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("fmt", "[-l|-d|-w] [FILE|DIR|-]...", stderr)
	list := fs.Bool("l", false, "list the files whose formatting differs")
	diff := fs.Bool("d", false, "print the changes as a unified diff")
	write := fs.Bool("w", false, "write the result to the file instead of printing it")
	paths, help, err := parseArgs(fs, args)
	if help {
		return exitOK
	}
	if err == nil && len(paths) == 0 {
		paths = []string{"."}
	}
	if err == nil && *write && contains(paths, "-") {
		err = fmt.Errorf("-w cannot write standard input")
	}
	if err != nil {
		fmt.Fprintf(stderr, "irflow fmt: %v\n", err)
		fs.Usage()
		return exitUsage
	}
	code := exitOK
	for _, p := range paths {
		files, err := yamlFiles(p)
		if err != nil {
			fmt.Fprintf(stderr, "irflow fmt: %v\n", err)
			code = exitUsage
			continue
		}
		for _, f := range files {
			if err := fmtFile(f, *list, *diff, *write, stdout); err != nil {
				fmt.Fprintf(stderr, "irflow fmt: %v\n", err)
				code = exitUsage
			}
		}
	}
	return code
}

// fmtFile formats one file ("-": standard input) and reports it as asked.
func fmtFile(name string, list, diff, write bool, stdout io.Writer) error {
	src, display, err := readSource(name)
	if err != nil {
		return err
	}
	out, err := format.Source(src, display)
	if err != nil {
		return err
	}
	same := bytes.Equal(src, out)
	if list && !same {
		fmt.Fprintln(stdout, display)
	}
	if diff && !same {
		io.WriteString(stdout, unifiedDiff(display, src, out))
	}
	if write && !same {
		return writeFileAtomic(name, out)
	}
	if !list && !diff && !write {
		_, err = stdout.Write(out)
	}
	return err
}

// yamlFiles expands a path: a file or "-" as is, a folder into its
// playbooks and playbook tests (*.yaml, *.yml), sorted.
func yamlFiles(p string) ([]string, error) { return expandPaths([]string{p}, yamlKind) }

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
