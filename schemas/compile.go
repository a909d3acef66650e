package schemas

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// Compile compiles one JSON Schema document (draft 2020-12, formats
// asserted) whose $id is url. It is the module's one way to build a
// validator, so every schema is held to the same draft and format rules.
func Compile(url string, doc []byte) (*jsonschema.Schema, error) {
	out, err := CompileAll(url, doc, "")
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// CompileAll compiles a document once and returns the validators of the
// given JSON Pointer fragments of it ("" is the whole document), so parts
// of one schema can validate on their own.
func CompileAll(url string, doc []byte, fragments ...string) ([]*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.AssertFormat = true
	if err := c.AddResource(url, bytes.NewReader(doc)); err != nil {
		return nil, fmt.Errorf("schema %s: %w", url, err)
	}
	out := make([]*jsonschema.Schema, len(fragments))
	for i, f := range fragments {
		u := url
		if f != "" {
			u += "#" + f
		}
		s, err := c.Compile(u)
		if err != nil {
			return nil, fmt.Errorf("schema %s: %w", u, err)
		}
		out[i] = s
	}
	return out, nil
}

// embedded are the schemas of this package by $id, each compiled on first use.
var embedded = map[string]*lazySchema{
	ExecutionInputURL: {doc: ExecutionInput},
	TaskPayloadURL:    {doc: TaskPayload},
}

type lazySchema struct {
	doc  []byte
	once sync.Once
	s    *jsonschema.Schema
	err  error
}

// Compiled returns the compiled schema of one of the URLs. Each is compiled
// once per process: the schemas are constants of the binary.
func Compiled(url string) (*jsonschema.Schema, error) {
	l, ok := embedded[url]
	if !ok {
		return nil, fmt.Errorf("no schema %s", url)
	}
	l.once.Do(func() { l.s, l.err = Compile(url, l.doc) })
	return l.s, l.err
}

// MustCompiled is Compiled for schemas embedded in this binary, which a test proves valid.
func MustCompiled(url string) *jsonschema.Schema {
	s, err := Compiled(url)
	if err != nil {
		panic(err)
	}
	return s
}
