package simulate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/generator/internal/asl"
)

// worldInputs are the Fargate sample finding edited to describe other
// worlds, so conditions (when:, exclude:) take each of their paths: a
// standalone task, a tagged one, an excluded one, a low-severity finding.
func worldInputs(t testing.TB) []inputFile {
	t.Helper()
	finding := string(mustReadTB(t, "../../examples/inputs/guardduty-fargate-cryptominer.json"))
	edit := func(name, old, new string) inputFile {
		out := strings.Replace(finding, old, new, 1)
		if out == finding {
			t.Fatalf("world %s: the sample finding no longer has %q", name, old)
		}
		return inputFile{name: "world-" + name + ".json", data: []byte(out)}
	}
	return []inputFile{
		edit("standalone", `"group": "service:`, `"group": "family:`),
		edit("tagged", `"launchType": "FARGATE",`, `"launchType": "FARGATE", "tags": [{"key": "env", "value": "prod"}],`),
		edit("excluded", `"launchType": "FARGATE",`, `"launchType": "FARGATE", "tags": [{"key": "irflow", "value": "ignore"}],`),
		edit("low-severity", `"severity": 8`, `"severity": 2`),
	}
}

// goldenPlaybooks are the generator's golden cases that compile: small
// playbooks that use each shape of the language (conditions, exclusion,
// onReject, quorum, async steps, parallels).
func goldenPlaybooks(t testing.TB) []shippedPlaybook {
	t.Helper()
	files, _ := filepath.Glob("../testdata/golden/*.txtar")
	var out []shippedPlaybook
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var src []byte
		for _, file := range txtar.Parse(raw).Files {
			if file.Name == "playbook.yaml" {
				src = file.Data
			}
		}
		r, _ := generator.Compile(src, f, generator.Options{})
		if r == nil {
			continue // a diagnostics case
		}
		sm, err := asl.Parse(r.ASL)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, shippedPlaybook{file: f, r: r, sm: sm})
	}
	if len(out) == 0 {
		t.Fatal("no golden playbook compiles")
	}
	return out
}

func mustReadTB(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
