package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/irflow/irflow/generator"
)

// Playbook is one compiled playbook and the warnings its compile reported,
// which the stack turns into CDK warnings on the state machine.
type Playbook struct {
	File     string
	Result   *generator.Result
	Warnings []string
}

// LoadPlaybooks compiles every playbook file (*.yaml and *.yml, not the
// *.test.yaml playbook tests) of dir at synth time,
// in name order. Any playbook error fails the synth with every diagnostic of
// every file, the way `irflow validate` prints them; two files with the same
// metadata.name would deploy one state machine twice and fail too.
func LoadPlaybooks(dir string) ([]Playbook, error) {
	files, err := generator.PlaybookFiles(dir)
	if err != nil {
		return nil, fmt.Errorf("playbooks: %w", err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("playbooks: no *.yaml file in %s", dir)
	}
	var (
		out    []Playbook
		errs   []string
		byName = map[string]string{}
	)
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("playbooks: %w", err)
		}
		res, diags := generator.Compile(src, f, generator.Options{})
		if res == nil {
			errs = append(errs, strings.TrimRight(diags.Error(), "\n"))
			continue
		}
		if prev, dup := byName[res.Name]; dup {
			errs = append(errs, fmt.Sprintf("%s:%d:%d: error duplicate-name: playbook %q is also defined in %s",
				f, res.NameLine, res.NameColumn, res.Name, prev))
			continue
		}
		byName[res.Name] = f
		pb := Playbook{File: f, Result: res}
		for _, d := range diags {
			pb.Warnings = append(pb.Warnings, d.String())
		}
		out = append(out, pb)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("playbooks:\n%s", strings.Join(errs, "\n"))
	}
	return out, nil
}

// pascal turns a kebab-case name into a construct id part: crypto-mining → CryptoMining.
func pascal(name string) string {
	var b strings.Builder
	for _, part := range strings.Split(name, "-") {
		if part == "" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}
