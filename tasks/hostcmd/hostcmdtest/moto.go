package hostcmdtest

import (
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/taskrt"
)

// NsenterStub is an nsenter stand-in that drops -t PID and -n and runs the
// rest in the sandbox's own namespaces.
const NsenterStub = `while [ $# -gt 0 ]; do case $1 in -t) shift 2 ;; -n) shift ;; *) break ;; esac; done
exec "$@"`

// StubTask makes the sandbox's docker find the world's EC2 task with one
// container, worker, running as this process, and stubs nsenter with
// NsenterStub.
func (s *Sandbox) StubTask(t testing.TB, w *mototest.World) {
	t.Helper()
	s.Stub(t, "docker", DockerStub(w.EC2TaskArn, map[string]string{"worker": strings.Repeat("c", 64)}, os.Getpid()))
	s.Stub(t, "nsenter", NsenterStub)
}

// MotoAgent is an Agent on the world's moto SSM, running in box.
func MotoAgent(t testing.TB, w *mototest.World, box *Sandbox) *Agent {
	return &Agent{Moto: ssm.NewFromConfig(w.Cfg), Box: box, T: t}
}

// MotoStep is one SSM action's async step as its moto tests drive it: the
// action's catalog name, the step and its timeoutSeconds.
type MotoStep struct {
	Action, Step string
	Timeout      int
}

// Invoke is the generated poll loop for the step over h on the world.
func (s MotoStep) Invoke(w *mototest.World, h taskrt.HandlerFunc) mototest.AsyncInvoke {
	return w.Async(s.Action, s.Step, s.Timeout, h)
}

// RunOnce drives the step on moto with agent standing in for the instance's
// SSM agent: two starts send one command (the second reuses it); the check
// is done; a start after that sends nothing and the agent ran the script
// once; the case's audit chain holds the 8 records of the 4 invocations.
// It returns the check's result for the action's own evidence checks.
func (s MotoStep) RunOnce(t *testing.T, w *mototest.World, agent *Agent, h taskrt.HandlerFunc, caseID string) *contract.Result {
	t.Helper()
	invoke := s.Invoke(w, h)
	first, err := invoke(t, caseID, "start", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	second, err := invoke(t, caseID, "start", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if second.Outputs["commandId"] != first.Outputs["commandId"] || second.Outputs["reused"] != true {
		t.Errorf("second start %v; want the first command reused", second.Outputs)
	}
	if n := mototest.SSMCommands(t, w, caseID, s.Step); n != 1 {
		t.Errorf("moto has %d commands for the step; want 1", n)
	}
	done, err := invoke(t, caseID, "check", false, second)
	if err != nil {
		t.Fatal(err)
	}
	if done.Outputs["done"] != true {
		t.Fatalf("check: %s %v", done.Summary, done.Outputs)
	}
	third, err := invoke(t, caseID, "start", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if third.Outputs["commandId"] != first.Outputs["commandId"] || mototest.SSMCommands(t, w, caseID, s.Step) != 1 || agent.Runs() != 1 {
		t.Errorf("a start after done sent or ran again: %d commands, %d runs", mototest.SSMCommands(t, w, caseID, s.Step), agent.Runs())
	}
	mototest.VerifyAudit(t, w, caseID, 8)
	return done
}

// DryRun: a dry start is done at once, sends no command, writes no
// evidence, and leaves a start and a result in the audit chain.
func (s MotoStep) DryRun(t *testing.T, w *mototest.World, h taskrt.HandlerFunc, caseID string) {
	t.Helper()
	res, err := s.Invoke(w, h)(t, caseID, "start", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != contract.StatusDryRun || res.Outputs["done"] != true {
		t.Errorf("dry run: %s %v", res.Status, res.Outputs)
	}
	if mototest.SSMCommands(t, w, caseID, s.Step) != 0 || len(mototest.EvidenceObjects(t, w, caseID)) != 0 {
		t.Error("a dry run sent a command or wrote evidence")
	}
	mototest.VerifyAudit(t, w, caseID, 2)
}

// CheckOnPlainMoto pins down what plain moto does with a command: it
// accepts it and reports Success at once with empty output, which the
// check must refuse with PreconditionFailedError instead of reporting
// evidence that does not exist. It returns the check's error.
func (s MotoStep) CheckOnPlainMoto(t *testing.T, w *mototest.World, h taskrt.HandlerFunc, caseID string) error {
	t.Helper()
	invoke := s.Invoke(w, h)
	start, err := invoke(t, caseID, "start", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = invoke(t, caseID, "check", false, start)
	if contract.ErrorName(err) != "PreconditionFailedError" {
		t.Errorf("check on plain moto: %v; want PreconditionFailedError", err)
	}
	return err
}
