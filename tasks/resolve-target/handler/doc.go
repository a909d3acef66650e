// Package handler is the logic of the resolve-target action.
//
// resolve-target turns the raw execution input into the incident every later
// state receives (incident.Normalize), takes the per-task dedupe lock in the
// incidents table so a second finding about the same task does not start a
// second response, and describes the task, its task definition, its ENIs and,
// on EC2, its container instance, instance, volumes and Auto Scaling group
// into the incident.Target that the state machine branches on.
//
// The lock is held from here until finalize-case releases it; when
// resolve-target itself fails after taking it (the task is gone, a describe
// call fails), it releases the lock again by marking it expired, so a later
// execution for the same task is not reported as a duplicate of one that
// never got past this state.
package handler
