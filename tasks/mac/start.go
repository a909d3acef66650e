package mac

import (
	"context"
	"fmt"
	"time"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
)

// VerifyStart checks the start API's envelope around an execution's input:
// this deployment's key, the caller the input names (requestedBy), a time
// within incident.MaxStartSkew of the execution's start, and a MAC over the state
// machine, the execution's name, the caller, the time and the input's
// digest, so an envelope cannot be replayed on another execution or input.
// resolve-target checks a playbook's input with it, release-containment a
// release's.
func VerifyStart(ctx context.Context, key *Key, stateMachineARN, executionName string, started time.Time, env *incident.StartEnvelope, digest, requestedBy string) error {
	bad := func(field, format string, args ...any) error {
		return &contract.InvalidInputError{Field: incident.StartKey + "." + field, Reason: fmt.Sprintf(format, args...)}
	}
	if !key.Configured() {
		return &contract.PreconditionFailedError{Reason: "the input carries a start envelope but no MAC key is configured to check it (IRFLOW_MAC_KEY_ARN)"}
	}
	if env.KeyID != key.ID {
		return bad("keyId", "%q is not this deployment's MAC key", env.KeyID)
	}
	if env.Caller != requestedBy {
		return bad("caller", "%s, but requestedBy says %s", env.Caller, requestedBy)
	}
	at, _ := time.Parse(time.RFC3339Nano, env.At)
	if !started.IsZero() && (at.Sub(started) > incident.MaxStartSkew || started.Sub(at) > incident.MaxStartSkew) {
		return bad("at", "%s is more than %s from the execution's start %s: the envelope was not made for this execution",
			env.At, incident.MaxStartSkew, started.UTC().Format(time.RFC3339))
	}
	ok, err := key.Verify(ctx, env.MAC, PurposeStart, incident.StartMACFields(stateMachineARN, executionName, env, digest)...)
	if err != nil {
		return err
	}
	if !ok {
		return bad("mac", "does not verify: the input was not started by the start API for execution %s of %s, or was changed since", executionName, stateMachineARN)
	}
	return nil
}
