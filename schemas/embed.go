package schemas

import (
	_ "embed"
)

// ExecutionInput is the JSON Schema of what starts an execution.
//
//go:embed execution-input.v1.schema.json
var ExecutionInput []byte

// TaskPayload is the JSON Schema of the Payload of every Task state.
//
//go:embed task-payload.v1.schema.json
var TaskPayload []byte

// URLs are the $id of each schema, as a compiler resolves them. The
// playbook schema is generated from the catalog (generator.PlaybookSchema,
// irflow schema); playbook.v1.schema.json here is its checked-in copy for
// editors, and PlaybookURL its stable $id.
const (
	PlaybookURL       = "https://irflow.dev/schemas/playbook.v1.schema.json"
	ExecutionInputURL = "https://irflow.dev/schemas/execution-input.v1.schema.json"
	TaskPayloadURL    = "https://irflow.dev/schemas/task-payload.v1.schema.json"
)
