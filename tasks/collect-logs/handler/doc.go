// Package handler is the logic of the collect-logs action.
//
// Log groups have retention policies and an attacker with the task's role
// may be able to delete streams, so the task's own log events are copied
// into the case's evidence folder early: for every container whose task
// definition uses the awslogs driver, the events of its stream
// (<prefix>/<container>/<task id>, or the container's runtime id when the
// definition sets no prefix) from the finding time minus the look-back
// window until now, one gzipped JSON Lines object per container
// (logs-<container>.jsonl.gz), capped at with.maxBytes of uncompressed
// text. Containers that log elsewhere (FireLens, splunk, none) are listed
// as skipped; a task with no awslogs container at all is SKIPPED.
package handler
