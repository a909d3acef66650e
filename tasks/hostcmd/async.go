package hostcmd

import (
	"context"
	"fmt"

	"github.com/irflow/irflow/tasks/contract"
)

// IsCheck reads an async action's mode: "check" polls the command a start
// began; "start" (or none) starts it.
func IsCheck(p *contract.Payload) (bool, error) {
	switch p.Mode {
	case "check":
		return true, nil
	case "", "start":
		return false, nil
	}
	return false, &contract.InvalidInputError{Field: "mode", Reason: fmt.Sprintf("%q is not start or check", p.Mode)}
}

// Begin reads what an SSM action's invocation starts from: the instance
// its command goes to (noHost says why the action needs one, for the
// error) and whether this is a check (IsCheck). A dry run's check is
// answered here, done, since its start sent nothing: dry is that result,
// with what naming the command.
func Begin(p *contract.Payload, noHost, what string) (inst string, check bool, dry *contract.Result, err error) {
	if inst, err = Instance(p, noHost); err != nil {
		return "", false, nil, err
	}
	if check, err = IsCheck(p); err != nil {
		return "", false, nil, err
	}
	if check && p.DryRun() {
		return inst, true, contract.DryRun("dry run: no "+what+" was started").With("done", true), nil
	}
	return inst, check, nil, nil
}

// Launch renders s and runs it as cmd (or finds the command a previous
// attempt of the step started), and reports it as "<what> started (SSM
// command ID)" with the state the check mode reads.
func (r *Runner) Launch(ctx context.Context, p *contract.Payload, s *Script, cmd Command, what string) (*contract.Result, error) {
	script, err := s.Render()
	if err != nil {
		return nil, &contract.InvalidInputError{Field: "host script", Reason: err.Error()}
	}
	cmd.Script = script
	started, err := r.Start(ctx, p, cmd)
	if err != nil {
		return nil, err
	}
	verb := "started"
	if started.Reused {
		verb = "already started"
	}
	res := contract.OK(fmt.Sprintf("%s %s (SSM command %s)", what, verb, started.CommandID))
	res.Outputs = started.Outputs(false)
	return res.With("reused", started.Reused), nil
}

// Pending is a check's result while the command still runs.
func (pr *Progress) Pending(what string) *contract.Result {
	res := contract.OK(fmt.Sprintf("%s: SSM command %s %s", what, pr.CommandID, pr.Status))
	res.Outputs = pr.Outputs(false)
	return res.With("ssmStatus", pr.Status)
}

// Finished polls the command of p's start (Poll). While it runs, prog is
// nil and pending is the check's result for what.
func (r *Runner) Finished(ctx context.Context, p *contract.Payload, what string) (prog *Progress, pending *contract.Result, err error) {
	prog, err = r.Poll(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	if !prog.Done {
		return nil, prog.Pending(what), nil
	}
	return prog, nil, nil
}

// Evidence binds the uploads of a finished command to evidence in bucket
// (Bind, going on from the bindings of p's previous check). While they are
// still being hashed, ev is nil and pending is the check's result for what.
func (r *Runner) Evidence(ctx context.Context, bucket string, p *contract.Payload, prog *Progress, what string) (ev []contract.Evidence, pending *contract.Result, err error) {
	if bucket == "" {
		return nil, nil, &contract.PreconditionFailedError{Reason: "no evidence bucket configured (IRFLOW_EVIDENCE_BUCKET)"}
	}
	ev, binds, err := r.Bind(ctx, bucket, prog.Manifest, prog.Keys, BindingsFrom(p.Previous))
	if err != nil {
		return nil, nil, err
	}
	if ev == nil {
		return nil, prog.Verifying(what, binds), nil
	}
	return ev, nil, nil
}
