package triage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/shlex"
)

var testLimits = Limits{MaxFileBytes: 64 << 10, MaxBinaryBytes: 1 << 20, MaxHashBytes: 1 << 20}

// toolbox is a PATH directory holding the named busybox applets, as a
// minimal image would.
func toolbox(t *testing.T, applets ...string) string {
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("busybox is not installed (apt-get install busybox-static): the minimal-image legs cannot run")
	}
	dir := t.TempDir()
	for _, a := range applets {
		if err := os.Symlink(bb, filepath.Join(dir, a)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var allApplets = []string{"sh", "base64", "od", "dd", "readlink", "stat", "sha256sum", "ls"}

type runner struct {
	name  string
	shell func(t *testing.T) (interp []string, path string)
}

// runners are the shells and tool sets the collector must work with.
var runners = []runner{
	{"dash with coreutils", func(t *testing.T) ([]string, string) { return []string{"/bin/sh"}, "/usr/bin:/bin" }},
	{"busybox", func(t *testing.T) ([]string, string) {
		d := toolbox(t, allApplets...)
		return []string{filepath.Join(d, "sh")}, d
	}},
	{"busybox without base64", func(t *testing.T) ([]string, string) {
		d := toolbox(t, "sh", "od", "dd", "readlink", "stat", "sha256sum", "ls")
		return []string{filepath.Join(d, "sh")}, d
	}},
	{"busybox without readlink, stat, sha256sum", func(t *testing.T) ([]string, string) {
		d := toolbox(t, "sh", "base64", "dd", "ls")
		return []string{filepath.Join(d, "sh")}, d
	}},
}

// collect runs the collector the way the agent would: the command string
// split by shlex, executed without a shell, here with the interpreter
// under test in place of /bin/sh.
func collect(t *testing.T, interp []string, path, root, nonce string, tg Target) []byte {
	t.Helper()
	cmd, err := command("/bin/sh", nonce, root, tg, testLimits)
	if err != nil {
		t.Fatal(err)
	}
	argv, err := shlex.Split(cmd)
	if err != nil {
		t.Fatal(err)
	}
	argv = append(append([]string{}, interp...), argv[1:]...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, argv[0], argv[1:]...)
	c.Env = []string{"PATH=" + path}
	out, err := c.Output()
	if err != nil {
		t.Fatalf("collector: %v", err)
	}
	return out
}

func TestCollectorAgainstAFakeContainer(t *testing.T) {
	root := fakeTree(t)
	minerSum := sha256.Sum256(minerBytes)
	miner := hex.EncodeToString(minerSum[:])
	target := Target{PID: 42, ExecutablePath: "/tmp/.x/miner", SHA256: miner}
	for _, r := range runners {
		t.Run(r.name, func(t *testing.T) {
			interp, path := r.shell(t)
			nonce := NewNonce()
			raw := collect(t, interp, path, root, nonce, target)
			if bytes.ContainsAny(raw, "\x1b\x07\x00") {
				t.Errorf("raw output carries control bytes: the collector must encode everything")
			}
			rep, arts, err := Analyze(raw, nonce, target, Options{Root: root})
			if err != nil {
				t.Fatalf("Analyze: %v", err)
			}
			checkReport(t, rep, arts, miner, !strings.Contains(r.name, "sha256sum"))
		})
	}
}

func artifact(t *testing.T, arts []Artifact, name string, v any) []byte {
	t.Helper()
	for _, a := range arts {
		if a.Name == name {
			if sum := sha256.Sum256(a.Body); hex.EncodeToString(sum[:]) != a.SHA256 || a.Size != int64(len(a.Body)) {
				t.Errorf("%s: hash or size does not match its body", name)
			}
			if v != nil {
				if err := json.Unmarshal(a.Body, v); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
			}
			return a.Body
		}
	}
	t.Fatalf("no artifact %s", name)
	return nil
}

func checkReport(t *testing.T, rep Report, arts []Artifact, miner string, hashes bool) {
	t.Helper()
	var procs []Process
	artifact(t, arts, "processes.json", &procs)
	byPID := map[int]Process{}
	for _, p := range procs {
		byPID[p.PID] = p
	}
	node, evil := byPID[1], byPID[42]
	if node.Name != "node" || node.UID != 1000 || !slices.Equal(node.Cmdline, []string{"node", "server.js"}) ||
		node.Exe != "/usr/local/bin/node" || node.Cwd != "/app" || node.StartTime != "2023-11-14T22:13:25Z" || node.FDs != 3 {
		t.Errorf("pid 1 = %+v", node)
	}
	if evil.Name != "kworker) (evil" || evil.UID != 0 || evil.PPID != 1 || len(evil.Cmdline) != 3 ||
		evil.Cmdline[2] != evilCmd || !evil.Target || evil.Exe != "/tmp/.x/miner" {
		t.Errorf("pid 42 = %+v", evil)
	}
	if got := byPID[43].Cmdline; len(got) != 1 || len(got[0]) != 64<<10 {
		t.Errorf("pid 43 cmdline of %d bytes; want it cut at MaxFileBytes", len(strings.Join(got, "")))
	}
	if p := byPID[44]; p.Name != "loop" || p.ExeSHA256 != "" || p.ExeSize != -1 {
		t.Errorf("pid 44 (exe in a symlink loop) = %+v", p)
	}
	if _, ok := byPID[0]; ok || len(procs) != 4 {
		t.Errorf("%d processes; want 1, 42, 43, 44 (self is not a pid)", len(procs))
	}
	if hashes && (evil.ExeSHA256 != miner || evil.ExeSize != int64(len(minerBytes))) {
		t.Errorf("pid 42 exe hash %q size %d; want the miner's", evil.ExeSHA256, evil.ExeSize)
	}

	var conns []Connection
	artifact(t, arts, "connections.json", &conns)
	want := map[string]string{
		"tcp 0.0.0.0:8080 LISTEN":                         "[1]",
		"tcp 10.0.0.5:43210>203.0.113.7:4444 ESTABLISHED": "[42]",
		"tcp6 [::1]:80 LISTEN":                            "[1]",
		"udp 10.0.0.5:54321>198.51.100.1:53 ESTABLISHED":  "[42]",
	}
	got := map[string]string{}
	for _, c := range conns {
		k := c.Proto + " " + c.Local
		if !strings.HasSuffix(c.Remote, ":0") {
			k += ">" + c.Remote
		}
		b, _ := json.Marshal(c.PIDs)
		got[k+" "+c.State] = string(b)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("connection %s owned by %s; want %s (all: %v)", k, got[k], v, got)
		}
	}
	if !slices.ContainsFunc(rep.Problems, func(p string) bool { return strings.Contains(p, "1 unreadable rows in /proc/net/tcp") }) {
		t.Errorf("problems %q; want the garbage tcp row reported", rep.Problems)
	}

	var of OpenFiles
	artifact(t, arts, "open-files.json", &of)
	if !slices.Contains(of.Files, OpenFile{PID: 42, FD: 5, Target: "/tmp/.x/config.json"}) ||
		!slices.Contains(of.Files, OpenFile{PID: 42, FD: 3, Target: "socket:[2002]"}) || len(of.Maps) != 2 {
		t.Errorf("open files %+v", of)
	}

	var exes []Executable
	artifact(t, arts, "executables.json", &exes)
	paths := map[string]Executable{}
	for _, e := range exes {
		paths[e.Source+" "+e.Path] = e
	}
	for _, p := range []string{"writable-dir /tmp/.x/miner", "writable-dir /tmp/evil\nname \x1b[1m", "writable-dir /tmp/a/b/c/shallow",
		"writable-dir /dev/shm/big", "writable-dir /app/run.sh", "process /usr/local/bin/node", "process /tmp/.x/miner"} {
		if _, ok := paths[p]; !ok {
			t.Errorf("executables lack %q (have %d)", p, len(exes))
		}
	}
	for _, p := range []string{"writable-dir /tmp/fifo", "writable-dir /tmp/a/b/c/d/deep", "writable-dir /app/server.js", "writable-dir /tmp/.x/config.json"} {
		if _, ok := paths[p]; ok {
			t.Errorf("executables include %q", p)
		}
	}
	if e := paths["writable-dir /dev/shm/big"]; e.SHA256 != "" || e.Size != 3<<20 {
		t.Errorf("big file %+v; want its size and no hash (over MaxHashBytes)", e)
	}
	if e := paths["writable-dir /tmp/.x/miner"]; hashes && (e.SHA256 != miner || e.New == nil || !*e.New) {
		t.Errorf("miner %+v; want its hash and new=true", e)
	}

	body := artifact(t, arts, "binaries/"+miner, nil)
	if !bytes.Equal(body, minerBytes) {
		t.Errorf("binary copy differs from the miner")
	}
	froms := map[string]bool{}
	for _, b := range rep.Binaries {
		froms[b.From] = true
		if b.SHA256 != miner || (hashes && !b.Verified) {
			t.Errorf("binary %+v", b)
		}
	}
	if !froms["exe of pid 42 (finding pid)"] || !froms["finding executable path"] || (hashes && !froms["exe of pid 42 (finding sha256)"]) {
		t.Errorf("binaries from %v", froms)
	}
	var stored triage
	artifact(t, arts, "triage.json", &stored)
	if arts[len(arts)-1].Name != "triage.json" || len(stored.Artifacts) != len(arts)-1 {
		t.Errorf("triage.json must come last and list the %d other artifacts", len(arts)-1)
	}
	if !rep.Complete {
		t.Errorf("report incomplete: %q", rep.Problems)
	}
}

type triage = Report

func TestCollectorReportsAVanishedTarget(t *testing.T) {
	root := fakeTree(t)
	nonce := NewNonce()
	tg := Target{PID: 4242, ExecutablePath: "/tmp/fifo"}
	raw := collect(t, []string{"/bin/sh"}, "/usr/bin:/bin", root, nonce, tg)
	rep, _, err := Analyze(raw, nonce, tg, Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	want := []Skip{{From: "exe of pid 4242 (finding pid)", Reason: "no-such-process"},
		{From: "finding executable path", Reason: "not-a-regular-file"}}
	if !slices.Equal(rep.Skipped, want) || len(rep.Binaries) != 0 {
		t.Errorf("skipped %+v, binaries %+v; want %+v", rep.Skipped, rep.Binaries, want)
	}
}

func TestAnalyzeReportsAMissingCollector(t *testing.T) {
	_, arts, err := Analyze([]byte("exec: /bin/sh: no such file or directory\r\n"), NewNonce(), Target{}, Options{})
	var ns *CollectorNotStartedError
	if !errors.As(err, &ns) || !strings.Contains(ns.Output, "no such file") {
		t.Fatalf("Analyze error %v; want CollectorNotStartedError", err)
	}
	if len(arts) != 2 || arts[0].Name != "stream.txt" || arts[1].Name != "triage.json" {
		t.Errorf("artifacts %d; want stream.txt and triage.json", len(arts))
	}
}
