package handler

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/ecsexec"
	"github.com/irflow/irflow/tasks/ecsexec/triage"
	"github.com/irflow/irflow/tasks/taskrt"
)

// ecsAPI is the part of ECS the triage needs: the task (its containers,
// ECS Exec setting and managed agents), its definition (which containers
// are essential) and ExecuteCommand.
type ecsAPI interface {
	DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, opts ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error)
	DescribeTaskDefinition(ctx context.Context, in *ecs.DescribeTaskDefinitionInput, opts ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
	ExecuteCommand(ctx context.Context, in *ecs.ExecuteCommandInput, opts ...func(*ecs.Options)) (*ecs.ExecuteCommandOutput, error)
}

// SessionRunner runs one data channel session: ecsexec.Run.
type SessionRunner func(ctx context.Context, s ecsexec.Session, stdin io.Reader, stdout io.Writer, l ecsexec.Limits) (ecsexec.Result, error)

// Budget: the time kept back from the invocation's deadline for analyzing
// and storing what the sessions collected, and the budget of an invocation
// without a deadline (in-process runs), the catalog's Lambda timeout.
const (
	StoreReserve    = 30 * time.Second
	DefaultDeadline = 10 * time.Minute
)

// Handler triages the target's containers through ECS Exec.
type Handler struct {
	ECS      ecsAPI
	Run      SessionRunner
	Evidence *taskrt.EvidenceWriter
	// Session bounds each data channel session; zero fields take
	// ecsexec's defaults. MaxOutputBytes comes from with.limits.
	Session ecsexec.Limits
	Now     func() time.Time
}

// Params are the step's `with:` (tasks/catalog/params/exec-triage.json).
type Params struct {
	Container string  `json:"container"`
	Limits    *Limits `json:"limits"`
}

// Limits bound the collection: each container's files, binaries and
// output, and the time of all the sessions.
type Limits struct {
	MaxFileBytes   int64 `json:"maxFileBytes"`
	MaxBinaryBytes int64 `json:"maxBinaryBytes"`
	MaxHashBytes   int64 `json:"maxHashBytes"`
	MaxOutputBytes int64 `json:"maxOutputBytes"`
	MaxSeconds     int   `json:"maxSeconds"`
}

// Defaults of the limits not in triage.DefaultLimits. DefaultMaxOutputBytes
// bounds the output of one session: three copies of a 16 MiB binary,
// base64-encoded, and the rest of /proc fit. DefaultMaxSeconds bounds the
// sessions: the triage runs before isolation, which waits for it.
const (
	DefaultMaxOutputBytes = 96 << 20
	DefaultMaxSeconds     = 300
)

// New builds the handler with real clients.
func New(cfg aws.Config, env taskrt.Env) taskrt.HandlerFunc {
	h := &Handler{ECS: ecs.NewFromConfig(cfg), Run: ecsexec.Run, Evidence: taskrt.NewEvidenceWriter(cfg, env)}
	return h.Handle
}

// Handle triages the task's containers, or says why it cannot.
func (h *Handler) Handle(ctx context.Context, p *contract.Payload) (*contract.Result, error) {
	if p.Incident == nil || p.Target == nil {
		return nil, &contract.InvalidInputError{Field: "target", Reason: "exec-triage needs the incident and target resolve-target returns"}
	}
	var params Params
	if err := p.DecodeWith(&params); err != nil {
		return nil, err
	}
	lim := params.limits()
	deadline := h.deadline(ctx, time.Duration(lim.MaxSeconds)*time.Second)
	pl, skip, err := h.plan(ctx, p, params)
	if err != nil || skip != nil {
		return skip, err
	}
	if p.DryRun() {
		return pl.dryRun(), nil
	}
	r := &run{h: h, p: p, plan: pl, id: runID(h.now()), limits: lim, res: contract.OK("")}
	for i, c := range pl.containers {
		if c.skip != "" {
			r.skipped(c.name, c.skip)
			continue
		}
		// Each container left gets an equal share of the time left.
		share := time.Until(deadline) / time.Duration(len(pl.containers)-i)
		if err := r.container(ctx, i, c.name, time.Now().Add(share)); err != nil {
			return nil, err
		}
	}
	return r.result(), nil
}

// deadline is when the sessions must end: after budget, and before the
// invocation's deadline less the time to store what they collected.
func (h *Handler) deadline(ctx context.Context, budget time.Duration) time.Time {
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(DefaultDeadline)
	}
	dl = dl.Add(-min(StoreReserve, time.Until(dl)/4))
	if b := time.Now().Add(budget); b.Before(dl) {
		return b
	}
	return dl
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// limits are the step's limits with defaults for what it leaves out (the
// collector's own are filled by package triage).
func (p Params) limits() Limits {
	var l Limits
	if p.Limits != nil {
		l = *p.Limits
	}
	if l.MaxOutputBytes <= 0 {
		l.MaxOutputBytes = DefaultMaxOutputBytes
	}
	if l.MaxSeconds <= 0 {
		l.MaxSeconds = DefaultMaxSeconds
	}
	return l
}

func (l Limits) collector() triage.Limits {
	return triage.Limits{MaxFileBytes: l.MaxFileBytes, MaxBinaryBytes: l.MaxBinaryBytes, MaxHashBytes: l.MaxHashBytes}
}

// runID names one invocation's artifacts: the UTC start second and 8
// random hex digits.
func runID(now time.Time) string {
	return now.UTC().Format("20060102T150405Z") + "-" + triage.NewNonce()[:8]
}

// collects is what a triage gathers, for saying what a skip left out.
var collects = []string{
	"processes (command lines, users, parents, start times)",
	"network connections mapped to processes",
	"open files and memory map of the finding's process",
	"SHA-256 and size of every process binary and of executables in /tmp, /dev/shm, /var/tmp and working directories",
	"a copy of the binary the finding names",
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func joinNames(names []string) string { return strings.Join(names, ", ") }

func containersText(names []string) string {
	if len(names) == 1 {
		return "container " + names[0]
	}
	return "containers " + joinNames(names)
}
