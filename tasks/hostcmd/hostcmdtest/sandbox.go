// Package hostcmdtest runs irflow's host scripts on the test machine in
// place of an SSM agent on a container instance: stub tools (docker, avml,
// tcpdump, nsenter ...) first on PATH, the host paths in a temporary
// directory, and an HTTP server that takes presigned-style PUT uploads.
// The real sh, curl, sha256sum, flock, openssl, dd and tar do the rest, so
// the scripts' own logic is exercised, not a model of it.
package hostcmdtest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irflow/irflow/tasks/hostcmd"
)

// Sandbox is a fake container instance on the local machine.
type Sandbox struct {
	Dir   string
	Bin   string
	Paths hostcmd.Paths
	// Env is added to the script's environment (stubs read it).
	Env []string
}

// MemTotalKB is the memory size the sandbox's meminfo reports (256 MiB).
const MemTotalKB = 262144

// New returns a sandbox with a meminfo file and an ECS log directory holding
// one agent log. It skips the test when a tool the scripts need is missing.
func New(t testing.TB) *Sandbox {
	t.Helper()
	for _, tool := range []string{"sh", "curl", "sha256sum", "flock", "openssl", "base64", "dd", "tar", "timeout"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("host script tests need %s", tool)
		}
	}
	dir := t.TempDir()
	s := &Sandbox{Dir: dir, Bin: filepath.Join(dir, "bin"), Paths: hostcmd.Paths{
		Root: filepath.Join(dir, "var", "lib", "irflow"), MemInfo: filepath.Join(dir, "meminfo"),
		ECSLogs: filepath.Join(dir, "var", "log", "ecs")}}
	must(t, os.MkdirAll(s.Bin, 0o755))
	must(t, os.MkdirAll(s.Paths.ECSLogs, 0o755))
	must(t, os.WriteFile(s.Paths.MemInfo, []byte("MemTotal:         262144 kB\nMemFree:          100000 kB\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(s.Paths.ECSLogs, "ecs-agent.log"), []byte("level=info msg=\"Task transitioned\" task=abc\n"), 0o644))
	return s
}

// Stub writes an executable sh script named name into the sandbox's bin.
func (s *Sandbox) Stub(t testing.TB, name, body string) {
	t.Helper()
	must(t, os.WriteFile(filepath.Join(s.Bin, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755))
}

// Run runs script with sh the way the SSM agent does and returns stdout,
// stderr and the exit code.
func (s *Sandbox) Run(t testing.TB, script string) (stdout, stderr string, code int) {
	t.Helper()
	f := filepath.Join(s.Dir, "_script.sh")
	must(t, os.WriteFile(f, []byte(script), 0o700))
	cmd := exec.Command("sh", f)
	cmd.Dir = s.Dir
	cmd.Env = append(os.Environ(), "PATH="+s.Bin+":"+os.Getenv("PATH"))
	cmd.Env = append(cmd.Env, s.Env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("running script: %v", err)
	}
	return out.String(), errb.String(), code
}

// Leftovers lists the files under the sandbox's irflow root, relative to it:
// what a run leaves on the host.
func (s *Sandbox) Leftovers(t testing.TB) []string {
	t.Helper()
	var out []string
	_ = filepath.Walk(s.Paths.Root, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			rel, _ := filepath.Rel(s.Paths.Root, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

// DockerStub is a docker stand-in for one task: `docker ps` finds the
// containers by the task ARN label, `docker inspect` answers .Id, .State.Pid
// and the task label, and inspect/diff/logs/top print canned text. ids maps
// container name to id; every container runs as pid.
func DockerStub(taskArn string, ids map[string]string, pid int) string {
	var cases strings.Builder
	for name, id := range ids {
		cases.WriteString("  *'container-name=" + name + "'*) echo " + id + " ;;\n")
	}
	var known strings.Builder
	for _, id := range ids {
		known.WriteString(id + "|" + id[:12] + "|")
	}
	return `cmd=$1; shift
all="$*"
last=""; for a in "$@"; do last=$a; done
known='` + known.String() + `'
case $cmd in
ps)
  case $all in *'task-arn=` + taskArn + `'*) ;; *) exit 0 ;; esac
  case $all in
` + cases.String() + `  esac ;;
inspect)
  case "|$known" in *"|$last|"*) ;; *) echo "Error: No such object: $last" >&2; exit 1 ;; esac
  case $all in
  *'{{.Id}}'*) for id in $(echo "$known" | tr '|' ' '); do case $id in "$last"*) [ ${#id} -eq 64 ] && echo $id && exit 0 ;; esac; done ;;
  *'{{.State.Pid}}'*) echo ` + itoa(pid) + ` ;;
  *'com.amazonaws.ecs.task-arn'*) echo '` + taskArn + `' ;;
  *) echo '[{"Id": "'$last'", "Config": {"Labels": {"com.amazonaws.ecs.task-arn": "` + taskArn + `"}}}]' ;;
  esac ;;
diff) echo "A /tmp/.cache/xmrig"; echo "C /etc" ;;
logs) echo "2026-01-01T00:00:00Z starting worker"; echo "2026-01-01T00:00:01Z connecting to pool" >&2 ;;
top) echo "PID PPID USER STARTED CMD"; echo "4242 4200 root Thu Jan 1 00:00:00 2026 /tmp/.cache/xmrig" ;;
*) echo "docker stub: $cmd not handled" >&2; exit 1 ;;
esac`
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
