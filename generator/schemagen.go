package generator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/irflow/irflow/generator/internal/playbook"
	"github.com/irflow/irflow/schemas"
	"github.com/irflow/irflow/tasks/catalog"
)

// PlaybookSchema returns the playbook JSON Schema (irflow/v1): the
// language's base schema (generator/internal/playbook/schema.json)
// completed from the catalog, so an editor knows what the compiler knows:
// every action's with: parameters (types, defaults, descriptions), selected
// by action:, the action names and the known finding types as completion
// values. The compiler validates with this very schema, so what an editor
// accepts is what irflow accepts. schemas/playbook.v1.schema.json is a
// copy (a test fails when it is stale) and `irflow schema` prints it.
func PlaybookSchema() []byte {
	s := loadPlaybookSchema()
	return s.text
}

type generatedSchema struct {
	text     []byte
	raw      any // the decoded text, to explain errors from the schema itself
	compiled *jsonschema.Schema
	err      error
}

var (
	schemaOnce sync.Once
	schemaGen  generatedSchema
)

// loadPlaybookSchema builds and compiles the schema once per process: it is
// a constant of the binary (the base and the catalog are embedded).
func loadPlaybookSchema() *generatedSchema {
	schemaOnce.Do(func() {
		g := &schemaGen
		doc, err := buildPlaybookSchema()
		if err != nil {
			g.err = err
			return
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if g.err = enc.Encode(doc); g.err != nil {
			return
		}
		g.text = b.Bytes()
		if g.err = json.Unmarshal(g.text, &g.raw); g.err != nil {
			return
		}
		g.compiled, g.err = schemas.Compile(schemas.PlaybookURL, g.text)
	})
	return &schemaGen
}

// buildPlaybookSchema adds the catalog's parts to the base schema.
func buildPlaybookSchema() (map[string]any, error) {
	var doc map[string]any
	if err := json.Unmarshal(playbook.BaseSchema, &doc); err != nil {
		return nil, fmt.Errorf("base schema: %w", err)
	}
	defs, _ := doc["$defs"].(map[string]any)
	step, _ := defs["step"].(map[string]any)
	props, _ := step["properties"].(map[string]any)
	action, _ := props["action"].(map[string]any)
	findingType, _ := defs["findingType"].(map[string]any)
	if defs == nil || step == nil || props == nil || action == nil || findingType == nil {
		return nil, fmt.Errorf("base schema: $defs step, step.properties.action and findingType are required")
	}
	withDefs := map[string]any{}
	allOf, _ := step["allOf"].([]any)
	var names []any
	for _, a := range catalog.All() {
		if a.Inserted {
			continue
		}
		names = append(names, a.Name)
		var params map[string]any
		if err := json.Unmarshal(a.Params, &params); err != nil {
			return nil, fmt.Errorf("catalog %s params: %w", a.Name, err)
		}
		delete(params, "$schema") // only a schema resource's root may name its dialect
		params["description"] = fmt.Sprintf("Parameters of %s: %s", a.Name, a.Description)
		withDefs[a.Name] = params
		allOf = append(allOf, map[string]any{
			"if":   map[string]any{"required": []any{"action"}, "properties": map[string]any{"action": map[string]any{"const": a.Name}}},
			"then": map[string]any{"properties": map[string]any{"with": map[string]any{"$ref": "#/$defs/with/" + a.Name}}},
		})
	}
	defs["with"] = withDefs
	step["allOf"] = allOf
	action["examples"] = names
	findingType["examples"] = findingTypeExamples()
	return doc, nil
}

// findingTypeExamples are the completion values of a finding type: every
// known ECS runtime type, then each category as a prefix pattern.
func findingTypeExamples() []any {
	var out []any
	var prefixes []string
	for _, t := range KnownFindingTypes() {
		out = append(out, t)
		if p := t[:strings.IndexByte(t, '/')+1] + "*"; !slices.Contains(prefixes, p) {
			prefixes = append(prefixes, p)
		}
	}
	for _, p := range prefixes {
		out = append(out, p)
	}
	return out
}

// decodeChecked are the parts of the schema that guide editors about what
// the decode pass reports itself, with a better message and position: a
// step that is not exactly one kind, an approval inside a parallel or an
// onReject, an onReject on a step that is not an approval. The schema pass
// drops their errors.
var decodeChecked = []string{"#/$defs/exactlyOneKind", "#/$defs/noApprovalInParallel",
	"#/$defs/noApprovalInOnReject", "#/$defs/onRejectNeedsApproval"}

// rawSchema returns the decoded schema document the compiler validates with.
func rawSchema(url string) (any, bool) {
	g := loadPlaybookSchema()
	if g.err != nil || url != schemas.PlaybookURL {
		return nil, false
	}
	return g.raw, true
}
