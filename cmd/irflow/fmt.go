package main

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/irflow/irflow/generator/format"
)

func init() {
	register(command{name: "fmt", summary: "rewrite playbooks and playbook tests in canonical form (key order, indentation; comments kept)", run: runFmt})
}

// stdin is where `irflow fmt -` reads; tests replace it.
var stdin io.Reader = os.Stdin

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
	var src []byte
	var err error
	display := name
	if name == "-" {
		src, err = io.ReadAll(stdin)
		display = "<standard input>"
	} else {
		src, err = os.ReadFile(name)
	}
	if err != nil {
		return fmt.Errorf("cannot read %s: %v", display, unwrapPathError(err))
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
func yamlFiles(p string) ([]string, error) {
	if p == "-" {
		return []string{p}, nil
	}
	info, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", p, unwrapPathError(err))
	}
	if !info.IsDir() {
		return []string{p}, nil
	}
	var out []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != p && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			out = append(out, path)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
