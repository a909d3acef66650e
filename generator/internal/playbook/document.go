package playbook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/irflow/irflow/generator/diag"
	"github.com/irflow/irflow/tasks/termsafe"
)

// Limits on what a playbook file may be, so hostile input costs little.
const (
	MaxBytes = 1 << 20 // a playbook larger than 1 MiB is not a playbook
	MaxDepth = 64      // nesting of mappings and sequences
	MaxNodes = 200_000 // nodes after alias expansion ("billion laughs")
)

// Pos is a 1-based line and column in the playbook file.
type Pos struct {
	Line   int
	Column int
}

// Document is a parsed YAML playbook: its JSON-shaped value for schema
// validation, and the position of every value and mapping key by JSON Pointer,
// so any diagnostic can point at a line.
type Document struct {
	File  string
	Value any
	vals  map[string]Pos
	keys  map[string]Pos
}

// Pos returns the position of the value at the JSON Pointer, or of its
// nearest existing ancestor, so even a missing property points somewhere useful.
func (d *Document) Pos(ptr string) Pos {
	for {
		if p, ok := d.vals[ptr]; ok {
			return p
		}
		if ptr == "" {
			return Pos{1, 1}
		}
		ptr = parentPointer(ptr)
	}
}

// KeyPos returns the position of the mapping key whose value is at ptr, or
// Pos(ptr) when ptr is not a mapping entry.
func (d *Document) KeyPos(ptr string) Pos {
	if p, ok := d.keys[ptr]; ok {
		return p
	}
	return d.Pos(ptr)
}

// Has reports whether a value exists at the pointer.
func (d *Document) Has(ptr string) bool {
	_, ok := d.vals[ptr]
	return ok
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// Parse decodes one YAML document into a Document. Errors are diagnostics
// with code yaml (or limit) and a line. A document with errors in some of
// its mappings is still returned, so the rest of it can be checked; a
// syntax error or a limit returns none.
func Parse(src []byte, file string) (*Document, diag.Diagnostics) {
	errAt := func(code string, line, col int, msg, hint string) diag.Diagnostics {
		return diag.Diagnostics{{Severity: diag.Error, Code: code, File: file, Line: line, Column: col, Path: "", Message: msg, Hint: hint}}
	}
	if len(src) > MaxBytes {
		return nil, errAt(diag.CodeLimit, 1, 1, fmt.Sprintf("file is %d bytes; a playbook may have at most %d", len(src), MaxBytes), "split it into several playbooks")
	}
	if bytes.IndexByte(src, 0) >= 0 {
		line := bytes.Count(src[:bytes.IndexByte(src, 0)], []byte("\n")) + 1
		return nil, errAt(diag.CodeYAML, line, 1, "file contains a NUL byte", "a playbook is UTF-8 text")
	}
	if line, col, r, ok := controlByte(src); ok {
		return nil, errAt(diag.CodeYAML, line, col, fmt.Sprintf("control character %s is not allowed in a playbook", termsafe.Name(r)),
			"write text in plain characters: prompts and titles reach approvers' terminals")
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errAt(diag.CodeYAML, 1, 1, "empty document", "start with apiVersion: irflow/v1")
		}
		return nil, yamlError(file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, errAt(diag.CodeYAML, extra.Line, extra.Column, "more than one YAML document", "put one playbook per file")
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlError(file, err)
	}
	doc := &Document{File: file, vals: map[string]Pos{}, keys: map[string]Pos{}}
	c := converter{doc: doc}
	node := &root
	if node.Kind == yaml.DocumentNode && len(node.Content) == 1 {
		node = node.Content[0]
	}
	doc.Value = c.convert(node, "", 0)
	for _, d := range c.diags {
		if d.Code == diag.CodeLimit {
			return nil, c.diags // a document this large is not checked further
		}
	}
	// A duplicate key (the first value is kept), a key that is not a
	// string (left out) or a bad merge key spoil one mapping, not the file:
	// the passes after this one still check the rest.
	return doc, c.diags
}

// controlByte finds the first raw C0 control (other than tab, line feed and
// carriage return), DEL or C1 control in src. YAML refuses them too, but
// yaml.v3 reports no usable position; this names the line and column.
func controlByte(src []byte) (line, col int, r rune, found bool) {
	line, col = 1, 1
	for _, c := range string(src) {
		switch {
		case c == '\n':
			line, col = line+1, 1
			continue
		case c == '\t' || c == '\r':
		case c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f):
			return line, col, c, true
		}
		col++
	}
	return 0, 0, 0, false
}

// parserErrors are YAML parser (not scanner) messages, whose reported
// line is 0-based (a quirk of the YAML library); scanner errors report 1-based lines.
var parserErrors = []string{
	"did not find expected node content", "did not find expected key", "did not find expected ',' or ']'",
	"did not find expected ',' or '}'", "did not find expected '-' indicator", "did not find expected <document start>",
}

func yamlError(file string, err error) diag.Diagnostics {
	msg := err.Error()
	line := 1
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		for _, p := range parserErrors {
			if strings.Contains(msg, p) {
				line++
				break
			}
		}
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	msg = yamlLine.ReplaceAllString(msg, "")
	msg = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(msg), ":"))
	return diag.Diagnostics{{Severity: diag.Error, Code: diag.CodeYAML, File: file, Line: line, Column: 1, Message: msg}}
}

// converter turns YAML nodes into JSON-shaped values while recording positions.
type converter struct {
	doc   *Document
	nodes int
	diags diag.Diagnostics
}

func (c *converter) fail(code string, n *yaml.Node, ptr, msg, hint string) {
	if len(c.diags) > 0 && code == diag.CodeLimit {
		return
	}
	c.diags = append(c.diags, diag.Diagnostic{Severity: diag.Error, Code: code, File: c.doc.File,
		Line: n.Line, Column: n.Column, Path: ptr, Message: msg, Hint: hint})
}

func (c *converter) convert(n *yaml.Node, ptr string, depth int) any {
	c.nodes++
	if c.nodes > MaxNodes {
		c.fail(diag.CodeLimit, n, ptr, fmt.Sprintf("document expands to more than %d nodes", MaxNodes), "do not build playbooks from nested aliases")
		return nil
	}
	if depth > MaxDepth {
		c.fail(diag.CodeLimit, n, ptr, fmt.Sprintf("nesting deeper than %d levels", MaxDepth), "")
		return nil
	}
	if _, seen := c.doc.vals[ptr]; !seen {
		c.doc.vals[ptr] = Pos{n.Line, n.Column}
	}
	switch n.Kind {
	case yaml.AliasNode:
		return c.convert(n.Alias, ptr, depth+1)
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil
		}
		return c.convert(n.Content[0], ptr, depth)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for i, item := range n.Content {
			out = append(out, c.convert(item, ptr+"/"+strconv.Itoa(i), depth+1))
		}
		return out
	case yaml.MappingNode:
		return c.mapping(n, ptr, depth)
	case yaml.ScalarNode:
		return c.scalar(n, ptr)
	}
	c.fail(diag.CodeYAML, n, ptr, "unsupported YAML node", "")
	return nil
}

func (c *converter) mapping(n *yaml.Node, ptr string, depth int) map[string]any {
	out := map[string]any{}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			c.fail(diag.CodeYAML, k, ptr, "mapping keys must be plain strings", "")
			continue
		}
		key := k.Value
		child := ptr + "/" + escapePointer(key)
		if _, dup := out[key]; dup {
			c.fail(diag.CodeYAML, k, child, fmt.Sprintf("key %q is defined twice", key), "keep one of them")
			continue
		}
		c.doc.keys[child] = Pos{k.Line, k.Column}
		out[key] = c.convert(v, child, depth+1)
	}
	// A merge key (<<: *anchor) fills in keys the mapping does not set itself.
	for _, m := range merges {
		srcs := []*yaml.Node{m}
		if m.Kind == yaml.SequenceNode {
			srcs = m.Content
		}
		for _, s := range srcs {
			v := c.convert(s, ptr, depth+1)
			mm, ok := v.(map[string]any)
			if !ok {
				c.fail(diag.CodeYAML, s, ptr, "merge key (<<) must refer to a mapping", "")
				continue
			}
			for k, val := range mm {
				if _, set := out[k]; !set {
					out[k] = val
				}
			}
		}
	}
	return out
}

func (c *converter) scalar(n *yaml.Node, ptr string) any {
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err == nil {
			return b
		}
	case "!!int":
		var i int64
		if err := n.Decode(&i); err == nil {
			return json.Number(strconv.FormatInt(i, 10))
		}
		c.fail(diag.CodeYAML, n, ptr, fmt.Sprintf("integer %s is out of range", n.Value), "")
		return nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err == nil {
			s := strconv.FormatFloat(f, 'g', -1, 64)
			if strings.ContainsAny(s, "NI") { // NaN, Inf: not JSON numbers
				return n.Value
			}
			return json.Number(s)
		}
	}
	// !!str, !!timestamp, !!binary and custom tags stay the text the author wrote.
	return n.Value
}

// escapePointer escapes one JSON Pointer reference token (RFC 6901).
func escapePointer(s string) string {
	s = strings.ReplaceAll(s, "~", "~0")
	return strings.ReplaceAll(s, "/", "~1")
}

// parentPointer drops the last reference token of a JSON Pointer.
func parentPointer(ptr string) string {
	i := strings.LastIndexByte(ptr, '/')
	if i < 0 {
		return ""
	}
	return ptr[:i]
}
