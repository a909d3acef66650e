package scenario

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/irflow/irflow/generator/diag"
)

// File is a parsed *.test.yaml.
type File struct {
	// Playbook is the playbook's path, relative to the test file.
	Playbook string
	Cases    []Case
}

// Case is one simulated run and what it must show.
type Case struct {
	Name string
	Line int
	// Input is the execution input: the JSON of an inline object, or nil
	// when InputPath names a file (relative to the test file).
	Input     []byte
	InputPath string
	// LaunchType is simulate's --launch-type: what a console input's task runs on.
	LaunchType string
	// Decisions maps approval step ids to approve, reject or timeout.
	Decisions map[string]string
	// Failures maps step ids to the error name each of their tries throws.
	Failures map[string]string
	Expect   Expect
}

// Expect is what a case's run must show; unset fields are not checked.
type Expect struct {
	Status  string
	Outcome string
	// Ran are steps that ran and succeeded (OK or DRY_RUN; APPROVED for a gate).
	Ran []string
	// NotRan are steps that did not: never reached, skipped by when:,
	// failed, rejected or timed out.
	NotRan []string
	// Order are steps in the order of their first state in the run.
	Order []string
}

// Decisions of a gate in a case.
const (
	Approve = "approve"
	Reject  = "reject"
	Timeout = "timeout"
)

// ParseError is what is wrong with a test file, with its position.
type ParseError struct {
	File       string
	Line, Col  int
	Message    string
	Suggestion string
}

func (e *ParseError) Error() string {
	s := fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Message)
	if e.Suggestion != "" {
		s += " (" + e.Suggestion + ")"
	}
	return s
}

// The keys of a test file, of a case and of its expect, in the order
// irflow fmt writes them.
var (
	FileKeys   = []string{"apiVersion", "kind", "playbook", "cases"}
	CaseKeys   = []string{"name", "input", "launchType", "decisions", "failures", "expect"}
	ExpectKeys = []string{"status", "outcome", "ran", "notRan", "order"}
)

// Parse reads a test file. Unknown keys (with a did-you-mean), wrong kinds
// of values and a missing playbook or case name are errors at their line.
func Parse(src []byte, filename string) (*File, error) {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(src)).Decode(&doc); err != nil {
		return nil, &ParseError{File: filename, Line: 1, Col: 1, Message: "not YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	p := &parser{file: filename}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	f := &File{}
	p.mapping(root, FileKeys, func(k string, v *yaml.Node) {
		switch k {
		case "apiVersion":
			p.constant(v, "irflow/v1")
		case "kind":
			p.constant(v, "PlaybookTest")
		case "playbook":
			f.Playbook = p.str(v)
		case "cases":
			for _, c := range p.seq(v) {
				f.Cases = append(f.Cases, p.testCase(c))
			}
		}
	})
	switch {
	case p.err != nil:
		return nil, p.err
	case f.Playbook == "":
		return nil, &ParseError{File: filename, Line: root.Line, Col: root.Column, Message: "missing playbook: the playbook file, relative to this one"}
	case len(f.Cases) == 0:
		return nil, &ParseError{File: filename, Line: root.Line, Col: root.Column, Message: "no cases"}
	}
	return f, nil
}

// parser keeps the first error; later calls do nothing once there is one.
type parser struct {
	file string
	err  *ParseError
}

func (p *parser) fail(n *yaml.Node, hint, format string, args ...any) {
	if p.err == nil {
		p.err = &ParseError{File: p.file, Line: n.Line, Col: n.Column, Message: fmt.Sprintf(format, args...), Suggestion: hint}
	}
}

func (p *parser) mapping(n *yaml.Node, keys []string, each func(k string, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		p.fail(n, "", "expected a mapping of %s", strings.Join(keys, ", "))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content) && p.err == nil; i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case !slices.Contains(keys, k.Value):
			p.fail(k, diag.DidYouMean(k.Value, keys), "unknown key %q (keys: %s)", k.Value, strings.Join(keys, ", "))
		case seen[k.Value]:
			p.fail(k, "", "key %q is defined twice", k.Value)
		default:
			seen[k.Value] = true
			each(k.Value, v)
		}
	}
}

func (p *parser) str(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.fail(n, "", "expected a string")
		return ""
	}
	return n.Value
}

func (p *parser) constant(n *yaml.Node, want string) {
	if s := p.str(n); p.err == nil && s != want {
		p.fail(n, "", "must be %s", want)
	}
}

func (p *parser) seq(n *yaml.Node) []*yaml.Node {
	if n.Kind != yaml.SequenceNode {
		p.fail(n, "", "expected a list")
		return nil
	}
	return n.Content
}

func (p *parser) strs(n *yaml.Node) []string {
	var out []string
	for _, it := range p.seq(n) {
		out = append(out, p.str(it))
	}
	return out
}

func (p *parser) strMap(n *yaml.Node, values []string) map[string]string {
	out := map[string]string{}
	if n.Kind != yaml.MappingNode {
		p.fail(n, "", "expected a mapping of step ids")
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		v := p.str(n.Content[i+1])
		if values != nil && !slices.Contains(values, v) && p.err == nil {
			p.fail(n.Content[i+1], diag.DidYouMean(v, values), "%q is not one of %s", v, strings.Join(values, ", "))
		}
		out[n.Content[i].Value] = v
	}
	return out
}

func (p *parser) testCase(n *yaml.Node) Case {
	c := Case{Line: n.Line}
	p.mapping(n, CaseKeys, func(k string, v *yaml.Node) {
		switch k {
		case "name":
			c.Name = p.str(v)
		case "input":
			if v.Kind == yaml.ScalarNode {
				c.InputPath = p.str(v)
				return
			}
			var in any
			if err := v.Decode(&in); err != nil {
				p.fail(v, "", "input: %v", err)
				return
			}
			b, err := json.Marshal(in)
			if err != nil {
				p.fail(v, "a path to a JSON file, or an object", "input is not JSON: %v", err)
			}
			c.Input = b
		case "launchType":
			c.LaunchType = p.str(v)
		case "decisions":
			c.Decisions = p.strMap(v, []string{Approve, Reject, Timeout})
		case "failures":
			c.Failures = p.strMap(v, nil)
		case "expect":
			p.mapping(v, ExpectKeys, func(k string, v *yaml.Node) {
				switch k {
				case "status":
					c.Expect.Status = p.str(v)
				case "outcome":
					c.Expect.Outcome = p.str(v)
				case "ran":
					c.Expect.Ran = p.strs(v)
				case "notRan":
					c.Expect.NotRan = p.strs(v)
				case "order":
					c.Expect.Order = p.strs(v)
				}
			})
		}
	})
	if c.Name == "" && p.err == nil {
		p.fail(n, "", "a case needs a name")
	}
	if c.Input == nil && c.InputPath == "" && p.err == nil {
		p.fail(n, "a path to a JSON file, relative to this one, or an inline object", "case %q has no input", c.Name)
	}
	return c
}
