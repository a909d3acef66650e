package generator

import (
	"os"
	"path/filepath"
	"strings"
)

// IsTestFile reports whether a file name is a playbook test's (*.test.yaml,
// *.test.yml): irflow test runs them; they sit next to their playbooks.
func IsTestFile(name string) bool {
	return strings.HasSuffix(name, ".test.yaml") || strings.HasSuffix(name, ".test.yml")
}

// IsPlaybookFile reports whether a file name is a playbook's: *.yaml or
// *.yml, and not a playbook test. Everything that lists the playbooks of a
// folder (irflow validate, the CDK app, the tests) uses it.
func IsPlaybookFile(name string) bool {
	return (strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")) && !IsTestFile(name)
}

// PlaybookFiles lists the playbook files of a folder (not its subfolders),
// sorted by name.
func PlaybookFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && IsPlaybookFile(e.Name()) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out, nil
}
