package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/mac"
)

// Seal returns input (a console input object, without an envelope) with
// the start envelope added: caller, the time, the key and the MAC over
// incident.StartMACFields (the state machine and execution name it will
// start, the caller, the time and the input's digest). resolve-target
// verifies exactly this.
func Seal(ctx context.Context, key *mac.Key, stateMachineArn, executionName, caller string, at time.Time, input []byte) ([]byte, error) {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(input))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, fmt.Errorf("start input is not a JSON object: %v", err)
	}
	if _, ok := m[incident.StartKey]; ok {
		return nil, fmt.Errorf("start input already has an %s envelope", incident.StartKey)
	}
	digest, err := incident.StartDigest(input)
	if err != nil {
		return nil, err
	}
	env := &incident.StartEnvelope{Caller: caller, At: at.UTC().Format(time.RFC3339Nano), KeyID: key.ID}
	env.MAC, err = key.Sign(ctx, mac.PurposeStart, incident.StartMACFields(stateMachineArn, executionName, env, digest)...)
	if err != nil {
		return nil, err
	}
	m[incident.StartKey] = env
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
