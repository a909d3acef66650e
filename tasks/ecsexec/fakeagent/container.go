package fakeagent

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/creack/pty"
)

// Container runs one session's command: argv as the agent splits it, stdin
// what the client sent, stdout what goes back as output frames. It returns
// the exit status.
type Container func(ctx context.Context, argv []string, stdin io.Reader, stdout io.Writer) int

// Echo prints its argv, space-separated, through a pty's newline
// translation, and exits 0.
func Echo(_ context.Context, argv []string, _ io.Reader, stdout io.Writer) int {
	ONLCR(stdout).Write([]byte(strings.Join(argv, " ") + "\n"))
	return 0
}

// ONLCR returns a writer that turns "\n" into "\r\n" as a pty's line
// discipline does by default (termios OPOST|ONLCR), for Go containers that
// want to look like a real ECS Exec command.
func ONLCR(w io.Writer) io.Writer { return onlcr{w} }

type onlcr struct{ w io.Writer }

func (o onlcr) Write(b []byte) (int, error) {
	_, err := o.w.Write(bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")))
	return len(b), err
}

// Exec returns a Container that executes argv for real, in a new pty, as
// the agent does in a container (agent shell_unix.go, StartCommandExecutor:
// pty.Start on exec.Command(argv[0], argv[1:]...), TERM=xterm-256color and
// LANG=C.UTF-8 added to the environment). env replaces the agent's own
// environment, so tests control PATH. The output is the pty's: echoed input
// and "\r\n" line ends included. The process group is killed when ctx ends.
//
// Exec runs programs on the machine running the tests: give it only argv
// that a test built.
func Exec(env ...string) Container {
	return func(ctx context.Context, argv []string, stdin io.Reader, stdout io.Writer) int {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = append(append([]string(nil), env...), "TERM=xterm-256color", "LANG=C.UTF-8")
		ptmx, err := pty.Start(cmd)
		if err != nil {
			ONLCR(stdout).Write([]byte("exec: " + err.Error() + "\n"))
			return 127
		}
		defer ptmx.Close()
		go io.Copy(ptmx, stdin)
		stop := context.AfterFunc(ctx, func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
		defer stop()
		copyPTY(stdout, ptmx)
		err = cmd.Wait()
		var ee *exec.ExitError
		switch {
		case err == nil:
			return 0
		case errors.As(err, &ee):
			return ee.ExitCode()
		default:
			return 1
		}
	}
}

// copyPTY reads the pty until the command and every process holding the
// terminal are gone: Linux then fails the read with EIO.
func copyPTY(dst io.Writer, ptmx *os.File) {
	buf := make([]byte, 1024)
	for {
		n, err := ptmx.Read(buf)
		if n > 0 {
			dst.Write(buf[:n])
		}
		if err != nil {
			return
		}
	}
}

func nowMilli() int64 { return time.Now().UnixMilli() }
