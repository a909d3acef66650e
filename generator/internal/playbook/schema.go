package playbook

import _ "embed"

// BaseSchema is the JSON Schema of the language's shape: every key, type,
// pattern and description of irflow/v1. The generator completes it from the
// catalog (each action's with:, the action names, the finding types) into
// the playbook schema editors and the compiler use (generator.PlaybookSchema).
//
//go:embed schema.json
var BaseSchema []byte
