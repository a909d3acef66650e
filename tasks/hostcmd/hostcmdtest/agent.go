package hostcmdtest

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/irflow/irflow/tasks/hostcmd"
)

// MotoSSM is the part of the SSM client the agent needs from moto.
type MotoSSM interface {
	hostcmd.SSMAPI
	ListCommands(ctx context.Context, in *ssm.ListCommandsInput, opts ...func(*ssm.Options)) (*ssm.ListCommandsOutput, error)
}

var _ hostcmd.SSMAPI = (*Agent)(nil)

// Agent plays the SSM agent of the container instance on top of moto, which
// records commands but never runs them (its GetCommandInvocation reports
// Success with empty output at once). Commands go to moto; when moto reports
// an invocation, the agent runs the command's script, read back from moto,
// once in the sandbox, and answers with its real output and exit status,
// truncated the way SSM truncates (stdout 24,000, stderr 8,000 characters).
type Agent struct {
	Moto MotoSSM
	Box  *Sandbox
	T    testing.TB

	mu   sync.Mutex
	runs map[string]agentRun
}

type agentRun struct {
	stdout, stderr string
	code           int
}

// SendCommand passes the command to moto.
func (a *Agent) SendCommand(ctx context.Context, in *ssm.SendCommandInput, opts ...func(*ssm.Options)) (*ssm.SendCommandOutput, error) {
	return a.Moto.SendCommand(ctx, in, opts...)
}

// GetCommandInvocation asks moto, then runs the script the first time moto
// says the invocation exists.
func (a *Agent) GetCommandInvocation(ctx context.Context, in *ssm.GetCommandInvocationInput, opts ...func(*ssm.Options)) (*ssm.GetCommandInvocationOutput, error) {
	out, err := a.Moto.GetCommandInvocation(ctx, in, opts...)
	if err != nil || out.Status != ssmtypes.CommandInvocationStatusSuccess {
		return out, err
	}
	r, err := a.run(ctx, aws.ToString(in.CommandId))
	if err != nil {
		return nil, err
	}
	out.StandardOutputContent = aws.String(clipTo(r.stdout, 24000))
	out.StandardErrorContent = aws.String(clipTo(r.stderr, 8000))
	out.ResponseCode = int32(r.code)
	if r.code != 0 {
		out.Status, out.StatusDetails = ssmtypes.CommandInvocationStatusFailed, aws.String("Failed")
	}
	return out, nil
}

// Runs counts the scripts the agent ran.
func (a *Agent) Runs() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.runs)
}

func (a *Agent) run(ctx context.Context, id string) (agentRun, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if r, ok := a.runs[id]; ok {
		return r, nil
	}
	lc, err := a.Moto.ListCommands(ctx, &ssm.ListCommandsInput{CommandId: aws.String(id)})
	if err != nil {
		return agentRun{}, err
	}
	if len(lc.Commands) != 1 {
		a.T.Fatalf("moto knows %d commands with id %s", len(lc.Commands), id)
	}
	script := strings.Join(lc.Commands[0].Parameters["commands"], "\n") + "\n"
	var r agentRun
	r.stdout, r.stderr, r.code = a.Box.Run(a.T, script)
	if a.runs == nil {
		a.runs = map[string]agentRun{}
	}
	a.runs[id] = r
	return r, nil
}

func clipTo(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
