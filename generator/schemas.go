package generator

import (
	"encoding/json"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/irflow/irflow/schemas"
	"github.com/irflow/irflow/tasks/catalog"
)

// paramsURL is where an action's with: schema lives for the compiler.
func paramsURL(action string) string {
	return "https://irflow.dev/schemas/actions/" + action + ".json"
}

var (
	schemaOnce   sync.Once
	rawSchemas   map[string]any
	paramSchemas map[string]*jsonschema.Schema
	schemaErr    error
)

// loadSchemas compiles every action's with: schema once per process and
// keeps the raw documents so errors can be explained from them.
func loadSchemas() error {
	schemaOnce.Do(func() {
		rawSchemas = map[string]any{}
		paramSchemas = map[string]*jsonschema.Schema{}
		var pb any
		if err := json.Unmarshal(schemas.Playbook, &pb); err != nil {
			schemaErr = err
			return
		}
		rawSchemas[schemas.PlaybookURL] = pb
		for _, a := range catalog.All() {
			u := paramsURL(a.Name)
			var raw any
			if err := json.Unmarshal(a.Params, &raw); err != nil {
				schemaErr = fmt.Errorf("catalog %s params: %w", a.Name, err)
				return
			}
			rawSchemas[u] = raw
			s, err := schemas.Compile(u, a.Params)
			if err != nil {
				schemaErr = fmt.Errorf("catalog %s params: %w", a.Name, err)
				return
			}
			paramSchemas[a.Name] = s
		}
	})
	return schemaErr
}

func rawSchema(url string) (any, bool) {
	if loadSchemas() != nil {
		return nil, false
	}
	v, ok := rawSchemas[url]
	return v, ok
}

func paramSchema(action string) (*jsonschema.Schema, error) {
	if err := loadSchemas(); err != nil {
		return nil, err
	}
	s, ok := paramSchemas[action]
	if !ok {
		return nil, fmt.Errorf("no parameter schema for %s", action)
	}
	return s, nil
}
