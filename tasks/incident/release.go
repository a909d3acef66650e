package incident

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"time"
)

// ReleaseInput is the execution input of the release state machine
// (irflow-release): the case whose containment to undo, optionally the
// playbook steps whose changes to undo, a dry run, and who asks. `irflow
// release` has the start API start it, which takes requestedBy from the
// signed request and seals the input (StartKey), as it does a playbook's;
// release-containment's resolve mode verifies the seal.
type ReleaseInput struct {
	CaseID      string   `json:"caseId"`
	Steps       []string `json:"steps,omitempty"`
	DryRun      bool     `json:"dryRun"`
	Reason      string   `json:"reason,omitempty"`
	RequestedBy string   `json:"requestedBy,omitempty"`
}

// stepIDRE is a playbook step id.
var stepIDRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,39}$`)

// MaxReleaseSteps bounds ReleaseInput.Steps (a playbook has at most this
// many step ids worth naming).
const MaxReleaseSteps = 100

// Validate checks the release input, naming the field.
func (r ReleaseInput) Validate() error {
	switch {
	case !caseIDRE.MatchString(r.CaseID):
		return fieldErr("caseId", "must be a case id: 1 to 80 letters, digits, _ and -, starting with a letter or digit")
	case len(r.Steps) > MaxReleaseSteps:
		return fieldErr("steps", "names %d steps; at most %d", len(r.Steps), MaxReleaseSteps)
	case len(r.Reason) > 1024:
		return fieldErr("reason", "is longer than 1024 characters")
	case r.RequestedBy != "" && !callerRE.MatchString(r.RequestedBy):
		return fieldErr("requestedBy", "must be an IAM or STS ARN")
	}
	for i, s := range r.Steps {
		if !stepIDRE.MatchString(s) {
			return fieldErr(fmt.Sprintf("steps[%d]", i), "%q is not a step id (lower-case letters, digits and -, at most 40)", clip(s))
		}
	}
	return nil
}

// ParseReleaseInput reads a release execution input: the input without
// its envelope (unknown keys refused, naming them), the start envelope
// (nil when there is none) and the digest its MAC covers.
func ParseReleaseInput(raw []byte) (*ReleaseInput, *StartEnvelope, string, error) {
	m, err := decodeObject(raw)
	if err != nil {
		return nil, nil, "", err
	}
	var env *StartEnvelope
	digest := ""
	if _, ok := m[StartKey]; ok {
		if env, digest, err = StartEnvelopeOf(raw); err != nil {
			return nil, nil, "", err
		}
		delete(m, StartKey)
	}
	rest, _ := json.Marshal(m)
	dec := json.NewDecoder(bytes.NewReader(rest))
	dec.DisallowUnknownFields()
	var in ReleaseInput
	if err := dec.Decode(&in); err != nil {
		return nil, nil, "", fieldErr("input", "must be {caseId, steps, dryRun, reason, requestedBy, irflowStart}: %s", clip(err.Error()))
	}
	if err := in.Validate(); err != nil {
		return nil, nil, "", err
	}
	return &in, env, digest, nil
}

// ReleaseExecutionName names a release execution of a case: the case id
// (cut to 56 characters) and the UTC time, at most 80 characters as
// Step Functions allows
// (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html).
func ReleaseExecutionName(caseID string, now time.Time) string {
	if len(caseID) > 56 {
		caseID = caseID[:56]
	}
	return caseID + "-release-" + now.UTC().Format("20060102T150405")
}
