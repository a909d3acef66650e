package handler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/taskrt"
)

// ec2API finds and creates flow logs.
type ec2API interface {
	DescribeFlowLogs(ctx context.Context, in *ec2.DescribeFlowLogsInput, opts ...func(*ec2.Options)) (*ec2.DescribeFlowLogsOutput, error)
	CreateFlowLogs(ctx context.Context, in *ec2.CreateFlowLogsInput, opts ...func(*ec2.Options)) (*ec2.CreateFlowLogsOutput, error)
}

// Handler turns on flow logs for the target's ENIs.
type Handler struct {
	EC2 ec2API
	// Bucket is the evidence bucket the flow logs are delivered to.
	Bucket string
}

// TagCaseID marks the flow logs irflow created for a case.
const TagCaseID = "irflow:case-id"

// Params are the step's `with:` (tasks/catalog/params/enable-flow-logs.json).
type Params struct {
	TrafficType                   string `json:"trafficType"`
	MaxAggregationIntervalSeconds int32  `json:"maxAggregationIntervalSeconds"`
}

// New builds the handler with a real client.
func New(cfg aws.Config, env taskrt.Env) taskrt.HandlerFunc {
	h := &Handler{EC2: ec2.NewFromConfig(cfg), Bucket: env.EvidenceBucket}
	return h.Handle
}

// Handle creates the missing flow logs, or says which it would create.
func (h *Handler) Handle(ctx context.Context, p *contract.Payload) (*contract.Result, error) {
	if p.Incident == nil || p.Target == nil {
		return nil, &contract.InvalidInputError{Field: "target", Reason: "enable-flow-logs needs the incident and target resolve-target returns"}
	}
	params, err := decodeParams(p)
	if err != nil {
		return nil, err
	}
	if h.Bucket == "" {
		return nil, &contract.PreconditionFailedError{Reason: "no evidence bucket configured (IRFLOW_EVIDENCE_BUCKET)"}
	}
	enis := eniIDs(p)
	if len(enis) == 0 {
		return contract.Skipped("the target has no ENI to log"), nil
	}
	dest := destination(p, h.Bucket)
	existing, err := h.existing(ctx, p.CaseID(), dest, enis)
	if err != nil {
		return nil, err
	}
	var todo []string
	for _, id := range enis {
		if _, ok := existing[id]; !ok {
			todo = append(todo, id)
		}
	}
	if p.DryRun() {
		return contract.DryRun(fmt.Sprintf("would create %s %s flow logs on %d ENIs (%d already on) to %s", params.TrafficType, interval(params), len(todo), len(existing), dest)).
			With("wouldCreate", nonNil(todo)).With("existing", existing).With("destination", dest).
			With("trafficType", params.TrafficType).With("maxAggregationIntervalSeconds", params.MaxAggregationIntervalSeconds), nil
	}
	if len(todo) == 0 {
		return contract.OK(fmt.Sprintf("flow logs already on for all %d ENIs of case %s", len(enis), p.CaseID())).
			With("created", []string{}).With("existing", existing).With("destination", dest), nil
	}
	created, err := h.create(ctx, p, params, dest, todo, existing)
	if err != nil {
		return nil, err
	}
	return contract.OK(fmt.Sprintf("created %d %s flow logs on %s to %s", len(created), params.TrafficType, strings.Join(todo, ", "), dest)).
		With("created", created).With("existing", existing).With("destination", dest), nil
}

func decodeParams(p *contract.Payload) (Params, error) {
	params := Params{TrafficType: "ALL", MaxAggregationIntervalSeconds: 60}
	if err := p.DecodeWith(&params); err != nil {
		return params, err
	}
	if params.TrafficType == "" {
		params.TrafficType = "ALL"
	}
	if params.MaxAggregationIntervalSeconds == 0 {
		params.MaxAggregationIntervalSeconds = 60
	}
	switch params.TrafficType {
	case "ALL", "ACCEPT", "REJECT":
	default:
		return params, &contract.InvalidInputError{Field: "with.trafficType", Reason: fmt.Sprintf("%q is not ALL, ACCEPT or REJECT", params.TrafficType)}
	}
	if params.MaxAggregationIntervalSeconds != 60 && params.MaxAggregationIntervalSeconds != 600 {
		return params, &contract.InvalidInputError{Field: "with.maxAggregationIntervalSeconds", Reason: fmt.Sprintf("%d is not 60 or 600", params.MaxAggregationIntervalSeconds)}
	}
	return params, nil
}

func interval(p Params) string { return fmt.Sprintf("%ds", p.MaxAggregationIntervalSeconds) }

// destination is the case's flow-logs folder in the evidence bucket.
func destination(p *contract.Payload, bucket string) string {
	partition := p.Incident.Partition
	if partition == "" {
		partition = "aws"
	}
	return fmt.Sprintf("arn:%s:s3:::%s/cases/%s/flow-logs/", partition, bucket, p.CaseID())
}

func eniIDs(p *contract.Payload) []string {
	seen := map[string]bool{}
	var ids []string
	for _, e := range p.Target.ENIs {
		if e.ID != "" && !seen[e.ID] {
			seen[e.ID] = true
			ids = append(ids, e.ID)
		}
	}
	return ids
}

// clientToken makes CreateFlowLogs idempotent across Step Functions retries
// of the same step: the same case, step and ENIs give the same token.
func clientToken(p *contract.Payload, enis []string) string {
	sorted := append([]string(nil), enis...)
	sort.Strings(sorted)
	sum := sha256.Sum256([]byte(p.CaseID() + "|" + p.Folder() + "|" + strings.Join(sorted, ",")))
	return "irflow-" + hex.EncodeToString(sum[:16])
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
