// Package ecsservice is what the actions that change a task's ECS service
// share: finding the service that owns the task, describing it, recording
// on its own tags what undoes a change (written before the change), and
// scaling it with the original desired count kept.
//
// scale-service and pin-service (in scale-to-zero mode) scale through
// Scale, so both leave the same record, irflow:previous-desired-count with
// irflow:scaled-by-case, and whatever restores one restores the other. A
// later run of the same case never overwrites its record, so a retry (or a
// run after auto scaling nudged the count) still reports the count the
// service had before the incident; a run of another case records what it
// finds.
package ecsservice
