package hostcmd_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/irflow/irflow/tasks/hostcmd"
	"github.com/irflow/irflow/tasks/hostcmd/hostcmdtest"
)

const testBody = `
irflow_run() {
	printf 'hello' >"$IRFLOW_WORK/hello.txt"
	irflow_put hello.txt "$IRFLOW_WORK/hello.txt"
	irflow_skip missing.txt "not there"
	irflow_info greeting "$IRFLOW_GREETING"
}
`

var anything = regexp.MustCompile(`^.*$`)

func testScript(box *hostcmdtest.Sandbox, up *hostcmdtest.Uploads, greeting string) *hostcmd.Script {
	return &hostcmd.Script{
		Action: "collect-host-artifacts", CaseID: "case-1", Step: "host", Paths: box.Paths,
		Vars: []hostcmd.Var{{Name: "GREETING", Value: greeting, Pattern: anything}},
		Uploads: []hostcmd.Upload{{Name: "hello.txt", URL: up.URL("cases/case-1/host/hello.txt")},
			{Name: "missing.txt", URL: up.URL("cases/case-1/host/missing.txt")}},
		Body: testBody,
	}
}

func TestScriptRunsAndReplays(t *testing.T) {
	box := hostcmdtest.New(t)
	up := hostcmdtest.NewUploads(t)
	evil := "it's $(touch pwned) `touch pwned2`; touch pwned3"
	script, err := testScript(box, up, evil).Render()
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := box.Run(t, script)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, f := range []string{"pwned", "pwned2", "pwned3"} {
		if _, err := os.Stat(filepath.Join(box.Dir, f)); err == nil {
			t.Errorf("the quoted value ran a command (%s exists)", f)
		}
	}
	keys := []string{"cases/case-1/host/hello.txt", "cases/case-1/host/missing.txt"}
	m, err := hostcmd.ParseManifest(stdout, keys)
	if err != nil {
		t.Fatalf("%v\nstdout:\n%s", err, stdout)
	}
	if len(m.Files) != 1 || m.Files[0].SHA256 != "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" || m.Files[0].Bytes != 5 {
		t.Errorf("files = %+v", m.Files)
	}
	if got, ok := up.Object("cases/case-1/host/hello.txt"); !ok || string(got) != "hello" {
		t.Errorf("uploaded %q, %v", got, ok)
	}
	if m.Info["greeting"] == "" || strings.ContainsAny(m.Info["greeting"], "'`$();") {
		t.Errorf("info greeting = %q; want the value cleaned of shell characters", m.Info["greeting"])
	}
	if len(m.Skipped) != 1 || m.Skipped[0].Name != "missing.txt" {
		t.Errorf("skipped = %+v", m.Skipped)
	}

	again, stderr2, code := box.Run(t, script)
	if code != 0 || again != stdout {
		t.Errorf("second run: exit %d, stdout %q; want the first manifest replayed", code, again)
	}
	if !strings.Contains(stderr2, "replaying") {
		t.Errorf("second run stderr %q; want it to say it replays", stderr2)
	}
	if up.Puts() != 1 {
		t.Errorf("%d uploads after two runs; want 1", up.Puts())
	}
	left := strings.Join(box.Leftovers(t), ",")
	if left != "case-1.host.lock,case-1.host.manifest" {
		t.Errorf("left on the host: %s; want only the lock and the done marker", left)
	}
}

func TestScriptFailsWhenUploadRefused(t *testing.T) {
	box := hostcmdtest.New(t)
	up := hostcmdtest.NewUploads(t)
	s := testScript(box, up, "x")
	s.Uploads[0].URL = "http://127.0.0.1:1/refused"
	script, err := s.Render()
	if err != nil {
		t.Fatal(err)
	}
	_, stderr, code := box.Run(t, script)
	if code == 0 || !strings.Contains(stderr, "upload of hello.txt failed") {
		t.Errorf("exit %d, stderr %q; want a failed upload", code, stderr)
	}
	if left := box.Leftovers(t); len(left) != 1 {
		t.Errorf("left %v; want only the lock (no done marker after a failure)", left)
	}
}

func TestRenderedScriptParses(t *testing.T) {
	box := hostcmdtest.New(t)
	script, err := testScript(box, hostcmdtest.NewUploads(t), "x").Render()
	if err != nil {
		t.Fatal(err)
	}
	for _, sh := range []string{"sh", "dash", "bash"} {
		if _, err := exec.LookPath(sh); err != nil {
			continue
		}
		cmd := exec.Command(sh, "-n")
		cmd.Stdin = strings.NewReader(script)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s -n: %v\n%s", sh, err, out)
		}
	}
}

func TestRenderRefusesUnsafeValues(t *testing.T) {
	box := hostcmdtest.New(t)
	up := hostcmdtest.NewUploads(t)
	tests := []struct {
		name   string
		mutate func(s *hostcmd.Script)
	}{
		{"url with quote", func(s *hostcmd.Script) { s.Uploads[0].URL = "https://x/a'b" }},
		{"upload name with slash", func(s *hostcmd.Script) { s.Uploads[0].Name = "../x" }},
		{"value not matching", func(s *hostcmd.Script) { s.Vars[0].Pattern = hostcmd.Word; s.Vars[0].Value = "a b" }},
		{"value without pattern", func(s *hostcmd.Script) { s.Vars[0].Pattern = nil }},
		{"newline", func(s *hostcmd.Script) { s.Vars[0].Value = "a\nreboot" }},
		{"var name", func(s *hostcmd.Script) { s.Vars[0].Name = "PATH;x" }},
		{"function name", func(s *hostcmd.Script) { s.Targets = []hostcmd.Call{{Func: "reboot"}} }},
		{"call arg", func(s *hostcmd.Script) {
			s.Targets = []hostcmd.Call{{Func: "irflow_container", Args: []hostcmd.Arg{{Value: "x y", Pattern: hostcmd.ContainerName}}}}
		}},
		{"case id", func(s *hostcmd.Script) { s.CaseID = "c;1" }},
		{"root", func(s *hostcmd.Script) { s.Paths.Root = "relative" }},
		{"too large", func(s *hostcmd.Script) { s.Body = strings.Repeat("#", hostcmd.MaxScriptBytes) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testScript(box, up, "x")
			tt.mutate(s)
			out, err := s.Render()
			var ue *hostcmd.UnsafeValueError
			if !errors.As(err, &ue) || out != "" {
				t.Errorf("Render() = %d bytes, %v; want UnsafeValueError and nothing", len(out), err)
			}
		})
	}
}
