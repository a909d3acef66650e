package handler

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
)

type fakeEC2 struct {
	create   func(in *ec2.CreateSnapshotsInput) (*ec2.CreateSnapshotsOutput, error)
	describe func(in *ec2.DescribeSnapshotsInput) (*ec2.DescribeSnapshotsOutput, error)
	creates  []*ec2.CreateSnapshotsInput
}

var _ ec2API = (*fakeEC2)(nil)

func (f *fakeEC2) CreateSnapshots(_ context.Context, in *ec2.CreateSnapshotsInput, _ ...func(*ec2.Options)) (*ec2.CreateSnapshotsOutput, error) {
	f.creates = append(f.creates, in)
	return f.create(in)
}

func (f *fakeEC2) DescribeSnapshots(_ context.Context, in *ec2.DescribeSnapshotsInput, _ ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error) {
	if f.describe == nil {
		return &ec2.DescribeSnapshotsOutput{}, nil
	}
	return f.describe(in)
}

func apiErr(code string) error {
	return &smithy.GenericAPIError{Code: code, Message: code + " message"}
}

const inst = "i-0123456789abcdef0"

var started = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func created(in *ec2.CreateSnapshotsInput) (*ec2.CreateSnapshotsOutput, error) {
	return &ec2.CreateSnapshotsOutput{Snapshots: []ec2types.SnapshotInfo{
		{SnapshotId: aws.String("snap-2"), VolumeId: aws.String("vol-b"), State: ec2types.SnapshotStatePending, StartTime: &started},
		{SnapshotId: aws.String("snap-1"), VolumeId: aws.String("vol-a"), State: ec2types.SnapshotStatePending, StartTime: &started},
	}}, nil
}

func payload(dry bool, with string) *contract.Payload {
	if with == "" {
		with = "{}"
	}
	return &contract.Payload{Action: "snapshot-volumes", Step: "disks", With: json.RawMessage(with),
		Incident: &incident.Incident{CaseID: "case-3", DryRun: dry},
		Target: &incident.Target{LaunchType: "EC2", InstanceID: inst, VolumeIDs: []string{"vol-a", "vol-b"},
			TaskArn: "arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef"}}
}

func TestSnapshots(t *testing.T) {
	f := &fakeEC2{create: created}
	res, err := (&Handler{EC2: f}).Handle(context.Background(), payload(false, ""))
	if err != nil {
		t.Fatal(err)
	}
	in := f.creates[0]
	if aws.ToString(in.InstanceSpecification.InstanceId) != inst || aws.ToBool(in.InstanceSpecification.ExcludeBootVolume) ||
		in.CopyTagsFromSource != ec2types.CopyTagsFromSourceVolume {
		t.Errorf("CreateSnapshots %+v", in.InstanceSpecification)
	}
	tags := map[string]string{}
	for _, tg := range in.TagSpecifications[0].Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if in.TagSpecifications[0].ResourceType != ec2types.ResourceTypeSnapshot || tags[TagCase] != "case-3" || tags[TagStep] != "disks" || tags["Name"] != "irflow-case-3-disks" {
		t.Errorf("tags %v", tags)
	}
	snaps := res.Outputs["snapshots"].([]Snapshot)
	if res.Status != contract.StatusOK || len(snaps) != 2 || snaps[0] != (Snapshot{"snap-1", "vol-a", "pending", "2026-03-04T05:06:07Z"}) {
		t.Errorf("result %s %v", res.Status, snaps)
	}
}

func TestParamsReachTheCall(t *testing.T) {
	f := &fakeEC2{create: created}
	if _, err := (&Handler{EC2: f}).Handle(context.Background(), payload(false, `{"excludeBootVolume":true,"copyTagsFromSource":false}`)); err != nil {
		t.Fatal(err)
	}
	if in := f.creates[0]; !aws.ToBool(in.InstanceSpecification.ExcludeBootVolume) || in.CopyTagsFromSource != "" {
		t.Errorf("exclude %v copy %q", aws.ToBool(in.InstanceSpecification.ExcludeBootVolume), in.CopyTagsFromSource)
	}
}

func TestExistingSnapshotsAreNotRetaken(t *testing.T) {
	tests := []struct {
		name        string
		states      []ec2types.SnapshotState
		wantCreates int
	}{
		{"started", []ec2types.SnapshotState{ec2types.SnapshotStatePending, ec2types.SnapshotStateCompleted}, 0},
		{"all failed", []ec2types.SnapshotState{ec2types.SnapshotStateError}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pages := 0
			f := &fakeEC2{create: created, describe: func(in *ec2.DescribeSnapshotsInput) (*ec2.DescribeSnapshotsOutput, error) {
				if in.OwnerIds[0] != "self" || aws.ToString(in.Filters[0].Name) != "tag:irflow:case-id" || in.Filters[1].Values[0] != "disks" {
					t.Errorf("describe %+v", in)
				}
				pages++
				if pages == 1 {
					return &ec2.DescribeSnapshotsOutput{NextToken: aws.String("more")}, nil
				}
				var out ec2.DescribeSnapshotsOutput
				for i, s := range tt.states {
					out.Snapshots = append(out.Snapshots, ec2types.Snapshot{SnapshotId: aws.String("snap-old" + string(rune('a'+i))), VolumeId: aws.String("vol-a"), State: s})
				}
				return &out, nil
			}}
			res, err := (&Handler{EC2: f}).Handle(context.Background(), payload(false, ""))
			if err != nil {
				t.Fatal(err)
			}
			if len(f.creates) != tt.wantCreates || pages != 2 {
				t.Errorf("%d creates over %d pages; want %d over 2", len(f.creates), pages, tt.wantCreates)
			}
			if tt.wantCreates == 0 && res.Outputs["existing"] != true {
				t.Errorf("outputs %v", res.Outputs)
			}
			if tt.wantCreates == 1 && res.Outputs["replacedFailed"] != 1 {
				t.Errorf("outputs %v; want the failed set counted", res.Outputs)
			}
		})
	}
}

func TestDryRunCreatesNothing(t *testing.T) {
	f := &fakeEC2{create: created}
	res, err := (&Handler{EC2: f}).Handle(context.Background(), payload(true, ""))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != contract.StatusDryRun || len(f.creates) != 0 {
		t.Errorf("dry run: %s, %d creates", res.Status, len(f.creates))
	}
}

func TestErrors(t *testing.T) {
	fargate := payload(false, "")
	fargate.Target = &incident.Target{LaunchType: "FARGATE", TaskArn: "arn:aws:ecs:us-east-1:123456789012:task/prod/x"}
	badID := payload(false, "")
	badID.Target.InstanceID = "i-x; reboot"
	fail := func(code string) func(*ec2.CreateSnapshotsInput) (*ec2.CreateSnapshotsOutput, error) {
		return func(*ec2.CreateSnapshotsInput) (*ec2.CreateSnapshotsOutput, error) { return nil, apiErr(code) }
	}
	none := func(*ec2.CreateSnapshotsInput) (*ec2.CreateSnapshotsOutput, error) {
		return &ec2.CreateSnapshotsOutput{}, nil
	}
	tests := []struct {
		name   string
		p      *contract.Payload
		create func(*ec2.CreateSnapshotsInput) (*ec2.CreateSnapshotsOutput, error)
		want   string
	}{
		{"fargate", fargate, created, "PreconditionFailedError"},
		{"bad instance id", badID, created, "InvalidInputError"},
		{"unknown param", payload(false, `{"copyTags":true}`), created, "InvalidInputError"},
		{"wrong type", payload(false, `{"excludeBootVolume":"yes"}`), created, "InvalidInputError"},
		{"instance gone", payload(false, ""), fail("InvalidInstanceID.NotFound"), "TargetNotFoundError"},
		{"throttled", payload(false, ""), fail("RequestLimitExceeded"), "RetryableError"},
		{"denied", payload(false, ""), fail("UnauthorizedOperation"), "PreconditionFailedError"},
		{"no volumes", payload(false, `{"excludeBootVolume":true}`), none, "PreconditionFailedError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := (&Handler{EC2: &fakeEC2{create: tt.create}}).Handle(context.Background(), tt.p)
			if contract.ErrorName(err) != tt.want {
				t.Errorf("err = %v (%s); want %s", err, contract.ErrorName(err), tt.want)
			}
		})
	}
}
