package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/irflow/irflow/generator"
)

// stdin is what "-" reads (a variable so tests can feed it).
var stdin io.Reader = os.Stdin

// stdinName is how diagnostics name what "-" read.
const stdinName = "<standard input>"

// readSource reads a file, or standard input for "-", and returns the name
// diagnostics should give it.
func readSource(name string) ([]byte, string, error) {
	if name == "-" {
		b, err := io.ReadAll(stdin)
		if err != nil {
			return nil, stdinName, fmt.Errorf("cannot read %s: %v", stdinName, err)
		}
		return b, stdinName, nil
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, name, fmt.Errorf("cannot read %s: %v", name, unwrapPathError(err))
	}
	return b, name, nil
}

// A fileKind is what a folder is searched for: which files, and what the
// error says when a folder holds none.
type fileKind struct {
	match func(path string) bool
	none  string
}

var (
	playbookKind = fileKind{generator.IsPlaybookFile, "no playbooks (*.yaml, *.yml; not *.test.yaml)"}
	testKind     = fileKind{generator.IsTestFile, "no playbook tests (*.test.yaml)"}
	yamlKind     = fileKind{func(p string) bool { return strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml") }, ""}
)

// playbookFiles expands files and folders into playbook files (*.yaml,
// *.yml, sorted within each folder). "-" is standard input. A path that
// does not exist is an error.
func playbookFiles(paths []string) ([]string, error) { return expandPaths(paths, playbookKind) }

// expandPaths expands each path: a file or "-" as is, a folder into the
// files of kind below it, sorted, skipping hidden folders, testdata/ (Go's
// fixtures, no shipped playbooks) and node_modules/. A folder without any
// is an error when kind.none says so.
func expandPaths(paths []string, kind fileKind) ([]string, error) {
	var out []string
	for _, p := range paths {
		if p == "-" {
			out = append(out, p)
			continue
		}
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", p, unwrapPathError(err))
		}
		if !info.IsDir() {
			out = append(out, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && path != p && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			if !d.IsDir() && kind.match(path) {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", p, unwrapPathError(err))
		}
		if len(found) == 0 && kind.none != "" {
			return nil, fmt.Errorf("%s: %s in this folder", p, kind.none)
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, nil
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}
