// Package handler is the logic of the find-siblings action.
//
// A compromised image is rarely one task: GuardDuty's remediation guidance
// for ECS is to find every other running task of the same image. This
// action lists, across every cluster of the account and region (or the
// clusters the step names), the running tasks that share the compromised
// task's image digest, and as separate lists those sharing its task
// definition family, its task role and (EC2) its container instance.
//
// Images are compared by digest only (tasks/ecsref): a tag names different
// content over time. A task whose digest cannot be known (a reference by
// tag and no digest reported) is listed apart as unknownDigest, never
// guessed. The scan is bounded (with.maxTasks described tasks, 1,000
// clusters, the function's deadline) and says when it stopped short; the
// outputs carry each list capped at with.maxListed ARNs, and the whole
// result is stored as siblings.json evidence. The action only reads, so it
// runs in dry runs too.
package handler
