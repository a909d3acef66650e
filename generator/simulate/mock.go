package simulate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/generator/internal/sim"
	"github.com/irflow/irflow/schemas"
	"github.com/irflow/irflow/tasks/catalog"
	"github.com/irflow/irflow/tasks/contract"
)

// MockOptions configure the simulated actions.
type MockOptions struct {
	// LaunchType is what resolve-target reports for a console input (which
	// names only a task ARN): EC2 or FARGATE; empty means FARGATE.
	LaunchType string
	// UnconfirmedFinding makes the simulated GuardDuty not know the input's
	// finding, as for a hand-made one: resolve-target refuses it
	// (INVALID_INPUT naming detail.id). By default the simulated GuardDuty
	// confirms the finding the input holds, as GuardDuty confirms the
	// findings it published (the sample findings of examples/inputs).
	UnconfirmedFinding bool
}

// MockHandlers returns a simulated handler for every catalog action.
// resolve-target validates and normalizes the input with the real code
// (tasks/incident.Normalize), so a bad input fails exactly as in AWS, with
// an InvalidInputError naming the field; it then describes a plausible task
// of the launch type. Every other action returns a plausible result as
// docs/internals.md fixes it: all four keys, outputs.done for async actions
// (false from start, true from check), DRY_RUN from mutating actions under
// dryRun, evidence with the real SHA-256 of the simulated content. Every
// payload is checked against schemas/task-payload.v1 first, as the real
// handlers do.
func MockHandlers(opts MockOptions) Handlers {
	m := &mocker{launchType: opts.LaunchType, unconfirmed: opts.UnconfirmedFinding}
	h := Handlers{}
	for _, a := range catalog.All() {
		h[a.Name] = m.handler(a)
	}
	return h
}

type mocker struct {
	launchType  string
	unconfirmed bool
}

// mockPayload is the task payload, the contract's type (one declaration:
// tasks/contract), as the mocks read it: its with: decoded into a map, and
// the virtual time of the call (zero outside a simulation).
type mockPayload struct {
	contract.Payload
	with map[string]any
	now  time.Time
}

// caseID is the incident's case id, or "unresolved" before resolve-target.
func (p *mockPayload) caseID() string {
	if id := p.CaseID(); id != "" {
		return id
	}
	return "unresolved"
}

// mockResult is a task result, the contract's type, with the mocks'
// helpers. Chain stays null: a mock writes no audit records.
type mockResult struct{ contract.Result }

func result(status, format string, args ...any) *mockResult {
	return &mockResult{contract.Result{Status: status, Summary: fmt.Sprintf(format, args...), Evidence: []contract.Evidence{}, Outputs: map[string]any{}}}
}

func (r *mockResult) with(kv ...any) *mockResult {
	for i := 0; i+1 < len(kv); i += 2 {
		r.Outputs[kv[i].(string)] = kv[i+1]
	}
	return r
}

// store adds a simulated evidence object with the real hash of its content.
func (r *mockResult) store(p *mockPayload, file string, content []byte) *mockResult {
	sum := sha256.Sum256(content)
	r.Evidence = append(r.Evidence, contract.Evidence{
		URI:    fmt.Sprintf("s3://irflow-evidence-simulated/cases/%s/%s/%s", p.caseID(), p.Folder(), file),
		SHA256: hex.EncodeToString(sum[:]), Bytes: int64(len(content)),
	})
	return r
}

// handler wraps an action's mock: payload checked and decoded, result encoded.
func (m *mocker) handler(a *catalog.Action) TaskHandler {
	run := m.action(a)
	return func(ctx context.Context, raw json.RawMessage) (json.RawMessage, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p, err := decodeMockPayload(raw)
		if err != nil {
			return nil, err
		}
		p.now = nowFrom(ctx)
		if p.Action != a.Name {
			return nil, invalidInput("action", fmt.Sprintf("is %q; this is the %s function", p.Action, a.Name))
		}
		if p.Action != "resolve-target" && p.Input == nil && (p.Incident == nil || p.Target == nil) {
			return nil, invalidInput("incident", "is required")
		}
		res, err := run(p)
		if err != nil {
			return nil, err
		}
		return json.Marshal(res)
	}
}

func invalidInput(field, reason string) error {
	return &TaskError{Name: generator.ErrInvalidInput, Message: fmt.Sprintf("invalid input: %s: %s", field, reason)}
}

// decodeMockPayload checks the payload against task-payload.v1 and decodes
// it; a rejection names the field, as the real handlers' does.
func decodeMockPayload(raw []byte) (*mockPayload, error) {
	if err := checkPayload(raw); err != nil {
		return nil, err
	}
	var p mockPayload
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&p.Payload); err != nil {
		return nil, invalidInput("payload", err.Error())
	}
	if len(p.Payload.With) > 0 {
		if err := json.Unmarshal(p.Payload.With, &p.with); err != nil {
			return nil, invalidInput("with", err.Error())
		}
	}
	return &p, nil
}

func checkPayload(raw []byte) error {
	doc, err := sim.Decode(raw)
	if err != nil {
		return invalidInput("payload", "not JSON: "+err.Error())
	}
	s, err := schemas.Compiled(schemas.TaskPayloadURL)
	if err != nil {
		return err
	}
	if err := s.Validate(doc); err != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			return invalidInput("payload", err.Error())
		}
		ve = firstLeaf(ve)
		field := strings.ReplaceAll(strings.TrimPrefix(ve.InstanceLocation, "/"), "/", ".")
		if field == "" {
			field = "payload"
		}
		return invalidInput(field, ve.Message)
	}
	return nil
}

// firstLeaf picks one innermost schema error deterministically (the
// validator's order of causes is not): the first by instance location.
func firstLeaf(ve *jsonschema.ValidationError) *jsonschema.ValidationError {
	if len(ve.Causes) == 0 {
		return ve
	}
	var best *jsonschema.ValidationError
	for _, c := range ve.Causes {
		leaf := firstLeaf(c)
		if best == nil || leaf.InstanceLocation < best.InstanceLocation ||
			leaf.InstanceLocation == best.InstanceLocation && leaf.Message < best.Message {
			best = leaf
		}
	}
	return best
}

// mockID is a deterministic hex id of n characters for what the parts name.
func mockID(n int, parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:])[:n]
}

// mockJSON is simulated evidence content: indented JSON.
func mockJSON(v any) []byte {
	b, _ := json.MarshalIndent(v, "", "  ")
	return append(b, '\n')
}

func jsonUnmarshal(raw []byte, v any) error { return json.Unmarshal(raw, v) }
