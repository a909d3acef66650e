package handler

import (
	"context"
	_ "embed"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/hostcmd"
	"github.com/irflow/irflow/tasks/taskrt"
)

//go:embed collect.sh
var collectSh string

// Artifacts are the values of with.include, in collection order.
var Artifacts = []string{"docker-inspect", "docker-diff", "docker-logs", "process-list", "ecs-agent-logs", "network-connections"}

// Defaults of the catalog's params schema and its bounds.
const (
	DefaultMaxLogLines = 50000
	minLogLines        = 100
	maxLogLines        = 1000000
)

// Handler collects the host's artifacts of the task.
type Handler struct {
	Runner  *hostcmd.Runner
	Presign taskrt.S3PresignAPI
	// Env gives the evidence bucket.
	Env   taskrt.Env
	Paths hostcmd.Paths
}

// Params are the step's `with:` (tasks/catalog/params/collect-host-artifacts.json).
type Params struct {
	Include     []string `json:"include"`
	MaxLogLines int      `json:"maxLogLines"`
}

// New builds the handler with real clients.
func New(cfg aws.Config, env taskrt.Env) taskrt.HandlerFunc {
	h := &Handler{
		Runner:  &hostcmd.Runner{SSM: ssm.NewFromConfig(cfg), History: taskrt.NewChain(cfg, env), Objects: taskrt.NewS3(env.Home(cfg))},
		Presign: s3.NewPresignClient(taskrt.NewS3(env.Home(cfg))),
		Env:     env,
		Paths:   hostcmd.DefaultPaths(),
	}
	return h.Handle
}

// Handle starts the collection (mode start) or reports on it (mode check).
func (h *Handler) Handle(ctx context.Context, p *contract.Payload) (*contract.Result, error) {
	params, err := decodeParams(p)
	if err != nil {
		return nil, err
	}
	inst, check, dry, err := hostcmd.Begin(p, "there is no host to collect from", "collection")
	if err != nil || dry != nil {
		return dry, err
	}
	if check {
		return h.check(ctx, p, inst)
	}
	task, containers, err := hostcmd.Task(p.Target)
	if err != nil {
		return nil, err
	}
	names := fileNames(params.Include, containers)
	keys, err := hostcmd.Keys(p, names)
	if err != nil {
		return nil, err
	}
	if p.DryRun() {
		return contract.DryRun(fmt.Sprintf("would collect %d artifacts of %d container(s) from %s through SSM", len(names), len(containers), inst)).
			With("done", true).With("instanceId", inst).With("include", params.Include).With("keys", keys), nil
	}
	timeout := hostcmd.StepTimeout(p)
	uploads, err := hostcmd.Presign(ctx, h.Presign, h.Env.EvidenceBucket, names, keys, hostcmd.URLExpiry(timeout))
	if err != nil {
		return nil, err
	}
	s := &hostcmd.Script{Action: p.Action, CaseID: p.CaseID(), Step: p.Folder(), Paths: h.Paths, Uploads: uploads, Body: collectSh,
		Vars: []hostcmd.Var{task,
			{Name: "INCLUDE", Value: strings.Join(params.Include, " "), Pattern: includeList},
			{Name: "MAX_LOG_LINES", Value: strconv.Itoa(params.MaxLogLines), Pattern: digits}}}
	for _, c := range containers {
		s.Targets = append(s.Targets, c.Call())
	}
	res, err := h.Runner.Launch(ctx, p, s, hostcmd.Command{InstanceID: inst, Keys: keys, Timeout: timeout},
		fmt.Sprintf("collection of %d host artifacts from %s", len(names), inst))
	if err != nil {
		return nil, err
	}
	return res.With("include", params.Include), nil
}

func (h *Handler) check(ctx context.Context, p *contract.Payload, inst string) (*contract.Result, error) {
	prog, pending, err := h.Runner.Finished(ctx, p, "host artifacts of "+inst)
	if prog == nil {
		return pending, err
	}
	m := prog.Manifest
	if len(m.Files) == 0 {
		return nil, &contract.PreconditionFailedError{Reason: fmt.Sprintf("command %s on %s collected nothing: %s", prog.CommandID, inst, firstReasons(m.Skipped))}
	}
	ev, pending, err := h.Runner.Evidence(ctx, h.Env.EvidenceBucket, p, prog, "host artifacts of "+inst)
	if ev == nil {
		return pending, err
	}
	summary := fmt.Sprintf("collected %d host artifacts from %s, each hashed again in S3", len(m.Files), inst)
	if len(m.Skipped) > 0 {
		summary += fmt.Sprintf("; %d skipped (%s)", len(m.Skipped), firstReasons(m.Skipped))
	}
	res := contract.OK(summary).Add(ev...)
	res.Outputs = prog.Outputs(true)
	return res.With("ssmStatus", prog.Status).With("skipped", nonNil(m.Skipped)).With("containers", containerIDs(m.Info)), nil
}

var (
	digits      = regexp.MustCompile(`^[0-9]{1,7}$`)
	includeList = regexp.MustCompile(`^[a-z-]+( [a-z-]+)*$`)
)

func decodeParams(p *contract.Payload) (Params, error) {
	var params Params
	if err := p.DecodeWith(&params); err != nil {
		return params, err
	}
	if params.Include == nil {
		params.Include = append([]string(nil), Artifacts...)
	}
	if len(params.Include) == 0 {
		return params, &contract.InvalidInputError{Field: "with.include", Reason: "names no artifact"}
	}
	seen := map[string]bool{}
	for _, a := range params.Include {
		if !isArtifact(a) {
			return params, &contract.InvalidInputError{Field: "with.include", Reason: fmt.Sprintf("%q is not one of %s", a, strings.Join(Artifacts, ", "))}
		}
		if seen[a] {
			return params, &contract.InvalidInputError{Field: "with.include", Reason: fmt.Sprintf("%q is listed twice", a)}
		}
		seen[a] = true
	}
	if params.MaxLogLines == 0 {
		params.MaxLogLines = DefaultMaxLogLines
	}
	if params.MaxLogLines < minLogLines || params.MaxLogLines > maxLogLines {
		return params, &contract.InvalidInputError{Field: "with.maxLogLines", Reason: fmt.Sprintf("%d is not between %d and %d", params.MaxLogLines, minLogLines, maxLogLines)}
	}
	return params, nil
}

func isArtifact(a string) bool {
	for _, x := range Artifacts {
		if a == x {
			return true
		}
	}
	return false
}

// fileNames are the objects the script may upload, matching collect.sh's
// irflow_file: <artifact>.<container>.<ext> per container, then the agent logs.
func fileNames(include []string, containers []hostcmd.Container) []string {
	want := map[string]bool{}
	for _, a := range include {
		want[a] = true
	}
	ext := map[string]string{"docker-inspect": "json", "docker-logs": "log"}
	var out []string
	for _, c := range containers {
		for _, a := range Artifacts {
			if a == "ecs-agent-logs" || !want[a] {
				continue
			}
			e := ext[a]
			if e == "" {
				e = "txt"
			}
			out = append(out, fmt.Sprintf("%s.%s.%s", a, c.Key, e))
		}
	}
	if want["ecs-agent-logs"] {
		out = append(out, "ecs-agent-logs.tar.gz")
	}
	return out
}

// containerIDs are the Docker ids the script found, by container key.
func containerIDs(info map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range info {
		if key, ok := strings.CutPrefix(k, "container."); ok {
			out[key] = v
		}
	}
	return out
}

func firstReasons(skipped []hostcmd.Skip) string {
	var rs []string
	seen := map[string]bool{}
	for _, s := range skipped {
		if !seen[s.Reason] {
			seen[s.Reason] = true
			rs = append(rs, s.Reason)
		}
	}
	sort.Strings(rs)
	if len(rs) > 3 {
		rs = append(rs[:3], "…")
	}
	if len(rs) == 0 {
		return "no reason given"
	}
	return strings.Join(rs, "; ")
}

func nonNil(s []hostcmd.Skip) []hostcmd.Skip {
	if s == nil {
		return []hostcmd.Skip{}
	}
	return s
}
