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
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.AssertFormat = true
	if err := c.AddResource(url, bytes.NewReader(doc)); err != nil {
		return nil, fmt.Errorf("schema %s: %w", url, err)
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", url, err)
	}
	return s, nil
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
