package hostcmdtest

import (
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/irflow/irflow/tasks/hostcmd"
	"github.com/irflow/irflow/tasks/taskrt"
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

// MotoHost is what an SSM action's moto test runs on: a fresh sandbox, the
// agent in it on moto's SSM, a runner with that agent and moto's audit
// chain and S3, and moto's S3 presigner.
type MotoHost struct {
	Box     *Sandbox
	Agent   *Agent
	Runner  *hostcmd.Runner
	Presign *s3.PresignClient
}

// OnMoto builds a MotoHost on moto at cfg, with the audit table and
// buckets of env.
func OnMoto(t testing.TB, cfg aws.Config, env taskrt.Env) *MotoHost {
	box := New(t)
	agent := MotoAgent(t, cfg, box)
	return &MotoHost{Box: box, Agent: agent,
		Runner:  &hostcmd.Runner{SSM: agent, History: taskrt.NewChain(cfg, env), Objects: taskrt.NewS3(cfg)},
		Presign: s3.NewPresignClient(taskrt.NewS3(cfg))}
}
