package main

import (
	"fmt"
	"io"
	"runtime"
	"sync"

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
	paths, help, err := parseFormat(fs, args, format, "text", "json")
	if help {
		return exitOK
	}
	if err == nil && len(paths) == 0 {
		err = fmt.Errorf("no playbook given")
	}
	if err != nil {
		return usageError(fs, stderr, err)
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
		bad := map[string]bool{}
		for _, d := range ds {
			if d.Severity == generator.SeverityError {
				bad[d.File] = true
			}
		}
		valid := 0
		for _, c := range compiled {
			if !bad[c.file] {
				valid++
			}
		}
		fmt.Fprintf(stderr, "%d playbook(s): %d valid, %d error(s), %d warning(s)\n",
			len(files), valid, ds.Errors(), len(ds)-ds.Errors())
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

// compileFiles compiles every file, then checks them as a set (one name
// per playbook, triggers that overlap). Unreadable files are a usage error
// (exit 2). Playbooks compile in parallel (a compile is pure): what users
// wait for is a folder, and each file's results keep their order.
func compileFiles(files []string, opts generator.Options, stderr io.Writer) ([]compiled, generator.Diagnostics, int) {
	srcs := make([][]byte, len(files))
	files = append([]string(nil), files...)
	for i, f := range files {
		src, name, err := readSource(f)
		if err != nil {
			fmt.Fprintf(stderr, "irflow: %v\n", err)
			return nil, nil, exitUsage
		}
		srcs[i], files[i] = src, name
	}
	results := make([]*generator.Result, len(files))
	diags := make([]generator.Diagnostics, len(files))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i := range files {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i], diags[i] = generator.Compile(srcs[i], files[i], opts)
		}()
	}
	wg.Wait()
	var out []compiled
	var all generator.Diagnostics
	var set []generator.Member
	for i, f := range files {
		all = append(all, diags[i]...)
		if r := results[i]; r != nil {
			set = append(set, generator.Member{File: f, Result: r})
			out = append(out, compiled{file: f, result: r})
		}
	}
	setDiags := generator.CheckSet(set)
	if opts.Strict {
		setDiags = setDiags.Strict()
	}
	all = append(all, setDiags...)
	return out, all.Normalize(), exitOK
}

func writeDiagnostics(w io.Writer, ds generator.Diagnostics, format string) error {
	if format == "json" {
		return diag.WriteJSON(w, ds)
	}
	return diag.WriteText(w, ds)
}
