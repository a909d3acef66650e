package schemas

import (
	_ "embed"
)

// Playbook is the JSON Schema of a playbook (irflow/v1). Editors use it
// through a yaml-language-server modeline; the generator validates with it.
//
//go:embed playbook.v1.schema.json
var Playbook []byte

// ExecutionInput is the JSON Schema of what starts an execution.
//
//go:embed execution-input.v1.schema.json
var ExecutionInput []byte

// TaskPayload is the JSON Schema of the Payload of every Task state.
//
//go:embed task-payload.v1.schema.json
var TaskPayload []byte

// URLs are the $id of each schema, as a compiler resolves them.
const (
	PlaybookURL       = "https://irflow.dev/schemas/playbook.v1.schema.json"
	ExecutionInputURL = "https://irflow.dev/schemas/execution-input.v1.schema.json"
	TaskPayloadURL    = "https://irflow.dev/schemas/task-payload.v1.schema.json"
)
