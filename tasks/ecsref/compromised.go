package ecsref

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
)

// Compromised is what the compromised task ran: the digests of its
// selected containers, and the selected containers whose digest is not
// known.
type Compromised struct {
	Containers []Container
	Digests    []string // sorted, unique
	Unknown    []string // container names
}

// Set returns the digests as a set.
func (c *Compromised) Set() map[string]bool {
	m := make(map[string]bool, len(c.Digests))
	for _, d := range c.Digests {
		m[d] = true
	}
	return m
}

// Complete reports whether every selected container's digest is known.
func (c *Compromised) Complete() bool { return len(c.Unknown) == 0 && len(c.Digests) > 0 }

// NeedsRefresh reports whether a selected container of the target lacks a
// digest the payload could have carried, so describing the task again may
// learn it (resolve-target may have run before the image was pulled).
func NeedsRefresh(target *incident.Target, names []string) bool {
	for _, c := range target.Containers {
		if selected(c.Name, names) && c.ImageDigest == "" && PinnedDigest(c.Image) == "" {
			return true
		}
	}
	return len(target.Containers) == 0
}

// Refresh fills the target's missing digests (and containers, when the
// payload has none) from a fresh DescribeTasks of it.
func Refresh(target *incident.Target, task ecstypes.Task) {
	if len(target.Containers) == 0 {
		for _, c := range task.Containers {
			target.Containers = append(target.Containers, incident.Container{Name: aws.ToString(c.Name), Image: aws.ToString(c.Image),
				ImageDigest: aws.ToString(c.ImageDigest)})
		}
		return
	}
	for i, c := range target.Containers {
		if c.ImageDigest != "" {
			continue
		}
		for _, d := range task.Containers {
			if aws.ToString(d.Name) == c.Name {
				target.Containers[i].ImageDigest = aws.ToString(d.ImageDigest)
			}
		}
	}
}

// CompromisedOf returns what the target's containers named in names (all
// of them when names is empty) ran. A name the task does not have is an
// InvalidInputError on field.
func CompromisedOf(target *incident.Target, names []string, field string) (*Compromised, error) {
	have := map[string]bool{}
	for _, c := range target.Containers {
		have[c.Name] = true
	}
	for _, n := range names {
		if !have[n] {
			all := slices.Sorted(maps.Keys(have))
			return nil, &contract.InvalidInputError{Field: field, Reason: fmt.Sprintf("the task has no container %q (it has: %s)", n, strings.Join(all, ", "))}
		}
	}
	out := &Compromised{Digests: []string{}, Unknown: []string{}}
	seen := map[string]bool{}
	for _, c := range target.Containers {
		if !selected(c.Name, names) {
			continue
		}
		d, src := ContainerDigest(c.ImageDigest, c.Image)
		out.Containers = append(out.Containers, Container{Name: c.Name, Image: c.Image, Digest: d, Source: src})
		switch {
		case d == "":
			out.Unknown = append(out.Unknown, c.Name)
		case !seen[d]:
			seen[d] = true
			out.Digests = append(out.Digests, d)
		}
	}
	sort.Strings(out.Digests)
	return out, nil
}

func selected(name string, names []string) bool {
	if len(names) == 0 {
		return true
	}
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}
