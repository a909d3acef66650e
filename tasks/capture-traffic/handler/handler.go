package handler

import (
	"context"
	_ "embed"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/hostcmd"
	"github.com/irflow/irflow/tasks/taskrt"
)

//go:embed traffic.sh
var trafficSh string

// Modes of with.mode.
const (
	ModeTcpdump = "tcpdump"
	ModeMirror  = "mirror"
)

// Defaults and bounds of the catalog's params schema, plus the size cap of
// one pcap (under the 5 GB a presigned PUT takes) and the time the step
// keeps for uploading after the capture.
const (
	DefaultDuration     = 60
	DefaultMaxPcapBytes = 4 << 30
	uploadMargin        = 2 * time.Minute
)

// Handler captures the task's traffic.
type Handler struct {
	Runner  *hostcmd.Runner
	Presign taskrt.S3PresignAPI
	EC2     mirrorAPI
	// Env gives the evidence bucket.
	Env          taskrt.Env
	Paths        hostcmd.Paths
	MaxPcapBytes int64
}

// Params are the step's `with:` (tasks/catalog/params/capture-traffic.json).
type Params struct {
	Mode            string `json:"mode"`
	DurationSeconds int    `json:"durationSeconds"`
	SnapLength      int    `json:"snapLength"`
	MirrorTargetID  string `json:"mirrorTargetId"`
	MirrorFilterID  string `json:"mirrorFilterId"`
}

// New builds the handler with real clients.
func New(cfg aws.Config, env taskrt.Env) taskrt.HandlerFunc {
	h := &Handler{
		Runner:       &hostcmd.Runner{SSM: ssm.NewFromConfig(cfg), History: taskrt.NewChain(cfg, env), Objects: taskrt.NewS3(env.Home(cfg))},
		Presign:      s3.NewPresignClient(taskrt.NewS3(env.Home(cfg))),
		EC2:          ec2.NewFromConfig(cfg),
		Env:          env,
		Paths:        hostcmd.DefaultPaths(),
		MaxPcapBytes: DefaultMaxPcapBytes,
	}
	return h.Handle
}

// Handle captures with tcpdump (start, check) or starts a mirror session.
func (h *Handler) Handle(ctx context.Context, p *contract.Payload) (*contract.Result, error) {
	params, err := decodeParams(p)
	if err != nil {
		return nil, err
	}
	check, err := hostcmd.IsCheck(p)
	if err != nil {
		return nil, err
	}
	if params.Mode == ModeMirror {
		return h.mirror(ctx, p, params)
	}
	inst, err := hostcmd.Instance(p, "tcpdump needs the host; Fargate tasks have flow logs only")
	if err != nil {
		return nil, err
	}
	if check {
		if p.DryRun() {
			return contract.DryRun("dry run: no capture was started").With("done", true), nil
		}
		return h.check(ctx, p, inst)
	}
	timeout := hostcmd.StepTimeout(p)
	if d := time.Duration(params.DurationSeconds) * time.Second; d+uploadMargin > timeout {
		return nil, &contract.InvalidInputError{Field: "with.durationSeconds", Reason: fmt.Sprintf(
			"a %s capture leaves less than %s of the step's %s timeout for the upload", d, uploadMargin, timeout)}
	}
	task, containers, err := hostcmd.Task(p.Target)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(containers))
	for i, c := range containers {
		names[i] = "traffic." + c.Key + ".pcap"
	}
	keys, err := hostcmd.Keys(p, names)
	if err != nil {
		return nil, err
	}
	if p.DryRun() {
		return contract.DryRun(fmt.Sprintf("would capture %ds of the task's packets on %s with tcpdump through SSM", params.DurationSeconds, inst)).
			With("done", true).With("mode", ModeTcpdump).With("instanceId", inst).With("scope", scope(p)).With("keys", keys), nil
	}
	uploads, err := hostcmd.Presign(ctx, h.Presign, h.Env.EvidenceBucket, names, keys, hostcmd.URLExpiry(timeout))
	if err != nil {
		return nil, err
	}
	s := &hostcmd.Script{Action: p.Action, CaseID: p.CaseID(), Step: p.Folder(), Paths: h.Paths, Uploads: uploads, Body: trafficSh,
		Vars: []hostcmd.Var{task,
			{Name: "DURATION", Value: strconv.Itoa(params.DurationSeconds), Pattern: digits},
			{Name: "SNAPLEN", Value: strconv.Itoa(params.SnapLength), Pattern: digits},
			{Name: "MAX_PCAP_BYTES", Value: strconv.FormatInt(h.maxPcap(), 10), Pattern: digits}}}
	for _, c := range containers {
		s.Targets = append(s.Targets, c.Call())
	}
	res, err := h.Runner.Launch(ctx, p, s, hostcmd.Command{InstanceID: inst, Keys: keys, Timeout: timeout},
		fmt.Sprintf("%ds packet capture on %s", params.DurationSeconds, inst))
	if err != nil {
		return nil, err
	}
	return res.With("mode", ModeTcpdump).With("durationSeconds", params.DurationSeconds).
		With("scope", scope(p)), nil
}

func (h *Handler) check(ctx context.Context, p *contract.Payload, inst string) (*contract.Result, error) {
	prog, pending, err := h.Runner.Finished(ctx, p, "packet capture on "+inst)
	if err != nil {
		return nil, err
	}
	if prog == nil {
		return pending.With("mode", ModeTcpdump), nil
	}
	m := prog.Manifest
	if len(m.Files) == 0 {
		var why []string
		for _, s := range m.Skipped {
			why = append(why, s.Name+": "+s.Reason)
		}
		return nil, &contract.PreconditionFailedError{Reason: fmt.Sprintf("command %s on %s captured nothing (%s)", prog.CommandID, inst, strings.Join(why, "; "))}
	}
	ev, pending, err := h.Runner.Evidence(ctx, h.Env.EvidenceBucket, p, prog, "packet capture on "+inst)
	if err != nil {
		return nil, err
	}
	if ev == nil {
		return pending.With("mode", ModeTcpdump), nil
	}
	packets, truncated := map[string]string{}, []string{}
	for k, v := range m.Info {
		if c, ok := strings.CutPrefix(k, "packets."); ok {
			packets[c] = v
		}
		if c, ok := strings.CutPrefix(k, "truncated."); ok {
			truncated = append(truncated, c)
		}
	}
	sort.Strings(truncated)
	summary := fmt.Sprintf("captured %d pcap(s) of the task's traffic on %s", len(m.Files), inst)
	if len(truncated) > 0 {
		summary += fmt.Sprintf("; %s stopped at the %d-byte cap", strings.Join(truncated, ", "), h.maxPcap())
	}
	res := contract.OK(summary).Add(ev...)
	res.Outputs = prog.Outputs(true)
	skipped := m.Skipped
	if skipped == nil {
		skipped = []hostcmd.Skip{}
	}
	return res.With("ssmStatus", prog.Status).With("mode", ModeTcpdump).With("packets", packets).
		With("truncated", truncated).With("skipped", skipped), nil
}

// scope says whose packets a capture in the task's network namespace holds.
func scope(p *contract.Payload) string {
	if p.Target != nil && p.Target.NetworkMode == "host" {
		return "host: the task shares the instance's network namespace, so the capture holds every packet of the host"
	}
	return "task: each container's network namespace"
}

func (h *Handler) maxPcap() int64 {
	if h.MaxPcapBytes > 0 {
		return h.MaxPcapBytes
	}
	return DefaultMaxPcapBytes
}

var (
	digits     = regexp.MustCompile(`^[0-9]{1,12}$`)
	mirrorTgt  = regexp.MustCompile(`^tmt-[a-f0-9]{8,17}$`)
	mirrorFltr = regexp.MustCompile(`^tmf-[a-f0-9]{8,17}$`)
)

func decodeParams(p *contract.Payload) (Params, error) {
	params := Params{Mode: ModeTcpdump, DurationSeconds: DefaultDuration}
	if err := p.DecodeWith(&params); err != nil {
		return params, err
	}
	bad := func(field, reason string) (Params, error) {
		return params, &contract.InvalidInputError{Field: "with." + field, Reason: reason}
	}
	switch {
	case params.Mode != ModeTcpdump && params.Mode != ModeMirror:
		return bad("mode", fmt.Sprintf("%q is not tcpdump or mirror", params.Mode))
	case params.DurationSeconds < 5 || params.DurationSeconds > 1800:
		return bad("durationSeconds", fmt.Sprintf("%d is not between 5 and 1800", params.DurationSeconds))
	case params.SnapLength < 0 || params.SnapLength > 262144:
		return bad("snapLength", fmt.Sprintf("%d is not between 0 and 262144", params.SnapLength))
	case params.MirrorTargetID != "" && !mirrorTgt.MatchString(params.MirrorTargetID):
		return bad("mirrorTargetId", "not a traffic-mirror target id (tmt-…)")
	case params.MirrorFilterID != "" && !mirrorFltr.MatchString(params.MirrorFilterID):
		return bad("mirrorFilterId", "not a traffic-mirror filter id (tmf-…)")
	case params.Mode == ModeMirror && params.MirrorTargetID == "":
		return bad("mirrorTargetId", "mode mirror needs a traffic-mirror target")
	case params.Mode == ModeMirror && params.MirrorFilterID == "":
		return bad("mirrorFilterId", "mode mirror needs a traffic-mirror filter")
	}
	return params, nil
}
