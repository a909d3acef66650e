package schemas

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

var (
	compileOnce sync.Once
	compiled    map[string]*jsonschema.Schema
	compileErr  error
)

// Compiled returns the compiled schema for one of the URLs. Schemas are
// compiled once per process: a playbook compile must stay well under a millisecond.
func Compiled(url string) (*jsonschema.Schema, error) {
	compileOnce.Do(func() {
		c := jsonschema.NewCompiler()
		c.Draft = jsonschema.Draft2020
		c.AssertFormat = true
		sources := map[string][]byte{PlaybookURL: Playbook, ExecutionInputURL: ExecutionInput, TaskPayloadURL: TaskPayload}
		for u, b := range sources {
			if err := c.AddResource(u, bytes.NewReader(b)); err != nil {
				compileErr = fmt.Errorf("schema %s: %w", u, err)
				return
			}
		}
		compiled = map[string]*jsonschema.Schema{}
		for u := range sources {
			s, err := c.Compile(u)
			if err != nil {
				compileErr = fmt.Errorf("schema %s: %w", u, err)
				return
			}
			compiled[u] = s
		}
	})
	if compileErr != nil {
		return nil, compileErr
	}
	s, ok := compiled[url]
	if !ok {
		return nil, fmt.Errorf("no schema %s", url)
	}
	return s, nil
}

// MustCompiled is Compiled for schemas embedded in this binary, which a test proves valid.
func MustCompiled(url string) *jsonschema.Schema {
	s, err := Compiled(url)
	if err != nil {
		panic(err)
	}
	return s
}
