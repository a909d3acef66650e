package generator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
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
// accepts is what irflow accepts, with one difference of method: it selects
// each step's with: schema by the step's action itself, where an editor
// evaluates one if/then per catalog action for every step (which made a
// compile four times slower). schemas/playbook.v1.schema.json is a copy (a
// test fails when it is stale) and `irflow schema` prints it.
func PlaybookSchema() []byte {
	textOnce.Do(func() {
		doc, err := buildPlaybookSchema()
		if err != nil {
			panic(err) // the base schema and the catalog are embedded; a test compiles them
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(doc); err != nil {
			panic(err)
		}
		text = b.Bytes()
	})
	return text
}

var (
	textOnce sync.Once
	text     []byte // the editor schema, written on first use
)

type generatedSchema struct {
	// raw is compilerVariant, to explain errors from the schema itself.
	raw      any
	compiled *jsonschema.Schema            // compilerVariant
	with     map[string]*jsonschema.Schema // #/$defs/with/<action> of it
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
		// The variant is made of decoded JSON values (maps, slices,
		// float64s, strings): it can explain errors as it is.
		g.raw = compilerVariant(doc)
		variant, err := json.Marshal(g.raw)
		if err != nil {
			g.err = err
			return
		}
		names := authorActions()
		fragments := []string{""}
		for _, a := range names {
			fragments = append(fragments, "/$defs/with/"+a)
		}
		compiled, err := schemas.CompileAll(schemas.PlaybookURL, variant, fragments...)
		if err != nil {
			g.err = err
			return
		}
		g.compiled, g.with = compiled[0], map[string]*jsonschema.Schema{}
		for i, a := range names {
			g.with[a] = compiled[i+1]
		}
	})
	return &schemaGen
}

// compilerVariant is the schema the compiler validates with: the editor
// schema without what the compiler decides itself, with better words and
// positions: the if/then selection of with: by action (resolve validates
// each step's with: against its action's schema) and the decodeChecked
// constraints (decode reports them). Both would cost every step a failed
// subschema per alternative, errors built and thrown away.
func compilerVariant(doc map[string]any) map[string]any {
	out := maps.Clone(doc)
	defs := maps.Clone(doc["$defs"].(map[string]any))
	for name, d := range defs {
		def, ok := d.(map[string]any)
		if !ok || def["allOf"] == nil {
			continue
		}
		var kept []any
		for _, c := range def["allOf"].([]any) {
			sub, _ := c.(map[string]any)
			ref, _ := sub["$ref"].(string)
			if _, sel := sub["if"]; !sel && !slices.Contains(decodeChecked, ref) {
				kept = append(kept, c)
			}
		}
		def = maps.Clone(def)
		if len(kept) == 0 {
			delete(def, "allOf")
		} else {
			def["allOf"] = kept
		}
		defs[name] = def
	}
	out["$defs"] = defs
	return out
}

// withSchema is the validator of an action's with: (nil for an action a
// playbook cannot name).
func withSchema(action string) *jsonschema.Schema {
	return loadPlaybookSchema().with[action]
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
		// What the compiler sets from the playbook is not the step's to
		// write: an editor does not offer it (resolveWith refuses it).
		if props, ok := params["properties"].(map[string]any); ok && len(a.Reserved) > 0 {
			props = maps.Clone(props)
			for _, k := range a.Reserved {
				delete(props, k)
			}
			params["properties"] = props
		}
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
// onReject, an onReject on a step that is not an approval. The compiler's
// variant of the schema leaves them out.
var decodeChecked = []string{"#/$defs/exactlyOneKind", "#/$defs/noApprovalInParallel",
	"#/$defs/noApprovalInOnReject", "#/$defs/onRejectNeedsApproval", "#/$defs/noApprovalInForEach", "#/$defs/stepsNeedForEach"}

// rawSchema returns the decoded schema document the compiler validates with.
func rawSchema(url string) (any, bool) {
	g := loadPlaybookSchema()
	if g.err != nil || url != schemas.PlaybookURL {
		return nil, false
	}
	return g.raw, true
}
