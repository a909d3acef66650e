// Package handler is the logic of the capture-task-metadata action.
//
// The task, its task definition, its service and its network interfaces
// are described as they are at the time of the incident and stored, as
// pretty-printed JSON with SHA-256 hashes, in the case's evidence folder:
// task.json, task-definition.json, service.json, network-interfaces.json.
// The files hold the AWS SDK for Go's structures (Go field names, RFC 3339
// times). They carry no capture time of their own, so describing an
// unchanged task twice stores the same bytes; S3 and the audit chain record
// when. The action only reads the customer's environment, so it runs in
// dry runs too.
package handler
