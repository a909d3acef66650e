package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/irflow/irflow/generator/diag"
	"github.com/irflow/irflow/generator/scenario"
	"github.com/irflow/irflow/generator/simulate"
)

func init() {
	register(command{name: "test", summary: "run playbook tests (*.test.yaml): simulated cases and what each must show", run: runTest})
}

func runTest(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("test", "[FILE|DIR...] [--format text|json]", stderr)
	format := fs.String("format", "text", "text (a line per case, like go test) or json")
	paths, help, err := parseFormat(fs, args, format, "text", "json")
	if help {
		return exitOK
	}
	if err != nil {
		return usageError(fs, stderr, err)
	}
	if len(paths) == 0 {
		paths = []string{"."}
	}
	files, err := testFiles(paths)
	if err != nil {
		fmt.Fprintf(stderr, "irflow test: %v\n", err)
		return exitUsage
	}
	var reports []*scenario.Report
	for _, f := range files {
		if f == "-" {
			// A test names its playbook and inputs relative to its own file.
			fmt.Fprintln(stderr, "irflow test: a playbook test is read from its file (it names files relative to itself), not from standard input")
			return exitUsage
		}
		src, _, err := readSource(f)
		if err != nil {
			fmt.Fprintf(stderr, "irflow test: %v\n", err)
			return exitUsage
		}
		rep, err := scenario.Run(rootCtx, src, filepath.ToSlash(f), readSlash)
		var fe *scenario.FileError
		if errors.As(err, &fe) {
			fmt.Fprintf(stderr, "irflow test: %v\n", err)
			return exitUsage
		} else if err != nil {
			fmt.Fprintf(stderr, "irflow test: %s: %v\n", f, err)
			return exitUsage
		}
		reports = append(reports, rep)
	}
	if *format == "json" {
		err = writeTestJSON(stdout, reports)
	} else {
		err = writeTestText(stdout, reports)
	}
	if err != nil {
		return exitUsage
	}
	for _, r := range reports {
		if !r.Passed() {
			return exitPlaybook
		}
	}
	return exitOK
}

func readSlash(name string) ([]byte, error) { return os.ReadFile(filepath.FromSlash(name)) }

// testFiles expands files and folders into playbook test files
// (*.test.yaml), sorted within each folder.
func testFiles(paths []string) ([]string, error) { return expandPaths(paths, testKind) }

// writeTestText prints a line per case, the failures under it, and a line
// per file, the way go test does.
func writeTestText(w io.Writer, reports []*scenario.Report) error {
	var b strings.Builder
	cases, failed := 0, 0
	for _, r := range reports {
		if len(r.Diagnostics) > 0 {
			diag.WriteText(&b, r.Diagnostics)
		}
		bad := 0
		for _, c := range r.Cases {
			verdict := "PASS"
			if !c.Pass {
				verdict, bad = "FAIL", bad+1
			}
			fmt.Fprintf(&b, "--- %s: %s: %s (%.2fs)\n", verdict, r.File, c.Name, c.Elapsed.Seconds())
			for _, f := range c.Failures {
				fmt.Fprintf(&b, "    %s\n", strings.ReplaceAll(f, "\n", "\n    "))
			}
			for _, n := range c.Notes {
				fmt.Fprintf(&b, "    note: %s\n", n)
			}
		}
		cases, failed = cases+len(r.Cases), failed+bad
		if r.Passed() {
			fmt.Fprintf(&b, "ok  \t%s\t%d cases\n", r.File, len(r.Cases))
		} else {
			fmt.Fprintf(&b, "FAIL\t%s\t%d of %d cases failed\n", r.File, bad, len(r.Cases))
		}
	}
	verdict := "PASS"
	if failed > 0 || !allPassed(reports) {
		verdict = "FAIL"
	}
	fmt.Fprintf(&b, "%s: %d cases in %d files, %d failed\n", verdict, cases, len(reports), failed)
	_, err := io.WriteString(w, b.String())
	return err
}

func allPassed(reports []*scenario.Report) bool {
	for _, r := range reports {
		if !r.Passed() {
			return false
		}
	}
	return true
}

// writeTestJSON prints {"pass","files":[report...]}.
func writeTestJSON(w io.Writer, reports []*scenario.Report) error {
	if reports == nil {
		reports = []*scenario.Report{}
	}
	for _, r := range reports {
		if r.Diagnostics == nil {
			r.Diagnostics = diag.Diagnostics{}
		}
		for i := range r.Cases {
			c := &r.Cases[i]
			if c.Failures == nil {
				c.Failures = []string{}
			}
			if c.Notes == nil {
				c.Notes = []string{}
			}
			if c.Steps == nil {
				c.Steps = []simulate.Step{}
			}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Pass  bool               `json:"pass"`
		Files []*scenario.Report `json:"files"`
	}{allPassed(reports), reports})
}
