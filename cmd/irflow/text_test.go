package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/irflow/irflow/tasks/approval-api/approval"
	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/finalize-case/report"
	"github.com/irflow/irflow/tasks/termsafe"
)

// hostileText holds what must never reach a terminal raw: an ESC sequence
// that clears the screen, a C1 CSI and a right-to-left override.
const hostileText = "Isolate?\x1b[2J\x1b]0;pwned\a \u009b31m \u202eevil"

// TestValidateRefusesAnESCInAPrompt: a playbook whose prompt holds a raw
// ESC byte fails irflow validate with an error at the prompt's line.
func TestValidateRefusesAnESCInAPrompt(t *testing.T) {
	src, err := os.ReadFile("../../workflows/crypto-mining.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(src), "\n")
	line := 0
	for i, l := range lines {
		if strings.Contains(l, "prompt:") {
			lines[i] = strings.Replace(l, "prompt: ", "prompt: Isolate \x1b[2J", 1)
			line = i + 1
			break
		}
	}
	if line == 0 {
		t.Fatal("crypto-mining.yaml has no prompt")
	}
	path := filepath.Join(t.TempDir(), "esc.yaml")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI("validate", path)
	if code != exitPlaybook {
		t.Fatalf("exit %d; want %d\n%s%s", code, exitPlaybook, out, errOut)
	}
	want := path + ":" + itoa(line) + ":"
	if !strings.Contains(out, want) || !strings.Contains(out, "U+001B (ESC)") {
		t.Errorf("no error at line %d naming the ESC:\n%s", line, out)
	}
	if strings.ContainsRune(out+errOut, 0x1b) {
		t.Errorf("the diagnostics carry the raw ESC: %q", out)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestApprovalsListEscapesControls: a prompt or requester stored with
// control characters (written to the table by anyone with access to it)
// reaches the terminal escaped, in text and in JSON.
func TestApprovalsListEscapesControls(t *testing.T) {
	a := &approval.Approval{ID: "apr-0123456789abcdef0123", CaseID: "case-1", Step: "gate", Prompt: hostileText,
		RequestedBy: "arn:aws:iam::123456789012:role/R\x1b[8m", Status: approval.StatusPending,
		ExpiresAt: time.Now().Add(time.Hour), OnTimeout: "reject"}
	var b bytes.Buffer
	writeApprovals(&b, []*approval.Approval{a}, approval.StatusPending, time.Now())
	assertEscaped(t, "irflow approvals", b.String())
	if !strings.Contains(b.String(), `\x1b[2J`) || !strings.Contains(b.String(), `\u202e`) {
		t.Errorf("the controls are not shown as escapes:\n%s", b.String())
	}
}

// TestAuditTimelineEscapesControls: summaries come from hosts, inputs and
// approvers; the timeline and its JSON show them escaped.
func TestAuditTimelineEscapesControls(t *testing.T) {
	records := []audit.Record{{CaseID: "c", Seq: 1, At: "2026-01-01T00:00:00Z", Step: "gate\x1b[1A", Action: "approval-api",
		Event: "approval-decided", Status: "APPROVED", Summary: hostileText}}
	var text, js bytes.Buffer
	if err := report.WriteTimeline(&text, report.Timeline(records)); err != nil {
		t.Fatal(err)
	}
	assertEscaped(t, "irflow audit", text.String())
	writeAuditJSON(&js, "c", records, nil)
	assertEscaped(t, "irflow audit --format json", js.String())
	var back struct{ Records []audit.Record }
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Records[0].Summary != hostileText {
		t.Errorf("the JSON does not keep the stored value: %v %+v", err, back.Records)
	}
}

func assertEscaped(t *testing.T, what, out string) {
	t.Helper()
	if r, off, bad := termsafe.First(strings.ReplaceAll(out, "\t", " ")); bad {
		t.Errorf("%s prints %s raw at byte %d:\n%q", what, termsafe.Name(r), off, out)
	}
}
