package handler

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/taskrt"
)

// ec2API is the part of EC2 the action calls.
type ec2API interface {
	CreateSnapshots(ctx context.Context, in *ec2.CreateSnapshotsInput, opts ...func(*ec2.Options)) (*ec2.CreateSnapshotsOutput, error)
	DescribeSnapshots(ctx context.Context, in *ec2.DescribeSnapshotsInput, opts ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error)
}

// Handler snapshots the container instance's volumes.
type Handler struct {
	EC2 ec2API
}

// Params are the step's `with:` (tasks/catalog/params/snapshot-volumes.json).
type Params struct {
	ExcludeBootVolume  bool  `json:"excludeBootVolume"`
	CopyTagsFromSource *bool `json:"copyTagsFromSource"`
}

// Tags every snapshot of the step carries.
const (
	TagCase = "irflow:case-id"
	TagStep = "irflow:step"
)

var instanceID = regexp.MustCompile(`^i-[0-9a-f]{8,17}$`)

// New builds the handler with a real EC2 client.
func New(cfg aws.Config, _ taskrt.Env) taskrt.HandlerFunc {
	h := &Handler{EC2: ec2.NewFromConfig(cfg)}
	return h.Handle
}

// Snapshot is one snapshot in the result.
type Snapshot struct {
	SnapshotID string `json:"snapshotId"`
	VolumeID   string `json:"volumeId"`
	State      string `json:"state"`
	StartTime  string `json:"startTime,omitempty"`
}

// Handle starts the snapshots, or reports the ones the step already started.
func (h *Handler) Handle(ctx context.Context, p *contract.Payload) (*contract.Result, error) {
	var params Params
	if err := p.DecodeWith(&params); err != nil {
		return nil, err
	}
	copyTags := params.CopyTagsFromSource == nil || *params.CopyTagsFromSource
	if p.Target == nil || p.Target.InstanceID == "" {
		return nil, &contract.PreconditionFailedError{Reason: "the target has no EC2 container instance (Fargate?): there are no EBS volumes to snapshot"}
	}
	inst := p.Target.InstanceID
	if !instanceID.MatchString(inst) {
		return nil, &contract.InvalidInputError{Field: "target.instanceId", Reason: "not an EC2 instance id"}
	}
	existing, failed, err := h.existing(ctx, p.CaseID(), p.Folder())
	if err != nil {
		return nil, err
	}
	if len(existing) > 0 {
		return contract.OK(fmt.Sprintf("%d snapshot(s) of %s already started for this step: %s", len(existing), inst, ids(existing))).
			With("instanceId", inst).With("snapshots", existing).With("existing", true), nil
	}
	if p.DryRun() {
		vols := p.Target.VolumeIDs
		if vols == nil {
			vols = []string{}
		}
		return contract.DryRun(fmt.Sprintf("would start crash-consistent snapshots of every EBS volume of %s%s", inst, bootNote(params.ExcludeBootVolume))).
			With("instanceId", inst).With("volumeIds", vols).With("excludeBootVolume", params.ExcludeBootVolume).
			With("copyTagsFromSource", copyTags), nil
	}
	in := &ec2.CreateSnapshotsInput{
		InstanceSpecification: &ec2types.InstanceSpecification{InstanceId: aws.String(inst), ExcludeBootVolume: aws.Bool(params.ExcludeBootVolume)},
		Description:           aws.String(description(p, inst)),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSnapshot, Tags: []ec2types.Tag{
			{Key: aws.String(TagCase), Value: aws.String(p.CaseID())},
			{Key: aws.String(TagStep), Value: aws.String(p.Folder())},
			{Key: aws.String("Name"), Value: aws.String("irflow-" + p.CaseID() + "-" + p.Folder())},
		}}},
	}
	if copyTags {
		in.CopyTagsFromSource = ec2types.CopyTagsFromSourceVolume
	}
	out, err := h.EC2.CreateSnapshots(ctx, in)
	if err != nil {
		return nil, contract.AWSError("ec2:CreateSnapshots "+inst, err)
	}
	var snaps []Snapshot
	for _, s := range out.Snapshots {
		snaps = append(snaps, Snapshot{SnapshotID: aws.ToString(s.SnapshotId), VolumeID: aws.ToString(s.VolumeId),
			State: string(s.State), StartTime: formatTime(s.StartTime)})
	}
	if len(snaps) == 0 {
		return nil, &contract.PreconditionFailedError{Reason: fmt.Sprintf("%s has no EBS volume to snapshot%s", inst, bootNote(params.ExcludeBootVolume))}
	}
	sortSnaps(snaps)
	res := contract.OK(fmt.Sprintf("started %d snapshot(s) of %s: %s", len(snaps), inst, ids(snaps))).
		With("instanceId", inst).With("snapshots", snaps).With("existing", false)
	if failed > 0 {
		res.With("replacedFailed", failed)
	}
	return res, nil
}

// existing returns the step's snapshots that did not fail, and how many did.
func (h *Handler) existing(ctx context.Context, caseID, step string) ([]Snapshot, int, error) {
	in := &ec2.DescribeSnapshotsInput{
		OwnerIds: []string{"self"},
		Filters: []ec2types.Filter{
			{Name: aws.String("tag:" + TagCase), Values: []string{caseID}},
			{Name: aws.String("tag:" + TagStep), Values: []string{step}},
		},
	}
	var out []Snapshot
	failed := 0
	for {
		page, err := h.EC2.DescribeSnapshots(ctx, in)
		if err != nil {
			return nil, 0, contract.AWSError("ec2:DescribeSnapshots", err)
		}
		for _, s := range page.Snapshots {
			if s.State == ec2types.SnapshotStateError {
				failed++
				continue
			}
			out = append(out, Snapshot{SnapshotID: aws.ToString(s.SnapshotId), VolumeID: aws.ToString(s.VolumeId),
				State: string(s.State), StartTime: formatTime(s.StartTime)})
		}
		if aws.ToString(page.NextToken) == "" {
			break
		}
		in.NextToken = page.NextToken
	}
	sortSnaps(out)
	return out, failed, nil
}

// description names the case, step, instance and task (at most 255 characters).
func description(p *contract.Payload, inst string) string {
	d := fmt.Sprintf("irflow case %s step %s: %s", p.CaseID(), p.Folder(), inst)
	if p.Target.TaskArn != "" {
		d += " running " + p.Target.TaskArn
	}
	if len(d) > 255 {
		d = d[:255]
	}
	return d
}

func bootNote(exclude bool) string {
	if exclude {
		return " except the boot volume"
	}
	return ""
}

func sortSnaps(s []Snapshot) {
	sort.Slice(s, func(i, j int) bool { return s[i].VolumeID+s[i].SnapshotID < s[j].VolumeID+s[j].SnapshotID })
}

func ids(s []Snapshot) string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = x.SnapshotID
	}
	return strings.Join(out, ", ")
}

func formatTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
