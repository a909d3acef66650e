// Package ecsref reads what ECS names but does not explain: which image
// digest a container runs, which digest an image reference pins, and the
// family and revision a task definition ARN carries.
//
// It is the one place that decides when two containers run the same image,
// so find-siblings (which tasks share the compromised digest) and
// pin-service (which revision is free of it) cannot disagree. The rule is
// digests only, never tags: a tag is a mutable pointer, and Amazon ECS
// resolves it to a digest when a deployment starts, so the digest behind
// `repo:1.4.2` may differ from one deployment to the next ("Container image
// resolution",
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html#deployment-container-image-stability).
//
// A running container's digest is the imageDigest DescribeTasks reports
// ("The container image manifest digest",
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Container.html);
// when ECS reports none, a reference that pins a digest (`repo@sha256:…`)
// names the content exactly and is used; otherwise the digest is unknown
// and callers say so rather than guess. The package makes one AWS call:
// Describe's DescribeTasks of the target.
package ecsref
