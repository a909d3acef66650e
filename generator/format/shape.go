package format

import (
	"fmt"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/irflow/irflow/generator/internal/playbook"
	"github.com/irflow/irflow/generator/scenario"
	"github.com/irflow/irflow/tasks/catalog"
)

// shape says how to order a mapping's keys and what its values hold.
type shape struct {
	order    []string
	children map[string]*shape // by key
	items    *shape            // a sequence's items
	// withOf: the mapping is a step, whose with: is ordered by its action's parameters.
	step bool
	// either: a parallel item, a step or a sequence of steps.
	either bool
}

// The shapes are built on first use, once, from the base schema and the
// catalog (constants of the binary): not at init, so commands other than
// irflow fmt do not pay for them.
var (
	shapesOnce               sync.Once
	playbookShape, testShape *shape
	// paramOrder is each action's parameter names in its schema's order.
	paramOrder map[string][]string
)

func loadShapes() {
	shapesOnce.Do(func() { playbookShape, testShape = buildShapes() })
}

func buildShapes() (*shape, *shape) {
	paramOrder = map[string][]string{}
	var root yaml.Node
	if err := yaml.Unmarshal(playbook.BaseSchema, &root); err != nil {
		panic(fmt.Sprintf("format: base schema: %v", err))
	}
	doc := root.Content[0]
	defs := get(doc, "$defs")
	def := func(name string) *shape { return &shape{order: keys(get(get(defs, name), "properties"))} }

	step := def("step")
	step.step = true
	parallelItem := &shape{either: true}
	parallelItem.items = step
	step.children = map[string]*shape{
		"when": def("when"), "approval": def("approval"), "retry": def("retry"),
		"parallel": {items: parallelItem}, "onReject": {items: step},
	}

	triggers := def("triggers")
	triggers.children = map[string]*shape{"guardduty": {order: keys(get(get(get(get(defs, "triggers"), "properties"), "guardduty"), "properties"))}}
	pb := &shape{order: keys(get(doc, "properties")), children: map[string]*shape{
		"metadata": def("metadata"), "triggers": triggers, "approval": def("approvalDefaults"),
		"exclude": def("exclude"), "steps": {items: step},
	}}

	for _, a := range catalog.All() {
		var n yaml.Node
		if err := yaml.Unmarshal(a.Params, &n); err != nil {
			panic(fmt.Sprintf("format: catalog %s params: %v", a.Name, err))
		}
		paramOrder[a.Name] = keys(get(n.Content[0], "properties"))
	}

	test := &shape{order: scenario.FileKeys, children: map[string]*shape{
		"cases": {items: &shape{order: scenario.CaseKeys, children: map[string]*shape{
			"expect": {order: scenario.ExpectKeys},
		}}},
	}}
	return pb, test
}

// get returns the value of key in a mapping node, or an empty node.
func get(m *yaml.Node, key string) *yaml.Node {
	if m != nil && m.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == key {
				return m.Content[i+1]
			}
		}
	}
	return &yaml.Node{}
}

// keys returns a mapping node's keys in document order.
func keys(m *yaml.Node) []string {
	var out []string
	for i := 0; i+1 < len(m.Content); i += 2 {
		out = append(out, m.Content[i].Value)
	}
	return out
}
