package strict

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// xnode is one element of an EC2 Query answer, kept close enough to the
// bytes moto sent that writing it back changes only what a rule edits:
// names keep their prefixes, attributes (xmlns included) their order.
type xnode struct {
	name  xml.Name // as written: Space is the prefix, not a namespace URI
	attrs []xml.Attr
	kids  []*xnode
	text  string // character data of a leaf
}

// parseXML reads a whole document into its root element.
func parseXML(b []byte) (*xnode, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	var stack []*xnode
	var root *xnode
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &xnode{name: t.Name, attrs: append([]xml.Attr(nil), t.Attr...)}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.kids = append(p.kids, n)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			if len(stack) == 0 {
				return nil, fmt.Errorf("unbalanced </%s>", t.Name.Local)
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(t)
			}
		}
	}
	if root == nil || len(stack) != 0 {
		return nil, fmt.Errorf("no complete document")
	}
	return root, nil
}

// bytes writes the document back, with the XML declaration moto writes.
func (n *xnode) bytes() []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	n.write(&b)
	return b.Bytes()
}

func qname(x xml.Name) string {
	if x.Space != "" {
		return x.Space + ":" + x.Local
	}
	return x.Local
}

func (n *xnode) write(b *bytes.Buffer) {
	b.WriteString("<" + qname(n.name))
	for _, a := range n.attrs {
		b.WriteString(" " + qname(a.Name) + `="`)
		_ = xml.EscapeText(b, []byte(a.Value))
		b.WriteString(`"`)
	}
	if len(n.kids) == 0 && strings.TrimSpace(n.text) == "" {
		b.WriteString("/>")
		return
	}
	b.WriteString(">")
	if len(n.kids) == 0 {
		_ = xml.EscapeText(b, []byte(n.text))
	}
	for _, k := range n.kids {
		k.write(b)
	}
	b.WriteString("</" + qname(n.name) + ">")
}

// child returns the first child element named local, or nil.
func (n *xnode) child(local string) *xnode {
	if n == nil {
		return nil
	}
	for _, k := range n.kids {
		if k.name.Local == local {
			return k
		}
	}
	return nil
}

// path follows child names down from n; nil when one is missing.
func (n *xnode) path(locals ...string) *xnode {
	for _, l := range locals {
		n = n.child(l)
	}
	return n
}

// value is the text of the child named local, "" when there is none.
func (n *xnode) value(local string) string {
	if c := n.child(local); c != nil {
		return strings.TrimSpace(c.text)
	}
	return ""
}

// set gives the child named local the text v, adding the child if needed,
// and returns it.
func (n *xnode) set(local, v string) *xnode {
	c := n.child(local)
	if c == nil {
		c = &xnode{name: xml.Name{Local: local}}
		n.kids = append(n.kids, c)
	}
	c.kids, c.text = nil, v
	return c
}

// items returns the <item> children of the child named local.
func (n *xnode) items(local string) []*xnode {
	var out []*xnode
	for _, k := range n.child(local).kidsOrNil() {
		if k.name.Local == "item" {
			out = append(out, k)
		}
	}
	return out
}

func (n *xnode) kidsOrNil() []*xnode {
	if n == nil {
		return nil
	}
	return n.kids
}

// findAll returns every element named local under n, depth first.
func (n *xnode) findAll(local string) []*xnode {
	var out []*xnode
	for _, k := range n.kidsOrNil() {
		if k.name.Local == local {
			out = append(out, k)
		}
		out = append(out, k.findAll(local)...)
	}
	return out
}

// drop removes the children for which gone returns true.
func (n *xnode) drop(gone func(*xnode) bool) {
	if n == nil {
		return
	}
	kept := n.kids[:0]
	for _, k := range n.kids {
		if !gone(k) {
			kept = append(kept, k)
		}
	}
	n.kids = kept
}
