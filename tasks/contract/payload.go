package contract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/irflow/irflow/schemas"
	"github.com/irflow/irflow/tasks/incident"
)

// Payload is what a generated Task state sends (schemas/task-payload.v1).
type Payload struct {
	Action         string             `json:"action"`
	Step           string             `json:"step"`
	Mode           string             `json:"mode,omitempty"`
	With           json.RawMessage    `json:"with"`
	Incident       *incident.Incident `json:"incident,omitempty"`
	Target         *incident.Target   `json:"target,omitempty"`
	Execution      Execution          `json:"execution"`
	Input          json.RawMessage    `json:"input,omitempty"`
	TaskToken      string             `json:"taskToken,omitempty"`
	TimeoutSeconds int                `json:"timeoutSeconds,omitempty"`
	Previous       *Result            `json:"previous,omitempty"`
	// Chain is the audit chain's head as the step before left it, where
	// the compiler knows nothing else wrote between (taskrt appends the
	// start record after it, checked: audit.Chain.AppendOnHead).
	Chain   *ChainHead                 `json:"chain,omitempty"`
	Steps   map[string]json.RawMessage `json:"steps,omitempty"`
	Errors  map[string]StateError      `json:"errors,omitempty"`
	Error   *StateError                `json:"error,omitempty"`
	Outcome string                     `json:"outcome,omitempty"`
	Failure *Failure                   `json:"failure,omitempty"`
}

// Execution is $$.Execution of the Step Functions context object.
type Execution struct {
	ID        string          `json:"Id"`
	Name      string          `json:"Name,omitempty"`
	StartTime string          `json:"StartTime,omitempty"`
	RoleArn   string          `json:"RoleArn,omitempty"`
	Input     json.RawMessage `json:"Input,omitempty"`
}

// StateError is the {Error, Cause} a Catch stores.
type StateError struct {
	Error string `json:"Error"`
	Cause string `json:"Cause"`
}

// Failure is $.failure on the failure path: which step failed and how.
type Failure struct {
	Step    string      `json:"step"`
	Action  string      `json:"action"`
	Summary string      `json:"summary"`
	Error   *StateError `json:"error,omitempty"`
}

// DryRun reports whether the incident asks for a dry run.
func (p *Payload) DryRun() bool { return p.Incident != nil && p.Incident.DryRun }

// CaseID returns the incident's case id, or "".
func (p *Payload) CaseID() string {
	if p.Incident == nil {
		return ""
	}
	return p.Incident.CaseID
}

// Folder is the evidence folder of this step: its id, or the action name for
// the states the compiler inserts.
func (p *Payload) Folder() string {
	if p.Step != "" {
		return p.Step
	}
	return p.Action
}

// DecodeWith decodes the step's parameters into v, rejecting unknown keys
// (the generator already validated them against the catalog's schema). Keys
// must match the json tags exactly: encoding/json alone would take
// "allowSSM" for "allowSsm".
func (p *Payload) DecodeWith(v any) error {
	if len(p.With) == 0 || string(p.With) == "null" {
		return nil
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(p.With, &keys); err != nil {
		return &InvalidInputError{Field: "with", Reason: err.Error()}
	}
	known := jsonTags(v)
	for k := range keys {
		if known != nil && !known[k] {
			return &InvalidInputError{Field: "with." + k, Reason: "unknown parameter"}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(p.With))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &InvalidInputError{Field: "with", Reason: err.Error()}
	}
	return nil
}

// DecodePayload checks raw against task-payload.v1 and decodes it. Every
// rejection is an InvalidInputError naming the field (a JSON Pointer).
func DecodePayload(raw []byte) (*Payload, error) {
	var doc any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, &InvalidInputError{Field: "payload", Reason: "not JSON: " + err.Error()}
	}
	s, err := schemas.Compiled(schemas.TaskPayloadURL)
	if err != nil {
		return nil, fmt.Errorf("task payload schema: %w", err)
	}
	if err := s.Validate(doc); err != nil {
		return nil, schemaError(err)
	}
	var p Payload
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, &InvalidInputError{Field: "payload", Reason: err.Error()}
	}
	return &p, nil
}

// jsonTags returns the json names of the fields of the struct v points to,
// or nil when v is not a pointer to a struct.
func jsonTags(v any) map[string]bool {
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil
	}
	out := map[string]bool{}
	for i := 0; i < t.Elem().NumField(); i++ {
		f := t.Elem().Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = true
	}
	return out
}

// schemaError reduces a schema validation error to one leaf, named by the
// instance location: the first in (location, keyword) order, so the field a
// rejection names does not depend on the validator's internal order.
func schemaError(err error) error {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return &InvalidInputError{Field: "payload", Reason: err.Error()}
	}
	var leaves []*jsonschema.ValidationError
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			leaves = append(leaves, e)
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	sort.Slice(leaves, func(i, j int) bool {
		if leaves[i].InstanceLocation != leaves[j].InstanceLocation {
			return leaves[i].InstanceLocation < leaves[j].InstanceLocation
		}
		return leaves[i].KeywordLocation < leaves[j].KeywordLocation
	})
	ve = leaves[0]
	field := strings.TrimPrefix(ve.InstanceLocation, "/")
	if field == "" {
		field = "payload"
	}
	return &InvalidInputError{Field: strings.ReplaceAll(field, "/", "."), Reason: ve.Message}
}
