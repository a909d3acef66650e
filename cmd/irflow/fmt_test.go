package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFmt(t *testing.T) {
	dir := t.TempDir()
	messy := filepath.Join(dir, "messy.yaml")
	tidy := filepath.Join(dir, "tidy.yaml")
	broken := filepath.Join(dir, "broken.yaml")
	os.WriteFile(messy, []byte("kind: Playbook\napiVersion: irflow/v1 # first\nmetadata: {title: T, name: n}\nsteps: [{action: notify, id: a}]\n"), 0o644)
	os.WriteFile(tidy, []byte("apiVersion: irflow/v1\nkind: Playbook\nmetadata: {name: n, title: T}\nsteps: [{id: a, action: notify}]\n"), 0o644)
	os.WriteFile(broken, []byte("steps: [\n"), 0o644)

	code, out, _ := runCLI("fmt", "-l", messy, tidy)
	if code != exitOK || strings.TrimSpace(out) != messy {
		t.Errorf("-l: exit %d, %q; want only %s", code, out, messy)
	}
	code, out, _ = runCLI("fmt", "-d", messy)
	if code != exitOK || !strings.Contains(out, "-kind: Playbook") || !strings.Contains(out, "+metadata: {name: n, title: T}") {
		t.Errorf("-d: exit %d:\n%s", code, out)
	}
	code, out, _ = runCLI("fmt", messy)
	if want := "apiVersion: irflow/v1 # first\nkind: Playbook\nmetadata: {name: n, title: T}\nsteps: [{id: a, action: notify}]\n"; code != exitOK || out != want {
		t.Errorf("print: exit %d:\n%s\nwant\n%s", code, out, want)
	}
	if code, _, _ := runCLI("fmt", "-w", messy); code != exitOK {
		t.Errorf("-w: exit %d", code)
	}
	if code, out, _ := runCLI("fmt", "-l", dir); code != exitUsage || strings.Contains(out, "messy") {
		t.Errorf("after -w: exit %d (broken.yaml: want %d), listed %q", code, exitUsage, out)
	}
	stdin = strings.NewReader("kind: Playbook\napiVersion: irflow/v1\n")
	defer func() { stdin = os.Stdin }()
	if code, out, _ := runCLI("fmt", "-"); code != exitOK || !strings.HasPrefix(out, "apiVersion") {
		t.Errorf("stdin: exit %d, %q", code, out)
	}
	if code, _, _ := runCLI("fmt", "-w", "-"); code != exitUsage {
		t.Errorf("-w -: exit %d; want %d", code, exitUsage)
	}
}

func TestUnifiedDiff(t *testing.T) {
	a := []byte("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n")
	b := []byte("1\n2\n3\nfour\n5\n6\n7\n8\n9\n10\n11\n")
	got := unifiedDiff("f", a, b)
	want := "--- f\n+++ f (formatted)\n@@ -1,10 +1,11 @@\n 1\n 2\n 3\n-4\n+four\n 5\n 6\n 7\n 8\n 9\n 10\n+11\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if unifiedDiff("f", a, a) != "" {
		t.Error("a diff of equal files")
	}
}
