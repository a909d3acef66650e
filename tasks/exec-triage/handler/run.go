package handler

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/ecsexec/triage"
)

// run is one invocation's triage: what was stored and what was not.
type run struct {
	h      *Handler
	p      *contract.Payload
	plan   *plan
	id     string
	limits Limits
	res    *contract.Result
	done   []containerResult
	not    []notCollected
}

// containerResult is one triaged container, in outputs.containers.
type containerResult struct {
	Container string `json:"container"`
	Shell     string `json:"shell"`
	SessionID string `json:"sessionId"`
	// Complete: the collector's trailer arrived and nothing was damaged.
	Complete bool `json:"complete"`
	// Truncated says why irflow cut the output (output limit, time).
	Truncated   string `json:"truncated,omitempty"`
	Processes   int    `json:"processes"`
	Connections int    `json:"connections"`
	// TargetPIDs are the processes the finding names (pid, path or hash).
	TargetPIDs []int `json:"targetPids"`
	Binaries   int   `json:"binaries"`
	Problems   int   `json:"problems"`
	Artifacts  int   `json:"artifacts"`
	// Report is the URI of triage.json, which lists every artifact's hash.
	Report string `json:"report"`
}

// notCollected is a container that was not triaged, in outputs.notCollected.
type notCollected struct {
	Container string   `json:"container"`
	Reason    string   `json:"reason"`
	What      []string `json:"notCollected"`
}

func (r *run) skipped(container, reason string) {
	r.not = append(r.not, notCollected{Container: container, Reason: reason, What: collects})
}

// container triages one container and stores its artifacts.
func (r *run) container(ctx context.Context, idx int, name string, deadline time.Time) error {
	a, an, err := r.collect(ctx, name, deadline)
	if err != nil {
		return err
	}
	if a.skip != "" {
		r.skipped(name, a.skip)
		return nil
	}
	rep := an.report
	cr := containerResult{Container: name, Shell: a.shell, SessionID: a.sessionID, Complete: rep.Complete && a.truncated == "",
		Truncated: a.truncated, Processes: rep.Processes, Connections: rep.Connections, TargetPIDs: rep.TargetPIDs,
		Binaries: len(rep.Binaries), Problems: len(rep.Problems)}
	evs, err := r.store(ctx, idx, name, an.artifacts)
	if err != nil {
		return err
	}
	for i, art := range an.artifacts {
		r.res.Add(evs[i])
		cr.Artifacts++
		if art.Name == "triage.json" {
			cr.Report = evs[i].URI
		}
	}
	r.done = append(r.done, cr)
	return nil
}

// uploads is how many of a container's artifacts are stored at once: one
// PUT each (a few KB to a few MB), far below S3's 3,500 PUTs per second per
// prefix (https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance.html),
// and one after another they were the triage's longest wait after the
// session itself.
const uploads = 4

// store puts a container's artifacts, up to uploads at a time, and returns
// their evidence in the artifacts' order. The first failure cancels the
// PUTs not yet answered and is returned (what was stored stays: evidence
// is never deleted, the bucket's Object Lock keeps it).
func (r *run) store(ctx context.Context, idx int, name string, arts []triage.Artifact) ([]contract.Evidence, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	evs := make([]contract.Evidence, len(arts))
	errs := make([]error, len(arts))
	slots := make(chan struct{}, uploads)
	var wg sync.WaitGroup
	for i, art := range arts {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			evs[i], errs[i] = r.h.Evidence.Put(ctx, r.p.CaseID(), r.p.Folder(), r.key(idx, name, art.Name), contentType(art.Name), art.Body)
			if errs[i] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	// The first failure in the artifacts' order that is not the
	// cancellation it caused.
	var first error
	for _, err := range errs {
		if err != nil && (first == nil || errors.Is(first, context.Canceled) && !errors.Is(err, context.Canceled)) {
			first = err
		}
	}
	if first != nil {
		return nil, first
	}
	return evs, nil
}

// key is an artifact's object name: <run>-<container>-<artifact>, the
// container's name cut to fit S3 key parts of 128 characters (with its
// index, so two long names cannot collide), binaries/<sha256> as
// bin-<sha256>.
func (r *run) key(idx int, container, artifact string) string {
	if len(container) > 24 {
		container = fmt.Sprintf("%s-c%d", container[:20], idx)
	}
	artifact = strings.Replace(artifact, "binaries/", "bin-", 1)
	return r.id + "-" + container + "-" + artifact
}

func contentType(name string) string {
	switch {
	case strings.HasSuffix(name, ".json"):
		return "application/json"
	case strings.HasSuffix(name, ".txt"):
		return "text/plain; charset=utf-8"
	}
	return "application/octet-stream"
}

// result is the step's result: OK when a container was triaged, SKIPPED
// when none could be.
func (r *run) result() *contract.Result {
	res := r.res
	if len(r.done) == 0 {
		res = skipped("", r.not)
		res.Summary = "ECS Exec triage not possible: " + r.not[0].Reason
		if len(r.not) > 1 {
			res.Summary += fmt.Sprintf(" (and %d more containers, see notCollected)", len(r.not)-1)
		}
	} else {
		var parts []string
		complete := true
		for _, c := range r.done {
			parts = append(parts, c.summary())
			complete = complete && c.Complete
		}
		for _, n := range r.not {
			parts = append(parts, fmt.Sprintf("container %s skipped: %s", n.Container, n.Reason))
		}
		res.Summary = strings.Join(parts, "; ")
		res.With("complete", complete).With("artifacts", len(res.Evidence))
	}
	return res.With("runId", r.id).With("containers", nonNilResults(r.done)).With("notCollected", nonNil(r.not)).
		With("chosenBy", r.plan.why).With("target", r.plan.target).With("ignoredFindingFields", nonNilStrings(r.plan.ignored))
}

func (c containerResult) summary() string {
	s := fmt.Sprintf("triaged container %s through ECS Exec (%s): %s, %s", c.Container, c.Shell,
		plural(c.Processes, "process", "processes"), plural(c.Connections, "connection", "connections"))
	if len(c.TargetPIDs) > 0 {
		s += ", the finding's process found (pid " + joinInts(c.TargetPIDs) + ")"
	}
	s += fmt.Sprintf(", %s copied; %s stored", plural(c.Binaries, "binary", "binaries"), plural(c.Artifacts, "artifact", "artifacts"))
	switch {
	case c.Truncated != "":
		s += " (INCOMPLETE: " + c.Truncated + ")"
	case !c.Complete:
		s += fmt.Sprintf(" (INCOMPLETE: %s, see triage.json)", plural(c.Problems, "problem", "problems"))
	}
	return s
}

func joinInts(ns []int) string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = fmt.Sprint(n)
	}
	return strings.Join(out, ", ")
}

// skipped is a SKIPPED result saying what was not collected.
func skipped(summary string, not []notCollected) *contract.Result {
	return contract.Skipped(summary).With("notCollected", nonNil(not)).With("collects", collects)
}

func nonNil(n []notCollected) []notCollected {
	if n == nil {
		return []notCollected{}
	}
	return n
}

func nonNilResults(c []containerResult) []containerResult {
	if c == nil {
		return []containerResult{}
	}
	return c
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
