package handler

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/taskrt"
)

// ecsAPI reads the task definition's log configuration.
type ecsAPI interface {
	DescribeTaskDefinition(ctx context.Context, in *ecs.DescribeTaskDefinitionInput, opts ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
}

// logsAPI reads log events.
type logsAPI interface {
	FilterLogEvents(ctx context.Context, in *cloudwatchlogs.FilterLogEventsInput, opts ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error)
}

// Handler copies the task's awslogs streams to the evidence bucket.
type Handler struct {
	ECS  ecsAPI
	Logs logsAPI
	// Region is the region of Logs; LogsIn returns a client for a container
	// whose awslogs-region differs (nil: use Logs).
	Region   string
	LogsIn   func(region string) logsAPI
	Evidence *taskrt.EvidenceWriter
	Now      func() time.Time
}

// Params are the step's `with:` (tasks/catalog/params/collect-logs.json).
type Params struct {
	LookbackMinutes int    `json:"lookbackMinutes"`
	MaxBytes        int64  `json:"maxBytes"`
	FilterPattern   string `json:"filterPattern"`
}

// Catalog defaults of the parameters.
const (
	DefaultLookbackMinutes = 120
	DefaultMaxBytes        = 100 << 20
)

// New builds the handler with real clients.
func New(cfg aws.Config, env taskrt.Env) taskrt.HandlerFunc {
	h := &Handler{
		ECS: ecs.NewFromConfig(cfg), Logs: cloudwatchlogs.NewFromConfig(cfg), Region: cfg.Region,
		LogsIn: func(region string) logsAPI {
			return cloudwatchlogs.NewFromConfig(cfg, func(o *cloudwatchlogs.Options) { o.Region = region })
		},
		Evidence: taskrt.NewEvidenceWriter(cfg, env),
	}
	return h.Handle
}

// Handle collects every awslogs container's events of the window.
func (h *Handler) Handle(ctx context.Context, p *contract.Payload) (*contract.Result, error) {
	if p.Incident == nil || p.Target == nil {
		return nil, &contract.InvalidInputError{Field: "target", Reason: "collect-logs needs the incident and target resolve-target returns"}
	}
	params, err := decodeParams(p)
	if err != nil {
		return nil, err
	}
	defArn := p.Target.TaskDefinitionArn
	if defArn == "" {
		return nil, &contract.InvalidInputError{Field: "target.taskDefinitionArn", Reason: "is empty"}
	}
	def, err := h.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(defArn)})
	if err != nil {
		return nil, contract.AWSError("ecs:DescribeTaskDefinition "+defArn, err)
	}
	end := h.now()
	start := windowStart(p, end, params.LookbackMinutes)
	w := window{Start: start.UnixMilli(), End: end.UnixMilli(), Pattern: params.FilterPattern, MaxBytes: params.MaxBytes}

	res := contract.OK("")
	collected, skipped := []collected{}, []skip{}
	var containers []ecstypes.ContainerDefinition
	if def.TaskDefinition != nil {
		containers = def.TaskDefinition.ContainerDefinitions
	}
	for _, cd := range containers {
		src, why := h.source(p, cd)
		if why != "" {
			skipped = append(skipped, skip{Name: aws.ToString(cd.Name), Reason: why})
			continue
		}
		c, ev, err := h.collect(ctx, p, src, w)
		if err != nil {
			return nil, err
		}
		if ev == nil {
			skipped = append(skipped, skip{Name: src.Container, Reason: c.Note})
			continue
		}
		res.Add(*ev)
		collected = append(collected, c)
	}
	res.With("window", map[string]string{"start": start.UTC().Format(time.RFC3339), "end": end.UTC().Format(time.RFC3339)}).
		With("containers", collected).With("skipped", skipped)
	if len(collected) == 0 {
		res.Status = contract.StatusSkipped
		res.Summary = fmt.Sprintf("no awslogs stream to collect (%d containers skipped)", len(skipped))
		return res, nil
	}
	res.Summary = summary(collected, skipped)
	return res, nil
}

func decodeParams(p *contract.Payload) (Params, error) {
	params := Params{LookbackMinutes: DefaultLookbackMinutes, MaxBytes: DefaultMaxBytes}
	if err := p.DecodeWith(&params); err != nil {
		return params, err
	}
	if params.LookbackMinutes == 0 {
		params.LookbackMinutes = DefaultLookbackMinutes
	}
	if params.MaxBytes == 0 {
		params.MaxBytes = DefaultMaxBytes
	}
	switch {
	case params.LookbackMinutes < 1 || params.LookbackMinutes > 10080:
		return params, &contract.InvalidInputError{Field: "with.lookbackMinutes", Reason: fmt.Sprintf("%d is not between 1 and 10080", params.LookbackMinutes)}
	case params.MaxBytes < 1024 || params.MaxBytes > 1<<30:
		return params, &contract.InvalidInputError{Field: "with.maxBytes", Reason: fmt.Sprintf("%d is not between 1024 and 1073741824", params.MaxBytes)}
	case len(params.FilterPattern) > 1024:
		return params, &contract.InvalidInputError{Field: "with.filterPattern", Reason: "is longer than 1024 characters"}
	}
	return params, nil
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// windowStart is the finding's creation time (else when the incident was
// received, else now) minus the look-back.
func windowStart(p *contract.Payload, now time.Time, lookbackMinutes int) time.Time {
	at := now
	var candidates []string
	if f := p.Incident.Finding; f != nil {
		candidates = append(candidates, f.CreatedAt)
	}
	candidates = append(candidates, p.Incident.ReceivedAt)
	for _, s := range candidates {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil && s != "" {
			at = t
			break
		}
	}
	if at.After(now) {
		at = now
	}
	return at.Add(-time.Duration(lookbackMinutes) * time.Minute)
}

func summary(c []collected, s []skip) string {
	var events int
	var parts []string
	for _, x := range c {
		events += x.Events
		part := fmt.Sprintf("%s %d", x.Container, x.Events)
		if x.Truncated {
			part += " (truncated)"
		}
		parts = append(parts, part)
	}
	out := fmt.Sprintf("collected %d log events from %d containers: %s", events, len(c), strings.Join(parts, ", "))
	if len(s) > 0 {
		out += fmt.Sprintf("; %d skipped", len(s))
	}
	return out
}
