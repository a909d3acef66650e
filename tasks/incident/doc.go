// Package incident validates and normalizes what starts an irflow execution:
// an EventBridge GuardDuty finding about an ECS task, or a console/CLI
// request. It is pure (no AWS calls), so resolve-target and irflow simulate
// share it and a bad input fails the same way locally and in AWS, with an
// error naming the offending field.
package incident
