// Package handler is the logic of the pin-service action.
//
// Stopping a compromised task of a service only makes the service start a
// replacement from the same image. pin-service stops that: in rollback mode
// (the default) it points the service at the newest earlier revision of
// its task definition family whose images are provably not the compromised
// digest; in scale-to-zero mode it sets the desired count to 0 (through
// ecsservice, exactly as scale-service does).
//
// Provably: an image pinned by digest (repo@sha256:…) is compared with the
// compromised digests; an image referenced by tag is not provable, because
// ECS resolves a tag when a deployment starts, and is refused unless
// with.allowTagOnly. When no revision qualifies the step fails with
// PreconditionFailedError naming why, or scales to zero when
// with.fallback is scale-to-zero.
//
// What undoes it is written on the service's tags before the change
// (irflow:previous-task-definition, irflow:pinned-task-definition,
// irflow:pinned-by-case; or scale-service's count tags) and returned in the
// outputs; a later run of the same case keeps the record. The outputs also
// hold the service at pin time: its deployments, and its running tasks of
// the compromised digest other than the target, so the case report can say
// whether replacements started from the bad digest during the response.
package handler
