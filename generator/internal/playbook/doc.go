// Package playbook parses irflow/v1 playbooks from YAML into a typed AST.
// It decodes YAML nodes (go.yaml.in/yaml/v3) directly, never through JSON, and records the
// position of every value and key by JSON Pointer, so schema errors and
// every later check can point at the author's line.
package playbook
