package generator

import (
	"fmt"
	"strings"

	"github.com/irflow/irflow/generator/internal/asl"
)

// Graph renders the compiled state machine as a Mermaid flowchart ("mermaid")
// or a Graphviz digraph ("dot"). Output is deterministic: states in document
// order, numbered s0, s1, ...; Parallel branches are subgraphs.
func Graph(r *Result, format string) (string, error) {
	g := &graph{ids: map[string]string{}}
	g.collect(r.machine)
	switch format {
	case "mermaid":
		return g.mermaid(r), nil
	case "dot":
		return g.dot(r), nil
	}
	return "", fmt.Errorf("unknown graph format %q (mermaid or dot)", format)
}

type edge struct {
	from, to, label string
	dashed          bool
}

type gnode struct {
	id, name, kind string
}

type cluster struct {
	id, label string
	nodes     []gnode
}

type graph struct {
	ids      map[string]string
	nodes    []gnode   // top level
	clusters []cluster // parallel branches
	edges    []edge
}

func (g *graph) id(name string) string {
	if id, ok := g.ids[name]; ok {
		return id
	}
	id := fmt.Sprintf("s%d", len(g.ids))
	g.ids[name] = id
	return id
}

func (g *graph) collect(sm *asl.StateMachine) {
	g.scope(sm, nil)
}

func (g *graph) scope(sm *asl.StateMachine, into *cluster) {
	for _, ns := range sm.States {
		n := gnode{id: g.id(ns.Name), name: ns.Name, kind: ns.State.StateType()}
		if into != nil {
			into.nodes = append(into.nodes, n)
		} else {
			g.nodes = append(g.nodes, n)
		}
		g.edgesOf(ns)
		if p, ok := ns.State.(*asl.Parallel); ok {
			for i := range p.Branches {
				b := &p.Branches[i]
				c := cluster{id: fmt.Sprintf("%s_b%d", n.id, i), label: fmt.Sprintf("%s · branch %d", ns.Name, i+1)}
				g.scope(b, &c)
				g.clusters = append(g.clusters, c)
				g.edges = append(g.edges, edge{from: n.id, to: g.id(b.StartAt), dashed: true})
			}
		}
	}
}

func (g *graph) edgesOf(ns asl.NamedState) {
	from := g.id(ns.Name)
	next := func(to string) {
		if to != "" {
			g.edges = append(g.edges, edge{from: from, to: g.id(to)})
		}
	}
	catches := func(cs []asl.Catcher) {
		for _, c := range cs {
			g.edges = append(g.edges, edge{from: from, to: g.id(c.Next), label: strings.Join(c.ErrorEquals, ", "), dashed: true})
		}
	}
	switch st := ns.State.(type) {
	case *asl.Task:
		next(st.Next)
		catches(st.Catch)
	case *asl.Parallel:
		next(st.Next)
		catches(st.Catch)
	case *asl.Map:
		next(st.Next)
		catches(st.Catch)
	case *asl.Pass:
		next(st.Next)
	case *asl.Wait:
		next(st.Next)
	case *asl.Choice:
		for _, r := range st.Choices {
			g.edges = append(g.edges, edge{from: from, to: g.id(r.Next), label: ruleLabel(r)})
		}
		if st.Default != "" {
			g.edges = append(g.edges, edge{from: from, to: g.id(st.Default), label: "otherwise"})
		}
	}
}

func ruleLabel(r asl.ChoiceRule) string {
	v := strings.TrimPrefix(r.Variable, "$.")
	switch {
	case r.StringEquals != nil:
		return v + " = " + *r.StringEquals
	case r.BooleanEquals != nil:
		return fmt.Sprintf("%s = %t", v, *r.BooleanEquals)
	}
	return v
}

func mermaidLabel(s string) string {
	return strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;").Replace(s)
}

func mermaidNode(n gnode) string {
	l := mermaidLabel(n.name)
	switch n.kind {
	case "Choice":
		return fmt.Sprintf("%s{\"%s\"}", n.id, l)
	case "Succeed", "Fail":
		return fmt.Sprintf("%s([\"%s\"])", n.id, l)
	case "Pass", "Wait":
		return fmt.Sprintf("%s[/\"%s\"/]", n.id, l)
	case "Parallel":
		return fmt.Sprintf("%s[[\"%s\"]]", n.id, l)
	}
	return fmt.Sprintf("%s[\"%s\"]", n.id, l)
}

func (g *graph) mermaid(r *Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "---\ntitle: irflow-%s\n---\nflowchart TD\n", r.Name)
	for _, n := range g.nodes {
		fmt.Fprintf(&b, "  %s\n", mermaidNode(n))
	}
	for _, c := range g.clusters {
		fmt.Fprintf(&b, "  subgraph %s[\"%s\"]\n", c.id, mermaidLabel(c.label))
		for _, n := range c.nodes {
			fmt.Fprintf(&b, "    %s\n", mermaidNode(n))
		}
		b.WriteString("  end\n")
	}
	for _, e := range g.edges {
		arrow := "-->"
		if e.dashed {
			arrow = "-.->"
		}
		if e.label != "" {
			if e.dashed {
				fmt.Fprintf(&b, "  %s -. \"%s\" .-> %s\n", e.from, mermaidLabel(e.label), e.to)
			} else {
				fmt.Fprintf(&b, "  %s -->|\"%s\"| %s\n", e.from, mermaidLabel(e.label), e.to)
			}
			continue
		}
		fmt.Fprintf(&b, "  %s %s %s\n", e.from, arrow, e.to)
	}
	return b.String()
}

func dotQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func dotShape(kind string) string {
	switch kind {
	case "Choice":
		return "diamond"
	case "Succeed", "Fail":
		return "doubleoctagon"
	case "Pass", "Wait":
		return "parallelogram"
	case "Parallel":
		return "box3d"
	}
	return "box"
}

func (g *graph) dot(r *Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %s {\n  rankdir=TB;\n  node [fontname=\"Helvetica\"];\n", dotQuote("irflow-"+r.Name))
	for _, n := range g.nodes {
		fmt.Fprintf(&b, "  %s [label=%s, shape=%s];\n", n.id, dotQuote(n.name), dotShape(n.kind))
	}
	for _, c := range g.clusters {
		fmt.Fprintf(&b, "  subgraph cluster_%s {\n    label=%s;\n", c.id, dotQuote(c.label))
		for _, n := range c.nodes {
			fmt.Fprintf(&b, "    %s [label=%s, shape=%s];\n", n.id, dotQuote(n.name), dotShape(n.kind))
		}
		b.WriteString("  }\n")
	}
	for _, e := range g.edges {
		var attrs []string
		if e.label != "" {
			attrs = append(attrs, "label="+dotQuote(e.label))
		}
		if e.dashed {
			attrs = append(attrs, "style=dashed")
		}
		if len(attrs) > 0 {
			fmt.Fprintf(&b, "  %s -> %s [%s];\n", e.from, e.to, strings.Join(attrs, ", "))
		} else {
			fmt.Fprintf(&b, "  %s -> %s;\n", e.from, e.to)
		}
	}
	b.WriteString("}\n")
	return b.String()
}
