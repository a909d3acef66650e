package hostcmdtest

import (
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// NsenterStub is an nsenter stand-in that drops -t PID and -n and runs the
// rest in the sandbox's own namespaces.
const NsenterStub = `while [ $# -gt 0 ]; do case $1 in -t) shift 2 ;; -n) shift ;; *) break ;; esac; done
exec "$@"`

// StubTask makes the sandbox's docker find the task taskArn with one
// container, worker, running as this process, and stubs nsenter with
// NsenterStub.
func (s *Sandbox) StubTask(t testing.TB, taskArn string) {
	t.Helper()
	s.Stub(t, "docker", DockerStub(taskArn, map[string]string{"worker": strings.Repeat("c", 64)}, os.Getpid()))
	s.Stub(t, "nsenter", NsenterStub)
}

// MotoAgent is an Agent on moto's SSM at cfg, running in box.
func MotoAgent(t testing.TB, cfg aws.Config, box *Sandbox) *Agent {
	return &Agent{Moto: ssm.NewFromConfig(cfg), Box: box, T: t}
}
