package handler

import (
	"context"
	_ "embed"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/hostcmd"
	"github.com/irflow/irflow/tasks/taskrt"
)

//go:embed memory.sh
var memorySh string

// presignAPI presigns the uploads of the image parts and, for an s3://
// AVML location, the tool's download, so the instance needs no S3 access.
type presignAPI interface {
	PresignPutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
	PresignGetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
}

// Upload limits: a presigned PUT takes at most 5 GB, so the image goes up in
// parts of 4 GiB, and 16 presigned parts (64 GiB, more with compression)
// keep the SSM command around 35 KB.
const (
	DefaultPartBytes = 4 << 30
	DefaultMaxParts  = 16
)

// Handler captures the container instance's memory.
type Handler struct {
	Runner  *hostcmd.Runner
	Presign presignAPI
	// Env gives the evidence bucket and the default AVML location and hash.
	Env       taskrt.Env
	Paths     hostcmd.Paths
	PartBytes int64
	MaxParts  int
}

// Params are the step's `with:` (tasks/catalog/params/capture-memory.json).
type Params struct {
	AvmlURL    string `json:"avmlUrl"`
	AvmlSha256 string `json:"avmlSha256"`
	Compress   *bool  `json:"compress"`
}

// New builds the handler with real clients.
func New(cfg aws.Config, env taskrt.Env) taskrt.HandlerFunc { return newHandler(cfg, env).Handle }

func newHandler(cfg aws.Config, env taskrt.Env) *Handler {
	return &Handler{
		Runner:    &hostcmd.Runner{SSM: ssm.NewFromConfig(cfg), History: taskrt.NewChain(cfg, env), Objects: taskrt.NewS3(env.Home(cfg))},
		Presign:   s3.NewPresignClient(taskrt.NewS3(env.Home(cfg))),
		Env:       env,
		Paths:     hostcmd.DefaultPaths(),
		PartBytes: DefaultPartBytes,
		MaxParts:  DefaultMaxParts,
	}
}

// Handle starts the capture (mode start) or reports on it (mode check).
func (h *Handler) Handle(ctx context.Context, p *contract.Payload) (*contract.Result, error) {
	params, err := decodeParams(p)
	if err != nil {
		return nil, err
	}
	inst, check, dry, err := hostcmd.Begin(p, "there is no host memory to capture", "memory capture")
	if err != nil || dry != nil {
		return dry, err
	}
	if check {
		return h.check(ctx, p, inst, params)
	}
	tool, err := h.tool(params)
	if err != nil {
		return nil, err
	}
	names := h.partNames(params.compress())
	keys, err := hostcmd.Keys(p, names)
	if err != nil {
		return nil, err
	}
	if p.DryRun() {
		return contract.DryRun(fmt.Sprintf("would capture the memory of %s with AVML %s… through SSM and upload it to %s",
			inst, tool.sha[:12], prefixOf(keys[0]))).
			With("done", true).With("instanceId", inst).With("avml", tool.outputs()).With("compress", params.compress()).
			With("keys", keys), nil
	}
	return h.start(ctx, p, inst, params, tool, names, keys)
}

func (h *Handler) start(ctx context.Context, p *contract.Payload, inst string, params Params, tool avml, names, keys []string) (*contract.Result, error) {
	timeout := hostcmd.StepTimeout(p)
	expiry := hostcmd.URLExpiry(timeout)
	uploads, err := hostcmd.Presign(ctx, h.Presign, h.Env.EvidenceBucket, names, keys, expiry)
	if err != nil {
		return nil, err
	}
	download, err := h.download(ctx, tool.location, expiry)
	if err != nil {
		return nil, err
	}
	compress := "0"
	if params.compress() {
		compress = "1"
	}
	res, err := h.Runner.Launch(ctx, p, &hostcmd.Script{
		Action: p.Action, CaseID: p.CaseID(), Step: p.Folder(), Paths: h.Paths, Uploads: uploads, Body: memorySh,
		Vars: []hostcmd.Var{
			{Name: "AVML_URL", Value: download, Pattern: hostcmd.URL},
			{Name: "AVML_SHA256", Value: tool.sha, Pattern: hostcmd.SHA256},
			{Name: "COMPRESS", Value: compress, Pattern: hostcmd.Word},
			{Name: "IMAGE", Value: imageName(params.compress()), Pattern: hostcmd.FileName},
			{Name: "PART_BYTES", Value: strconv.FormatInt(h.partBytes(), 10), Pattern: digits},
			{Name: "MAX_PARTS", Value: strconv.Itoa(len(names)), Pattern: digits},
		},
	}, hostcmd.Command{InstanceID: inst, Keys: keys, Timeout: timeout}, "memory capture of "+inst)
	if err != nil {
		return nil, err
	}
	return res.With("avml", tool.outputs()).With("compress", params.compress()), nil
}

func (h *Handler) check(ctx context.Context, p *contract.Payload, inst string, params Params) (*contract.Result, error) {
	prog, pending, err := h.Runner.Finished(ctx, p, "memory capture of "+inst)
	if prog == nil {
		return pending, err
	}
	m := prog.Manifest
	img := map[string]any{"name": m.Info["image"], "sha256": m.Info["image-sha256"], "parts": len(m.Files), "compressed": params.compress()}
	size, serr := strconv.ParseInt(m.Info["image-bytes"], 10, 64)
	if len(m.Files) == 0 || !hostcmd.SHA256.MatchString(m.Info["image-sha256"]) || serr != nil || m.Info["parts"] != strconv.Itoa(len(m.Files)) {
		return nil, &contract.PreconditionFailedError{Reason: fmt.Sprintf("command %s on %s finished without a complete memory image (%d parts uploaded, %s announced)",
			prog.CommandID, inst, len(m.Files), m.Info["parts"])}
	}
	img["bytes"] = size
	ev, pending, err := h.Runner.Evidence(ctx, h.Env.EvidenceBucket, p, prog, "memory capture of "+inst)
	if ev == nil {
		return pending, err
	}
	res := contract.OK(fmt.Sprintf("memory of %s captured: %d bytes in %d part(s), sha256 %s; every part hashed again in S3", inst, size, len(m.Files), m.Info["image-sha256"]))
	res.Add(ev...)
	res.Outputs = prog.Outputs(true)
	return res.With("ssmStatus", prog.Status).With("image", img).With("avmlSha256", m.Info["avml-sha256"]), nil
}

// avml is the memory tool to download: where from and its pinned hash.
type avml struct {
	location string
	sha      string
	fromEnv  bool
}

func (a avml) outputs() map[string]any {
	return map[string]any{"location": a.location, "sha256": a.sha, "fromDeployment": a.fromEnv}
}

var avmlLocation = regexp.MustCompile(`^(https|s3)://[A-Za-z0-9._~/%+-]+$`)

// tool resolves the AVML location and pinned hash; without a pin nothing runs.
func (h *Handler) tool(params Params) (avml, error) {
	a := avml{location: params.AvmlURL, sha: params.AvmlSha256}
	if a.sha == "" {
		a.sha, a.fromEnv = h.Env.AVMLSha256, true
	}
	if a.sha == "" {
		return a, &contract.PreconditionFailedError{Reason: "no pinned AVML hash: set with.avmlSha256 or the deployment's IRFLOW_AVML_SHA256; irflow never runs an unpinned memory tool"}
	}
	if !hostcmd.SHA256.MatchString(a.sha) {
		if a.fromEnv {
			return a, &contract.PreconditionFailedError{Reason: "IRFLOW_AVML_SHA256 is not a lower-case hex SHA-256"}
		}
		return a, &contract.InvalidInputError{Field: "with.avmlSha256", Reason: "not a lower-case hex SHA-256"}
	}
	if a.location == "" {
		a.location = h.Env.AVMLURL
		if a.location == "" {
			return a, &contract.PreconditionFailedError{Reason: "no AVML location: set with.avmlUrl or the deployment's IRFLOW_AVML_URL"}
		}
		if !avmlLocation.MatchString(a.location) {
			return a, &contract.PreconditionFailedError{Reason: "IRFLOW_AVML_URL is not an https:// or s3:// URL"}
		}
	} else if !avmlLocation.MatchString(a.location) {
		return a, &contract.InvalidInputError{Field: "with.avmlUrl", Reason: "not an https:// or s3:// URL of safe characters"}
	}
	// An s3:// location is checked here, not when it is presigned: a dry
	// run reports it, and a bad one fails before any upload URL is signed.
	if rest, ok := strings.CutPrefix(a.location, "s3://"); ok {
		if bucket, key, _ := strings.Cut(rest, "/"); bucket == "" || key == "" {
			if a.location != params.AvmlURL {
				return a, &contract.PreconditionFailedError{Reason: "IRFLOW_AVML_URL: an s3:// location needs a bucket and a key"}
			}
			return a, &contract.InvalidInputError{Field: "with.avmlUrl", Reason: "an s3:// location needs a bucket and a key"}
		}
	}
	return a, nil
}

// download returns the URL the instance fetches AVML from: an https URL as
// is, an s3:// location presigned for GET.
func (h *Handler) download(ctx context.Context, location string, expiry time.Duration) (string, error) {
	rest, ok := strings.CutPrefix(location, "s3://")
	if !ok {
		return location, nil
	}
	bucket, key, _ := strings.Cut(rest, "/") // both present: tool checked them
	req, err := h.Presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}, s3.WithPresignExpires(expiry))
	if err != nil {
		return "", contract.AWSError("s3:GetObject (presign) "+location, err)
	}
	return req.URL, nil
}

var digits = regexp.MustCompile(`^[0-9]{1,15}$`)

func (h *Handler) partBytes() int64 {
	if h.PartBytes > 0 {
		return h.PartBytes
	}
	return DefaultPartBytes
}

// partNames are the file names the image's parts may take.
func (h *Handler) partNames(compress bool) []string {
	n := h.MaxParts
	if n <= 0 {
		n = DefaultMaxParts
	}
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s.part%03d", imageName(compress), i)
	}
	return out
}

// imageName follows AVML's own naming: a compressed image is not plain LiME
// (avml-convert turns it back into one).
func imageName(compress bool) string {
	if compress {
		return "memory.lime.compressed"
	}
	return "memory.lime"
}

func (p Params) compress() bool { return p.Compress == nil || *p.Compress }

func decodeParams(p *contract.Payload) (Params, error) {
	var params Params
	err := p.DecodeWith(&params)
	return params, err
}

func prefixOf(key string) string { return key[:strings.LastIndexByte(key, '/')+1] }
