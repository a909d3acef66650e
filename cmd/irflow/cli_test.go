package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/irflow/irflow/generator"
)

func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestValidateExitCodes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"shipped playbooks", []string{"validate", "../../workflows"}, exitOK},
		{"strict shipped", []string{"validate", "--strict", "../../workflows"}, exitOK},
		{"invalid", []string{"validate", "testdata/invalid.yaml"}, exitPlaybook},
		{"warning ok", []string{"validate", "testdata/warning.yaml"}, exitOK},
		{"warning strict", []string{"validate", "testdata/warning.yaml", "--strict"}, exitPlaybook},
		{"missing file", []string{"validate", "testdata/nope.yaml"}, exitUsage},
		{"no args", []string{"validate"}, exitUsage},
		{"bad flag", []string{"validate", "--frobnicate", "testdata/warning.yaml"}, exitUsage},
		{"bad format", []string{"validate", "--format", "xml", "testdata/warning.yaml"}, exitUsage},
		{"help", []string{"validate", "--help"}, exitOK},
		{"unknown command", []string{"valdate"}, exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, out, errOut := runCLI(tt.args...); code != tt.code {
				t.Errorf("exit %d; want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
		})
	}
}

// TestUnknownCommandSuggests holds the CLI to the module's did-you-mean
// (edit distance, not prefix): a misspelt command names the right one.
func TestUnknownCommandSuggests(t *testing.T) {
	tests := []struct{ arg, want string }{
		{"valdate", `did you mean "validate"?`},
		{"simluate", `did you mean "simulate"?`},
		{"Compile", `did you mean "compile"?`},
	}
	for _, tt := range tests {
		t.Run(tt.arg, func(t *testing.T) {
			code, _, errOut := runCLI(tt.arg)
			if code != exitUsage || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %s", code, errOut, exitUsage, tt.want)
			}
		})
	}
}

// TestUnknownFlagSuggests: a misspelt flag names the right one, once, and
// the command's usage follows.
func TestUnknownFlagSuggests(t *testing.T) {
	code, _, errOut := runCLI("validate", "--formt", "json", "../../workflows")
	if code != exitUsage || !strings.Contains(errOut, "did you mean --format?") {
		t.Errorf("exit %d, stderr %q; want exit %d suggesting --format", code, errOut, exitUsage)
	}
	if n := strings.Count(errOut, "not defined"); n != 1 {
		t.Errorf("the error is printed %d times; want once:\n%s", n, errOut)
	}
}

// TestHelpCommand: irflow help CMD is irflow CMD --help.
func TestHelpCommand(t *testing.T) {
	code, out, errOut := runCLI("help", "audit")
	if code != exitOK || !strings.Contains(out+errOut, "Usage: irflow audit CASE") || !strings.Contains(out+errOut, "--verify checks") {
		t.Errorf("exit %d; want audit's usage and help\n%s%s", code, out, errOut)
	}
	if code, _, errOut := runCLI("help", "audti"); code != exitUsage || !strings.Contains(errOut, `did you mean "audit"?`) {
		t.Errorf("help of a misspelt command: exit %d, %q", code, errOut)
	}
}

// TestValidateStdin: "-" reads the playbook from standard input and
// diagnostics name it so.
func TestValidateStdin(t *testing.T) {
	src, err := os.ReadFile("../../workflows/crypto-mining.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { stdin = os.Stdin }()
	stdin = strings.NewReader(string(src))
	if code, out, errOut := runCLI("validate", "-"); code != exitOK {
		t.Errorf("valid playbook on stdin: exit %d\n%s%s", code, out, errOut)
	}
	stdin = strings.NewReader(strings.Replace(string(src), "severity", "severty", 1))
	code, out, errOut := runCLI("validate", "-")
	if code != exitPlaybook || !strings.Contains(out+errOut, "<standard input>:") || !strings.Contains(out+errOut, `did you mean "severity"?`) {
		t.Errorf("misspelt key on stdin: exit %d; want %d naming <standard input> and the key\n%s%s", code, exitPlaybook, out, errOut)
	}
}

func TestValidateReportsEveryErrorWithPosition(t *testing.T) {
	_, out, _ := runCLI("validate", "testdata/invalid.yaml")
	line := regexp.MustCompile(`^testdata/invalid\.yaml:\d+:\d+: (error|warning) [a-z-]+: .+$`)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d diagnostics; want 2 (unknown-action and duplicate-id):\n%s", len(lines), out)
	}
	for _, l := range lines {
		if !line.MatchString(l) {
			t.Errorf("%q is not file:line:col: severity code: message", l)
		}
	}
	if !strings.Contains(out, `invalid.yaml:8:13: error unknown-action: unknown action "stop-tsak" (did you mean "stop-task"?)`) ||
		!strings.Contains(out, "invalid.yaml:9:9: error duplicate-id") {
		t.Errorf("missing expected diagnostics:\n%s", out)
	}
}

func TestValidateJSON(t *testing.T) {
	code, out, _ := runCLI("validate", "--format", "json", "testdata/invalid.yaml", "testdata/warning.yaml")
	if code != exitPlaybook {
		t.Fatalf("exit %d", code)
	}
	var report struct {
		Diagnostics []map[string]any `json:"diagnostics"`
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(report.Diagnostics) != 3 {
		t.Fatalf("got %d diagnostics; want 3", len(report.Diagnostics))
	}
	for _, d := range report.Diagnostics {
		for _, k := range []string{"severity", "code", "file", "line", "column", "path", "message", "hint"} {
			if _, ok := d[k]; !ok {
				t.Errorf("diagnostic %v lacks %q", d, k)
			}
		}
	}
	if report.Diagnostics[0]["path"] != "/steps/0/action" {
		t.Errorf("first path = %v; want /steps/0/action", report.Diagnostics[0]["path"])
	}
}

func TestCompile(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runCLI("compile", "../../workflows", "--out", dir)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.asl.json"))
	shipped, _ := generator.PlaybookFiles("../../workflows")
	if len(files) != len(shipped) || len(strings.Fields(out)) != len(shipped) {
		t.Fatalf("wrote %d definitions (stdout %q); want %d", len(files), out, len(shipped))
	}
	first, _ := os.ReadFile(filepath.Join(dir, "crypto-mining.asl.json"))
	dir2 := t.TempDir()
	runCLI("compile", "--out", dir2, "../../workflows/crypto-mining.yaml")
	second, _ := os.ReadFile(filepath.Join(dir2, "crypto-mining.asl.json"))
	if len(first) == 0 || !bytes.Equal(first, second) {
		t.Error("two compiles differ")
	}
}

func TestCompileWritesNothingOnErrors(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := runCLI("compile", "../../workflows/crypto-mining.yaml", "testdata/invalid.yaml", "--out", dir)
	if code != exitPlaybook || !strings.Contains(errOut, "unknown-action") {
		t.Fatalf("exit %d; stderr %s", code, errOut)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*")); len(files) != 0 {
		t.Errorf("wrote %v despite errors", files)
	}
	if code, _, _ := runCLI("compile", "../../workflows/crypto-mining.yaml"); code != exitUsage {
		t.Errorf("compile without --out: exit %d; want %d", code, exitUsage)
	}
}

func TestCompileRefusesDuplicateNames(t *testing.T) {
	dir := t.TempDir()
	src, _ := os.ReadFile("../../workflows/crypto-mining.yaml")
	os.WriteFile(filepath.Join(dir, "a.yaml"), src, 0o644)
	os.WriteFile(filepath.Join(dir, "b.yaml"), src, 0o644)
	code, out, _ := runCLI("validate", dir)
	if code != exitPlaybook || !strings.Contains(out, "duplicate-id") || !strings.Contains(out, `"crypto-mining" is also used by`) {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestGraph(t *testing.T) {
	code, out, _ := runCLI("graph", "../../workflows/crypto-mining.yaml")
	if code != exitOK || !strings.Contains(out, "flowchart TD") || !strings.Contains(out, "Launch type?") {
		t.Errorf("mermaid: exit %d\n%.300s", code, out)
	}
	code, out, _ = runCLI("graph", "--format", "dot", "../../workflows/crypto-mining.yaml")
	if code != exitOK || !strings.HasPrefix(out, "digraph") {
		t.Errorf("dot: exit %d\n%.300s", code, out)
	}
	if code, _, _ := runCLI("graph", "testdata/invalid.yaml"); code != exitPlaybook {
		t.Errorf("invalid playbook: exit %d", code)
	}
	if code, _, _ := runCLI("graph", "--format", "png", "../../workflows/crypto-mining.yaml"); code != exitUsage {
		t.Errorf("bad format: exit %d", code)
	}
}

func TestActionsJSON(t *testing.T) {
	code, out, _ := runCLI("actions", "--format", "json")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	var doc struct {
		Actions []struct {
			Name        string   `json:"name"`
			LaunchTypes []string `json:"launchTypes"`
			Destructive bool     `json:"destructive"`
			UsesSSM     bool     `json:"usesSsm"`
			Kind        string   `json:"kind"`
			Params      any      `json:"params"`
			IAM         []any    `json:"iam"`
		} `json:"actions"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Actions) != 21 {
		t.Fatalf("%d actions; want 21", len(doc.Actions))
	}
	want := map[string]struct {
		lts         string
		destructive bool
	}{
		"resolve-target": {"EC2,FARGATE", false}, "tag-resources": {"EC2,FARGATE", false},
		"capture-task-metadata": {"EC2,FARGATE", false}, "collect-logs": {"EC2,FARGATE", false},
		"find-siblings":    {"EC2,FARGATE", false},
		"enable-flow-logs": {"EC2,FARGATE", false}, "snapshot-volumes": {"EC2", false},
		"capture-memory": {"EC2", false}, "collect-host-artifacts": {"EC2", false}, "capture-traffic": {"EC2", false},
		"exec-triage": {"EC2,FARGATE", false}, "isolate-network": {"EC2,FARGATE", true}, "protect-instance": {"EC2", true},
		"revoke-task-role-sessions": {"EC2,FARGATE", true}, "stop-task": {"EC2,FARGATE", true},
		"scale-service": {"EC2,FARGATE", true}, "pin-service": {"EC2,FARGATE", true}, "release-containment": {"EC2,FARGATE", false},
		"notify":           {"EC2,FARGATE", false},
		"request-approval": {"EC2,FARGATE", false}, "finalize-case": {"EC2,FARGATE", false},
	}
	for _, a := range doc.Actions {
		w, ok := want[a.Name]
		if !ok {
			t.Errorf("unexpected action %s", a.Name)
			continue
		}
		if strings.Join(a.LaunchTypes, ",") != w.lts || a.Destructive != w.destructive {
			t.Errorf("%s: launch types %v destructive %v; want %s %v", a.Name, a.LaunchTypes, a.Destructive, w.lts, w.destructive)
		}
		if a.Params == nil || len(a.IAM) == 0 || a.Kind == "" {
			t.Errorf("%s: params, IAM or kind missing", a.Name)
		}
	}
}

// TestSchemaCommand: irflow schema prints the checked-in editor schema.
func TestSchemaCommand(t *testing.T) {
	code, out, _ := runCLI("schema")
	want, err := os.ReadFile("../../schemas/playbook.v1.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if code != exitOK || out != string(want) {
		t.Errorf("exit %d; output equals schemas/playbook.v1.schema.json: %v", code, out == string(want))
	}
	if code, _, _ := runCLI("schema", "extra"); code != exitUsage {
		t.Errorf("schema extra: exit %d; want %d", code, exitUsage)
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := runCLI("version")
	if code != exitOK || !strings.HasPrefix(out, "irflow ") || !strings.Contains(out, runtime.Version()) || !strings.Contains(out, "commit ") {
		t.Errorf("exit %d: %q", code, out)
	}
	code, out, _ = runCLI("version", "--format", "json")
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil || code != exitOK || v["go"] != runtime.Version() || v["version"] == "" || v["commit"] == "" {
		t.Errorf("json: exit %d, %v: %s", code, err, out)
	}
}
