package hostcmd

import (
	"encoding/json"
	"time"

	"github.com/irflow/irflow/tasks/catalog"
	"github.com/irflow/irflow/tasks/contract"
)

// State is what an async host action carries from its start through every
// check in its outputs: the generated poll loop passes only the last result
// back as previous, so each check result repeats it.
type State struct {
	CommandID  string   `json:"commandId"`
	InstanceID string   `json:"instanceId"`
	StartedAt  string   `json:"startedAt"`
	Keys       []string `json:"keys"`
}

// Outputs returns the state as result outputs, with done.
func (s State) Outputs(done bool) map[string]any {
	return map[string]any{"done": done, "commandId": s.CommandID, "instanceId": s.InstanceID,
		"startedAt": s.StartedAt, "keys": s.Keys}
}

// Started parses StartedAt.
func (s State) Started() (time.Time, error) { return time.Parse(time.RFC3339Nano, s.StartedAt) }

// StateFrom reads the state from the previous result of a check.
func StateFrom(prev *contract.Result) (State, error) {
	var s State
	if prev == nil {
		return s, &contract.InvalidInputError{Field: "previous", Reason: "mode check needs the start's result"}
	}
	b, err := json.Marshal(prev.Outputs)
	if err != nil {
		return s, &contract.InvalidInputError{Field: "previous.outputs", Reason: err.Error()}
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, &contract.InvalidInputError{Field: "previous.outputs", Reason: err.Error()}
	}
	switch {
	case !commandID.MatchString(s.CommandID):
		return s, &contract.InvalidInputError{Field: "previous.outputs.commandId", Reason: "missing or not an SSM command id"}
	case !InstanceID.MatchString(s.InstanceID):
		return s, &contract.InvalidInputError{Field: "previous.outputs.instanceId", Reason: "missing or not an instance id"}
	case len(s.Keys) == 0:
		return s, &contract.InvalidInputError{Field: "previous.outputs.keys", Reason: "no evidence keys"}
	}
	if _, err := s.Started(); err != nil {
		return s, &contract.InvalidInputError{Field: "previous.outputs.startedAt", Reason: "not an RFC 3339 time"}
	}
	return s, nil
}

// DefaultStepTimeout applies when neither the payload nor the catalog gives one.
const DefaultStepTimeout = time.Hour

// StepTimeout is how long the whole step (start to done) may take: the
// payload's timeoutSeconds, else the catalog's StepTimeout of the action.
func StepTimeout(p *contract.Payload) time.Duration {
	if p.TimeoutSeconds > 0 {
		return time.Duration(p.TimeoutSeconds) * time.Second
	}
	if a := catalog.Lookup(p.Action); a != nil && a.StepTimeout > 0 {
		return a.StepTimeout.D()
	}
	return DefaultStepTimeout
}

// URLExpiry is how long presigned URLs stay valid: the step's timeout,
// no more. The script must upload within it (SSM kills it then, and the
// check stops waiting), so a URL living longer only gives a compromised
// host more time to PUT other bytes; Bind reads back and hashes the
// version the check finds, so later PUTs change nothing recorded. At most
// the SigV4 maximum of 7 days; a URL signed with temporary credentials
// dies with them, sooner when the step outlives the Lambda role's session.
func URLExpiry(stepTimeout time.Duration) time.Duration {
	return min(stepTimeout, 7*24*time.Hour)
}
