package ecsref

import (
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Where a container's digest was learned.
const (
	// SourceReported is DescribeTasks' containers[].imageDigest: what the
	// container runtime pulled.
	SourceReported = "reported"
	// SourceReference is an image reference pinned by digest
	// (repo@sha256:…): content addressed, so exact without a pull.
	SourceReference = "reference"
	// SourceUnknown is a reference by tag with no digest reported.
	SourceUnknown = "unknown"
)

// digestPattern is an OCI digest of the two algorithms registries use
// (https://github.com/opencontainers/image-spec/blob/main/descriptor.md#digests).
var digestPattern = regexp.MustCompile(`^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$`)

// IsDigest reports whether s is a sha256 or sha512 digest.
func IsDigest(s string) bool { return digestPattern.MatchString(s) }

// PinnedDigest returns the digest an image reference pins
// ("repo@sha256:…", "repo:tag@sha256:…"), or "" for a reference by tag or
// a malformed digest.
func PinnedDigest(image string) string {
	i := strings.LastIndexByte(image, '@')
	if i < 0 {
		return ""
	}
	if d := image[i+1:]; IsDigest(d) {
		return d
	}
	return ""
}

// ContainerDigest returns the digest a container runs and where it was
// learned: the reported digest, else the one its reference pins, else
// ("", SourceUnknown). A tag never yields a digest.
func ContainerDigest(reported, image string) (digest, source string) {
	if d := strings.TrimSpace(reported); d != "" {
		return d, SourceReported
	}
	if d := PinnedDigest(image); d != "" {
		return d, SourceReference
	}
	return "", SourceUnknown
}

// Container is one container of a running task with its digest.
type Container struct {
	Name   string `json:"name"`
	Image  string `json:"image"`
	Digest string `json:"digest"`
	Source string `json:"digestSource"`
}

// TaskContainers returns the containers of a described task with their
// digests, in the task's order.
func TaskContainers(t ecstypes.Task) []Container {
	out := make([]Container, 0, len(t.Containers))
	for _, c := range t.Containers {
		d, src := ContainerDigest(aws.ToString(c.ImageDigest), aws.ToString(c.Image))
		out = append(out, Container{Name: aws.ToString(c.Name), Image: aws.ToString(c.Image), Digest: d, Source: src})
	}
	return out
}

// Match says how a task's containers compare with a set of digests.
type Match int

// The answers of Compare.
const (
	// NoMatch: every container's digest is known and none is in the set.
	NoMatch Match = iota
	// Matches: at least one container runs a digest of the set.
	Matches
	// Undecided: no known digest matches, but a container's digest (or one
	// of the set's own containers) is unknown, so a match is not excluded.
	Undecided
)

// Compare tells whether containers run a digest of set. setComplete is
// false when some compromised container's digest is itself unknown: then
// nothing short of a match can be ruled out.
func Compare(containers []Container, set map[string]bool, setComplete bool) Match {
	unknown := !setComplete || len(containers) == 0
	for _, c := range containers {
		if c.Digest == "" {
			unknown = true
			continue
		}
		if set[c.Digest] {
			return Matches
		}
	}
	if unknown {
		return Undecided
	}
	return NoMatch
}
