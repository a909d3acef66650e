package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/irflow/irflow/generator"
)

// playbookFiles expands files and folders into playbook files (*.yaml,
// *.yml, sorted within each folder). A path that does not exist is an error.
func playbookFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
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
			// Hidden folders and Go-style testdata/ hold no shipped playbooks.
			if d.IsDir() && path != p && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			if !d.IsDir() && generator.IsPlaybookFile(path) {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", p, unwrapPathError(err))
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: no playbooks (*.yaml, *.yml; not *.test.yaml) in this folder", p)
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
