package generator

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/irflow/irflow/generator/diag"
)

// checkSchema validates the document against playbook.v1 and maps every
// leaf error back to the line of the offending value (or key).
func (c *compilation) checkSchema() {
	g := loadPlaybookSchema()
	if g.err != nil {
		c.errorAt(diag.CodeSchema, "", "", "internal error: "+g.err.Error())
		return
	}
	c.schemaErrors(g.compiled.Validate(c.doc.Value), "", c.doc.Value)
	c.checkText()
}

// schemaErrors reports a jsonschema validation error; base is the JSON
// Pointer of the validated value inside the playbook and value the value.
func (c *compilation) schemaErrors(err error, base string, value any) {
	if err == nil {
		return
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		c.errorAt(diag.CodeSchema, base, "", err.Error())
		return
	}
	for _, leaf := range leaves(ve) {
		c.schemaLeaf(leaf, base, value)
	}
}

// leaves returns the innermost errors.
func leaves(ve *jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(ve.Causes) == 0 {
		return []*jsonschema.ValidationError{ve}
	}
	var out []*jsonschema.ValidationError
	for _, c := range ve.Causes {
		out = append(out, leaves(c)...)
	}
	return out
}

func (c *compilation) schemaLeaf(ve *jsonschema.ValidationError, base string, root any) {
	loc := instancePointer(ve.InstanceLocation)
	ptr := base + loc
	inst, _ := lookup(root, loc)
	keyword := ve.KeywordLocation[strings.LastIndexByte(ve.KeywordLocation, '/')+1:]
	field := fieldName(ptr)
	if strings.Contains(ve.KeywordLocation, "/propertyNames/") {
		// The key itself is wrong; the location names the key (its value is
		// beside the point).
		toks := pointerTokens(ptr)
		key := toks[len(toks)-1]
		msg := fmt.Sprintf("key %q%s is not in the expected format", key, inField(fieldName(parentPointer(ptr))))
		if keyword != "pattern" {
			msg = fmt.Sprintf("key %q%s: %s", key, inField(fieldName(parentPointer(ptr))), ve.Message)
		}
		c.errorAtKey(diag.CodeSchema, ptr, schemaPatternHint(ve.AbsoluteKeywordLocation), msg)
		return
	}
	switch keyword {
	case "additionalProperties":
		obj, _ := inst.(map[string]any)
		allowed := schemaProperties(ve.AbsoluteKeywordLocation)
		for _, k := range unknownKeys(obj, allowed) {
			where := "here"
			if field != "" {
				where = "in " + field
			}
			c.errorAtKey(diag.CodeSchema, ptr+"/"+escape(k), hintForKey(k, allowed), fmt.Sprintf("unknown key %q %s", k, where))
		}
	case "required":
		obj, _ := inst.(map[string]any)
		for _, k := range requiredMissing(ve.AbsoluteKeywordLocation, obj) {
			c.errorAt(diag.CodeSchema, ptr, "", fmt.Sprintf("missing required key %q%s", k, inField(field)))
		}
	case "enum":
		opts := schemaEnum(ve.AbsoluteKeywordLocation)
		c.errorAt(diag.CodeSchema, ptr, enumHint(inst, opts), fmt.Sprintf("%s %s is not one of %s", fieldOr(field, "value"), show(inst), strings.Join(opts, ", ")))
	case "const":
		c.errorAt(diag.CodeSchema, ptr, "", fmt.Sprintf("%s must be %s", fieldOr(field, "value"), strings.TrimPrefix(ve.Message, "value must be ")))
	case "pattern":
		hint := schemaPatternHint(ve.AbsoluteKeywordLocation)
		c.errorAt(diag.CodeSchema, ptr, hint, fmt.Sprintf("%s %s is not in the expected format", fieldOr(field, "value"), show(inst)))
	case "type":
		c.errorAt(diag.CodeSchema, ptr, "", fmt.Sprintf("%s: %s", fieldOr(field, "value"), ve.Message))
	default:
		c.errorAt(diag.CodeSchema, ptr, "", fmt.Sprintf("%s: %s", fieldOr(field, "value"), ve.Message))
	}
}

func inField(field string) string {
	if field == "" {
		return ""
	}
	return " in " + field
}

func fieldOr(field, dflt string) string {
	if field == "" {
		return dflt
	}
	return field
}

// fieldName names the value at a pointer for a message: the last key, or
// key[index] for array items ("steps[2]").
func fieldName(ptr string) string {
	toks := pointerTokens(ptr)
	if len(toks) == 0 {
		return ""
	}
	last := toks[len(toks)-1]
	if _, err := strconv.Atoi(last); err == nil && len(toks) > 1 {
		return toks[len(toks)-2] + "[" + last + "]"
	}
	return last
}

func show(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(truncate(x, 60))
	case nil:
		return "null"
	default:
		b, _ := json.Marshal(x)
		return truncate(string(b), 60)
	}
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

func unknownKeys(obj map[string]any, allowed []string) []string {
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	var out []string
	for k := range obj {
		if !ok[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func hintForKey(k string, allowed []string) string {
	if h := diag.DidYouMean(k, allowed); h != "" {
		return h
	}
	if len(allowed) > 0 && len(allowed) <= 12 {
		return "allowed: " + strings.Join(allowed, ", ")
	}
	return ""
}

func enumHint(v any, opts []string) string {
	s, ok := v.(string)
	if !ok {
		return ""
	}
	var plain []string
	for _, o := range opts {
		plain = append(plain, strings.Trim(o, `"`))
	}
	return diag.DidYouMean(s, plain)
}

// --- schema lookups by absolute keyword location -------------------------

// schemaNode returns the raw schema object at an absolute keyword location
// such as https://irflow.dev/schemas/playbook.v1.schema.json#/$defs/step/required.
func schemaNode(absLoc string) (map[string]any, bool) {
	i := strings.IndexByte(absLoc, '#')
	if i < 0 {
		return nil, false
	}
	doc, ok := rawSchema(absLoc[:i])
	if !ok {
		return nil, false
	}
	frag, err := url.PathUnescape(absLoc[i+1:])
	if err != nil {
		return nil, false
	}
	v, ok := lookup(doc, frag)
	m, _ := v.(map[string]any)
	return m, ok && m != nil
}

// parentSchema returns the schema object holding the keyword at absLoc.
func parentSchema(absLoc string) (map[string]any, bool) {
	return schemaNode(absLoc[:strings.LastIndexByte(absLoc, '/')])
}

func schemaProperties(absLoc string) []string {
	s, ok := parentSchema(absLoc)
	if !ok {
		return nil
	}
	props, _ := s["properties"].(map[string]any)
	return slices.Sorted(maps.Keys(props))
}

func requiredMissing(absLoc string, obj map[string]any) []string {
	s, ok := parentSchema(absLoc)
	if !ok {
		return nil
	}
	req, _ := s["required"].([]any)
	var out []string
	for _, r := range req {
		k, _ := r.(string)
		if _, has := obj[k]; !has {
			out = append(out, k)
		}
	}
	return out
}

func schemaEnum(absLoc string) []string {
	s, ok := parentSchema(absLoc)
	if !ok {
		return nil
	}
	vals, _ := s["enum"].([]any)
	var out []string
	for _, v := range vals {
		b, _ := json.Marshal(v)
		out = append(out, string(b))
	}
	return out
}

// schemaPatternHint explains a pattern in words: its patternErrorMessage
// (what editors show too), else its description.
func schemaPatternHint(absLoc string) string {
	s, ok := parentSchema(absLoc)
	if !ok {
		return ""
	}
	if m, _ := s["patternErrorMessage"].(string); m != "" {
		return m
	}
	d, _ := s["description"].(string)
	return strings.TrimSuffix(lowerFirst(d), ".")
}

func lowerFirst(s string) string {
	if s == "" || (len(s) > 1 && s[1] >= 'A' && s[1] <= 'Z') {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// lookup follows a JSON Pointer through decoded JSON values.
func lookup(v any, ptr string) (any, bool) {
	for _, tok := range pointerTokens(ptr) {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[tok]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// instancePointer turns the validator's instance location, whose tokens
// are URL path-escaped ("team%23"), into an RFC 6901 JSON Pointer.
func instancePointer(loc string) string {
	toks := strings.Split(loc, "/")
	for i, t := range toks {
		if u, err := url.PathUnescape(t); err == nil {
			toks[i] = u
		}
	}
	return strings.Join(toks, "/")
}

// parentPointer drops the last token of a JSON Pointer.
func parentPointer(ptr string) string {
	if i := strings.LastIndexByte(ptr, '/'); i >= 0 {
		return ptr[:i]
	}
	return ""
}

func pointerTokens(ptr string) []string {
	if ptr == "" {
		return nil
	}
	parts := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	for i, p := range parts {
		p = strings.ReplaceAll(p, "~1", "/")
		parts[i] = strings.ReplaceAll(p, "~0", "~")
	}
	return parts
}

func escape(s string) string {
	s = strings.ReplaceAll(s, "~", "~0")
	return strings.ReplaceAll(s, "/", "~1")
}
