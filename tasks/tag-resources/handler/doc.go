// Package handler is the logic of the tag-resources action.
//
// Tags make an incident visible where engineers look first: the console
// views of the task, its ENIs, its container instance, instance and volumes
// all show irflow:case-id and irflow:status, and tag-based IAM conditions or
// automation (do not terminate, do not scale in) can key on them. Tagging
// sets values, so running the action again changes nothing.
package handler
