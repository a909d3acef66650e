// Package archtest checks the direction of the dependencies between the
// repository's parts (docs/design.md, "Architecture"): the catalog and the
// shared leaves feed the compiler and the Lambdas; no Lambda carries the
// compiler, the simulator, a harness or CDK.
package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/irflow/irflow"

// goList runs go list with a template over the patterns, one line per package.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("go list %v: %v\n%s", args, err, msg)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// forbidden says why a Lambda main may not depend on pkg, or "". The
// diagnostics package (generator/diag, with the did-you-mean suggester) is a
// shared leaf the input normalization uses; nothing else of the generator
// tree is.
func forbidden(pkg string) string {
	switch {
	case pkg == module+"/generator/diag":
		return ""
	case pkg == module+"/generator" || strings.HasPrefix(pkg, module+"/generator/"):
		return "the compiler or the simulator"
	case strings.HasPrefix(pkg, module+"/internal/"), strings.HasPrefix(pkg, module+"/cmd/"):
		return "a harness or a command"
	case strings.HasPrefix(pkg, "github.com/aws/aws-cdk-go"), strings.HasPrefix(pkg, "github.com/aws/jsii-runtime-go"),
		strings.HasPrefix(pkg, "github.com/aws/constructs-go"), strings.HasPrefix(pkg, "github.com/cdklabs/"):
		return "CDK"
	}
	return ""
}

// TestLambdaMainsCarryNoCompiler: for every Lambda main package under
// tasks/, go list -deps holds neither the compiler, the simulator, a
// harness nor CDK.
func TestLambdaMainsCarryNoCompiler(t *testing.T) {
	mains := goList(t, "-f", `{{if eq .Name "main"}}{{.ImportPath}}{{end}}`, "./tasks/...")
	if len(mains) < 18 {
		t.Fatalf("found %d Lambda mains under tasks/: %v", len(mains), mains)
	}
	for _, m := range mains {
		for _, dep := range goList(t, "-deps", m) {
			if why := forbidden(dep); why != "" {
				t.Errorf("%s depends on %s (%s)", m, dep, why)
			}
		}
	}
}

// TestNoHarnessUnderTasks: the Lambda tree holds actions and their shared
// packages, no test bench: nothing under tasks/ imports internal/ (which
// holds the harnesses) outside tests, and no package main there exports API.
func TestNoHarnessUnderTasks(t *testing.T) {
	for _, line := range goList(t, "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./tasks/...") {
		fields := strings.Fields(line)
		for _, imp := range fields[1:] {
			if strings.HasPrefix(imp, module+"/internal/") || strings.HasPrefix(imp, module+"/cmd/") {
				t.Errorf("%s imports %s", fields[0], imp)
			}
		}
	}
}

// TestCompilerImportsNoHarness: the compiler and its simulator depend on the
// catalog and the shared leaves, never on a harness, a command or a Lambda
// handler.
func TestCompilerImportsNoHarness(t *testing.T) {
	for _, dep := range goList(t, "-deps", "./generator/...") {
		if strings.HasPrefix(dep, module+"/internal/") || strings.HasPrefix(dep, module+"/cmd/") ||
			(strings.HasPrefix(dep, module+"/tasks/") && strings.Contains(dep, "/handler")) {
			t.Errorf("the generator tree depends on %s", dep)
		}
	}
}
