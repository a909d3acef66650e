package asl

import (
	"bytes"
	"encoding/json"
)

// Path is an optional JSONPath field such as ResultPath. A nil *Path is
// absent (the default "$"); a Path with Null set is JSON null (discard).
type Path struct {
	Null  bool
	Value string
}

// P returns a *Path for a JSONPath.
func P(path string) *Path { return &Path{Value: path} }

// MarshalJSON writes the path or null.
func (p Path) MarshalJSON() ([]byte, error) {
	if p.Null {
		return []byte("null"), nil
	}
	return json.Marshal(p.Value)
}

// UnmarshalJSON reads a path or null.
func (p *Path) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*p = Path{Null: true}
		return nil
	}
	return json.Unmarshal(b, &p.Value)
}

// Retrier is one Retry entry.
type Retrier struct {
	ErrorEquals     []string `json:"ErrorEquals"`
	IntervalSeconds int      `json:"IntervalSeconds,omitempty"`
	MaxAttempts     *int     `json:"MaxAttempts,omitempty"`
	BackoffRate     float64  `json:"BackoffRate,omitempty"`
	MaxDelaySeconds int      `json:"MaxDelaySeconds,omitempty"`
	JitterStrategy  string   `json:"JitterStrategy,omitempty"`
}

// Catcher is one Catch entry.
type Catcher struct {
	ErrorEquals []string `json:"ErrorEquals"`
	ResultPath  *Path    `json:"ResultPath,omitempty"`
	Next        string   `json:"Next"`
}

// UnmarshalJSON keeps "ResultPath": null (discard the error output).
func (c *Catcher) UnmarshalJSON(b []byte) error {
	type plain Catcher
	var p plain
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return err
	}
	if v, ok := fields["ResultPath"]; ok && string(bytes.TrimSpace(v)) == "null" {
		p.ResultPath = &Path{Null: true}
	}
	*c = Catcher(p)
	return nil
}

// Well-known error names of the States language.
const (
	ErrAll           = "States.ALL"
	ErrTimeout       = "States.Timeout"
	ErrTaskFailed    = "States.TaskFailed"
	ErrRuntime       = "States.Runtime"
	ErrNoChoice      = "States.NoChoiceMatched"
	ErrResultPath    = "States.ResultPathMatchFailure"
	ErrParameterPath = "States.ParameterPathFailure"
	ErrBranchFailed  = "States.BranchFailed"
)

// flow is the Next/End pair of non-terminal states.
func flow(next string, end bool) []string {
	if end || next == "" {
		return nil
	}
	return []string{next}
}

func catchTargets(cs []Catcher) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Next)
	}
	return out
}
