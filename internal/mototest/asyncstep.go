package mototest

import (
	"testing"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/taskrt"
)

// AsyncStep is one SSM action's async step as its moto tests drive it: the
// action's catalog name, the step and its timeoutSeconds.
type AsyncStep struct {
	Action, Step string
	Timeout      int
}

// Invoke is the generated poll loop for the step over h on the world.
func (s AsyncStep) Invoke(w *World, h taskrt.HandlerFunc) AsyncInvoke {
	return w.Async(s.Action, s.Step, s.Timeout, h)
}

// RunOnce drives the step on moto with agent (a hostcmdtest.Agent)
// standing in for the instance's SSM agent: two starts send one command
// (the second reuses it); the check is done; a start after that sends
// nothing and the agent ran the script once; the case's audit chain holds
// the 8 records of the 4 invocations. It returns the check's result for
// the action's own evidence checks.
func (s AsyncStep) RunOnce(t *testing.T, w *World, agent interface{ Runs() int }, h taskrt.HandlerFunc, caseID string) *contract.Result {
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
	if n := SSMCommands(t, w, caseID, s.Step); n != 1 {
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
	if third.Outputs["commandId"] != first.Outputs["commandId"] || SSMCommands(t, w, caseID, s.Step) != 1 || agent.Runs() != 1 {
		t.Errorf("a start after done sent or ran again: %d commands, %d runs", SSMCommands(t, w, caseID, s.Step), agent.Runs())
	}
	VerifyAudit(t, w, caseID, 8)
	return done
}

// DryRun: a dry start is done at once, sends no command, writes no
// evidence, and leaves a start and a result in the audit chain.
func (s AsyncStep) DryRun(t *testing.T, w *World, h taskrt.HandlerFunc, caseID string) {
	t.Helper()
	res, err := s.Invoke(w, h)(t, caseID, "start", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != contract.StatusDryRun || res.Outputs["done"] != true {
		t.Errorf("dry run: %s %v", res.Status, res.Outputs)
	}
	if SSMCommands(t, w, caseID, s.Step) != 0 || len(EvidenceObjects(t, w, caseID)) != 0 {
		t.Error("a dry run sent a command or wrote evidence")
	}
	VerifyAudit(t, w, caseID, 2)
}

// CheckOnPlainMoto pins down what plain moto does with a command: it
// accepts it and reports Success at once with empty output, which the
// check must refuse with PreconditionFailedError instead of reporting
// evidence that does not exist. It returns the check's error.
func (s AsyncStep) CheckOnPlainMoto(t *testing.T, w *World, h taskrt.HandlerFunc, caseID string) error {
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
