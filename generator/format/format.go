package format

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Width is where folded text (>) is wrapped.
const Width = 80

// SyntaxError is a file the formatter cannot read as one YAML document.
type SyntaxError struct {
	File string
	Err  error
}

func (e *SyntaxError) Error() string {
	return e.File + ": " + strings.TrimPrefix(e.Err.Error(), "yaml: ")
}

// Source returns a playbook (kind Playbook) or a playbook test (kind
// PlaybookTest) in canonical form. Unknown keys keep their place after the
// known ones; a file of another kind is only re-indented.
func Source(src []byte, filename string) ([]byte, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return src, nil // nothing to format
		}
		return nil, &SyntaxError{filename, err}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &SyntaxError{filename, fmt.Errorf("line %d: more than one YAML document", extra.Line)}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	// The file's leading comment (the schema modeline) belongs to the file,
	// not to whatever key happens to come first: it stays on top.
	var lead string
	if root.Kind == yaml.MappingNode && len(root.Content) > 0 {
		lead, root.Content[0].HeadComment = root.Content[0].HeadComment, ""
	}
	loadShapes()
	switch get(root, "kind").Value {
	case "Playbook":
		reorder(root, playbookShape)
	case "PlaybookTest":
		reorder(root, testShape)
	}
	if lead != "" {
		root.Content[0].HeadComment = joinComments(lead, root.Content[0].HeadComment)
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, &SyntaxError{filename, err}
	}
	if err := enc.Close(); err != nil {
		return nil, &SyntaxError{filename, err}
	}
	return wrapFolded(b.Bytes()), nil
}

// reorder sorts a node's mapping keys by s.order (unknown keys last, in
// their order) and descends into what s knows of its values.
func reorder(n *yaml.Node, s *shape) {
	if n == nil || s == nil {
		return
	}
	if n.Kind == yaml.AliasNode {
		return // the anchor is formatted where it is defined
	}
	if n.Kind == yaml.SequenceNode {
		for _, it := range n.Content {
			item := s.items
			switch {
			case item != nil && item.either && it.Kind == yaml.SequenceNode:
				reorder(it, &shape{items: item.items}) // a parallel branch: a sequence of steps
			case item != nil && item.either:
				reorder(it, item.items) // a parallel branch of one step
			default:
				reorder(it, item)
			}
		}
		return
	}
	if n.Kind != yaml.MappingNode {
		return
	}
	action := get(n, "action").Value
	type pair struct{ k, v *yaml.Node }
	var pairs []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		pairs = append(pairs, pair{n.Content[i], n.Content[i+1]})
	}
	rank := func(k string) int {
		if i := slices.Index(s.order, k); i >= 0 {
			return i
		}
		return len(s.order)
	}
	slices.SortStableFunc(pairs, func(a, b pair) int { return rank(a.k.Value) - rank(b.k.Value) })
	n.Content = n.Content[:0]
	for _, p := range pairs {
		n.Content = append(n.Content, p.k, p.v)
		switch {
		case s.step && p.k.Value == "with":
			reorder(p.v, &shape{order: paramOrder[action]})
		default:
			reorder(p.v, s.children[p.k.Value])
		}
	}
}

func joinComments(a, b string) string {
	if a == "" || b == "" {
		return a + b
	}
	return a + "\n\n" + b
}
