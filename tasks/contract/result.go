package contract

import "encoding/json"

// Statuses of a task result.
const (
	StatusOK      = "OK"
	StatusDryRun  = "DRY_RUN"
	StatusSkipped = "SKIPPED"
)

// Result is what every task returns. All five keys are always present, or
// the generated ResultSelector fails.
type Result struct {
	Status   string         `json:"status"`
	Summary  string         `json:"summary"`
	Evidence []Evidence     `json:"evidence"`
	Outputs  map[string]any `json:"outputs"`
	// Chain is the case's audit chain head after this step's result
	// record (taskrt sets it; null when nothing was recorded): the next
	// step's start record goes right after it (Payload.Chain).
	Chain *ChainHead `json:"chain"`
}

// ChainHead is the seq and hash of a case's last audit record as a step
// saw it (audit.Head).
type ChainHead struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// Evidence is one stored object: where, its SHA-256 (hex) and size, and
// the version it names when the object was read back (a host's upload:
// later PUTs to the key make new versions, never this one).
type Evidence struct {
	URI       string `json:"uri"`
	SHA256    string `json:"sha256"`
	Bytes     int64  `json:"bytes"`
	VersionID string `json:"versionId,omitempty"`
}

// MarshalJSON writes empty evidence as [] and empty outputs as {}.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	p := plain(r)
	if p.Evidence == nil {
		p.Evidence = []Evidence{}
	}
	if p.Outputs == nil {
		p.Outputs = map[string]any{}
	}
	return json.Marshal(p)
}

// OK returns a result with status OK.
func OK(summary string) *Result { return &Result{Status: StatusOK, Summary: summary} }

// DryRun returns a result with status DRY_RUN: what the action would have done.
func DryRun(summary string) *Result { return &Result{Status: StatusDryRun, Summary: summary} }

// Skipped returns a result with status SKIPPED: the action does not apply.
func Skipped(summary string) *Result { return &Result{Status: StatusSkipped, Summary: summary} }

// With sets an output and returns the result, for chaining.
func (r *Result) With(key string, v any) *Result {
	if r.Outputs == nil {
		r.Outputs = map[string]any{}
	}
	r.Outputs[key] = v
	return r
}

// Add appends evidence and returns the result, for chaining.
func (r *Result) Add(ev ...Evidence) *Result {
	r.Evidence = append(r.Evidence, ev...)
	return r
}
