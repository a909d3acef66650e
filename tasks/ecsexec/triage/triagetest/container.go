package triagetest

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/irflow/irflow/tasks/ecsexec/fakeagent"
)

// collectorWords is how many words triage.Command builds: the shell, -c,
// the script, $0 (irflow-triage), then the nonce, the root, three limits
// and the target's pid, path and hash.
const collectorWords = 12

// Container returns the fake container's command runner for a
// fakeagent.Agent: it runs irflow's collector, and only it, for real in a
// pty with the root word rewritten to r.Dir (see the package doc), with the
// image's shell. Anything else, and a shell the image lacks, fails as the
// agent's exec of a missing program does.
func (r *Root) Container() fakeagent.Container {
	path := filepath.Join(r.base, "bin") + ":/usr/bin:/bin"
	shells := map[string]string{"/bin/sh": "/bin/sh"}
	switch r.opts.Image {
	case Busybox:
		// The image's shell is /busybox/sh; the fake runs it with the
		// host's dash over busybox's applets, because busybox's own sh
		// runs its applets in preference to PATH and would bypass the
		// readlink stand-in. The collector under busybox sh itself is
		// tested in package triage.
		path = filepath.Join(r.base, "bin") + ":" + filepath.Join(r.base, "busybox")
		shells = map[string]string{"/busybox/sh": "/bin/sh"}
	case NoShell:
		shells = nil
	}
	run := fakeagent.Exec("PATH=" + path)
	return func(ctx context.Context, argv []string, stdin io.Reader, stdout io.Writer) int {
		if len(argv) != collectorWords || argv[1] != "-c" || argv[3] != "irflow-triage" || argv[5] != "-" {
			fakeagent.ONLCR(stdout).Write([]byte("exec: the fake container runs irflow's collector only\n"))
			return 126
		}
		shell, ok := shells[argv[0]]
		if !ok {
			// What the agent prints when the program is not in the image
			// (fakeagent.Exec's failure, with the container's path).
			fakeagent.ONLCR(stdout).Write([]byte("exec: fork/exec " + argv[0] + ": " + os.ErrNotExist.Error() + "\n"))
			return 127
		}
		argv = slices.Clone(argv)
		argv[0], argv[5] = shell, r.Dir
		return run(ctx, argv, stdin, stdout)
	}
}

// Agent starts a fake agent (ECS Exec without KMS: no handshake) whose
// sessions run in this container. Close it when done.
func (r *Root) Agent(mode fakeagent.Mode) *fakeagent.Agent {
	return fakeagent.New(fakeagent.Options{Mode: mode, Container: r.Container()})
}
