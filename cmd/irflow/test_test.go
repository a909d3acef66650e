package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeTest puts crypto-mining.yaml and a test file with the given cases
// in a temporary folder and returns the test file's path.
func writeTest(t *testing.T, cases string) string {
	t.Helper()
	dir := t.TempDir()
	src, err := os.ReadFile("../../workflows/crypto-mining.yaml")
	if err != nil {
		t.Fatal(err)
	}
	in, err := filepath.Abs("../../examples/inputs/guardduty-fargate-cryptominer.json")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "crypto-mining.yaml"), src, 0o644)
	file := filepath.Join(dir, "crypto-mining.test.yaml")
	body := "apiVersion: irflow/v1\nkind: PlaybookTest\nplaybook: crypto-mining.yaml\ncases:\n" + strings.ReplaceAll(cases, "INPUT", in)
	os.WriteFile(file, []byte(body), 0o644)
	return file
}

func TestTestCommand(t *testing.T) {
	good := writeTest(t, "  - {name: approved, input: INPUT, expect: {outcome: COMPLETED, ran: [isolate-now, stop]}}\n")
	wrong := writeTest(t, "  - {name: approved, input: INPUT, expect: {outcome: REJECTED, notRan: [stop]}}\n")
	broken := writeTest(t, "  - {name: approved, input: INPUT, expcet: {}}\n")
	tests := []struct {
		name string
		args []string
		code int
		out  []string
	}{
		{"shipped scenarios", []string{"test", "../../workflows"}, exitOK, []string{"--- PASS: ../../workflows/crypto-mining.test.yaml: FARGATE, approved", "PASS: 30 cases in 7 files, 0 failed"}},
		{"a passing file", []string{"test", good}, exitOK, []string{"--- PASS:", "ok  \t"}},
		{"a wrong expectation", []string{"test", wrong}, exitPlaybook, []string{"--- FAIL:", "outcome: want REJECTED; got COMPLETED", "notRan: stop ran", "1 of 1 cases failed"}},
		{"a malformed file", []string{"test", broken}, exitUsage, nil},
		{"a missing file", []string{"test", "nope.test.yaml"}, exitUsage, nil},
		{"a folder without tests", []string{"test", "testdata"}, exitUsage, nil},
		{"a bad format", []string{"test", "--format", "xml", good}, exitUsage, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(tt.args...)
			if code != tt.code {
				t.Errorf("exit %d; want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
			for _, w := range tt.out {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
		})
	}
	if _, _, errOut := runCLI("test", broken); !strings.Contains(errOut, `unknown key "expcet"`) || !strings.Contains(errOut, `did you mean "expect"?`) {
		t.Errorf("malformed file: stderr %q; want the key, its line and a did-you-mean", errOut)
	}
}

func TestTestCommandJSON(t *testing.T) {
	wrong := writeTest(t, "  - {name: approved, input: INPUT, expect: {outcome: REJECTED}}\n")
	code, out, _ := runCLI("test", "--format", "json", wrong)
	var rep struct {
		Pass  bool `json:"pass"`
		Files []struct {
			File     string `json:"file"`
			Playbook string `json:"playbook"`
			Cases    []struct {
				Name     string   `json:"name"`
				Pass     bool     `json:"pass"`
				Failures []string `json:"failures"`
				Outcome  string   `json:"outcome"`
				Steps    []struct {
					Step, Action, State, Result string
				} `json:"steps"`
			} `json:"cases"`
		} `json:"files"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	if code != exitPlaybook || rep.Pass || len(rep.Files) != 1 || len(rep.Files[0].Cases) != 1 {
		t.Fatalf("exit %d, report %+v", code, rep)
	}
	c := rep.Files[0].Cases[0]
	if c.Pass || c.Outcome != "COMPLETED" || len(c.Failures) == 0 || len(c.Steps) == 0 {
		t.Errorf("case %+v", c)
	}
}
