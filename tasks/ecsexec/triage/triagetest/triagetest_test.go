package triagetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/irflow/irflow/tasks/ecsexec"
	"github.com/irflow/irflow/tasks/ecsexec/fakeagent"
	"github.com/irflow/irflow/tasks/ecsexec/triage"
)

// run sends the collector command for shell through a fake agent of the
// container and analyzes what comes back, with no root option: the fake
// must look like a container from the outside.
func run(t *testing.T, r *Root, shell string) (triage.Report, []triage.Artifact, error) {
	t.Helper()
	agent := r.Agent(fakeagent.SkipHandshake)
	defer agent.Close()
	nonce := triage.NewNonce()
	target := triage.Target{PID: MinerPID, ExecutablePath: MinerPath}
	cmd, err := triage.Command(shell, nonce, target, triage.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	_, out, err := agent.Run(cmd, ecsexec.Limits{IdleTimeout: 20 * time.Second})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return triage.Analyze(out, nonce, target, triage.Options{})
}

func TestTheFakeContainerLooksLikeAContainer(t *testing.T) {
	tests := []struct {
		name  string
		image Image
		shell string
	}{
		{"debian /bin/sh", Debian, "/bin/sh"},
		{"distroless debug /busybox/sh", Busybox, "/busybox/sh"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Write(t.TempDir(), Options{Image: tt.image})
			if err != nil {
				t.Skip(err) // busybox missing on this machine
			}
			rep, arts, err := run(t, r, tt.shell)
			if err != nil {
				t.Fatalf("Analyze: %v", err)
			}
			var procs []triage.Process
			var conns []triage.Connection
			var exes []triage.Executable
			for _, a := range arts {
				switch a.Name {
				case "processes.json":
					json.Unmarshal(a.Body, &procs)
				case "connections.json":
					json.Unmarshal(a.Body, &conns)
				case "executables.json":
					json.Unmarshal(a.Body, &exes)
				}
			}
			i := slices.IndexFunc(procs, func(p triage.Process) bool { return p.PID == MinerPID })
			if i < 0 || procs[i].Exe != MinerPath || !procs[i].ExeDeleted || !procs[i].Target || procs[i].ExeSHA256 != MinerSHA256 {
				t.Errorf("miner %+v; want its deleted exe %s, hashed, as the target", procs, MinerPath)
			}
			if !slices.ContainsFunc(conns, func(c triage.Connection) bool {
				return c.Remote == Pool && c.State == "ESTABLISHED" && slices.Equal(c.PIDs, []int{MinerPID})
			}) {
				t.Errorf("connections %+v; want the miner's session to %s", conns, Pool)
			}
			for _, want := range []string{Dropper, ShmStub} {
				if !slices.ContainsFunc(exes, func(e triage.Executable) bool { return e.Path == want && e.Source == "writable-dir" }) {
					t.Errorf("executables %+v lack %s", exes, want)
				}
			}
			if len(rep.Binaries) != 1 || rep.Binaries[0].SHA256 != MinerSHA256 || !rep.Binaries[0].Verified {
				t.Errorf("binaries %+v; want the deleted miner copied from /proc/%d/exe", rep.Binaries, MinerPID)
			}
			if len(rep.Skipped) != 1 || rep.Skipped[0].Reason != "not-a-regular-file" {
				t.Errorf("skipped %+v; want the finding's path skipped: it was deleted", rep.Skipped)
			}
		})
	}
}

func TestShellsTheImageLacks(t *testing.T) {
	tests := []struct {
		image Image
		shell string
	}{
		{Debian, "/busybox/sh"},
		{Busybox, "/bin/sh"},
		{NoShell, "/bin/sh"},
		{NoShell, "/busybox/sh"},
	}
	for _, tt := range tests {
		r, err := Write(t.TempDir(), Options{Image: tt.image})
		if err != nil {
			t.Skip(err)
		}
		_, _, err = run(t, r, tt.shell)
		var ns *triage.CollectorNotStartedError
		if !errors.As(err, &ns) {
			t.Errorf("image %d, shell %s: %v; want CollectorNotStartedError", tt.image, tt.shell, err)
		}
	}
}

func TestRunsOnlyTheCollector(t *testing.T) {
	r, err := Write(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if code := r.Container()(context.Background(), []string{"/bin/sh", "-c", "id"}, nil, &out); code != 126 {
		t.Errorf("ran a command that is not the collector: exit %d, %q", code, out.String())
	}
}
