package handler_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/stricttest"
	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/snapshot-volumes/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

func TestMain(m *testing.M) { stricttest.Main(m) }

func run(t *testing.T, w *mototest.World, lt, caseID string, dry bool) (*contract.Result, error) {
	t.Helper()
	return mototest.Run(t, w, "snapshot-volumes", handler.New(w.Cfg, w.Env), w.Payload("snapshot-volumes", "disks", lt, caseID, dry, nil, nil))
}

// caseSnapshots are moto's snapshots tagged with the case.
func caseSnapshots(t *testing.T, w *mototest.World, caseID string) []ec2types.Snapshot {
	t.Helper()
	out, err := ec2.NewFromConfig(w.Cfg).DescribeSnapshots(context.Background(), &ec2.DescribeSnapshotsInput{
		Filters: []ec2types.Filter{{Name: aws.String("tag:irflow:case-id"), Values: []string{caseID}}}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Snapshots
}

func TestSnapshotTwiceAgainstMoto(t *testing.T) {
	w := mototest.Seed(t)
	first, err := run(t, w, "EC2", "case-snap-1", false)
	if err != nil {
		t.Fatal(err)
	}
	second, err := run(t, w, "EC2", "case-snap-1", false)
	if err != nil {
		t.Fatal(err)
	}
	snaps := caseSnapshots(t, w, "case-snap-1")
	if len(snaps) != len(w.VolumeIDs) || len(snaps) == 0 {
		t.Fatalf("moto has %d snapshots for the case; want one per volume (%d)", len(snaps), len(w.VolumeIDs))
	}
	if first.Outputs["existing"] != false || second.Outputs["existing"] != true {
		t.Errorf("existing: first %v, second %v", first.Outputs["existing"], second.Outputs["existing"])
	}
	a, _ := json.Marshal(first.Outputs["snapshots"])
	b, _ := json.Marshal(second.Outputs["snapshots"])
	var as, bs []handler.Snapshot
	_ = json.Unmarshal(a, &as)
	_ = json.Unmarshal(b, &bs)
	if len(as) != len(bs) || as[0].SnapshotID != bs[0].SnapshotID || as[0].VolumeID != w.VolumeIDs[0] {
		t.Errorf("second run reports %v; first %v", bs, as)
	}
	for _, s := range snaps {
		tags := map[string]string{}
		for _, tg := range s.Tags {
			tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
		if tags["irflow:step"] != "disks" || tags["Name"] != "irflow-case-snap-1-disks" {
			t.Errorf("%s tags %v", aws.ToString(s.SnapshotId), tags)
		}
	}
	mototest.VerifyAudit(t, w, "case-snap-1", 4)
}

func TestDryRunAgainstMoto(t *testing.T) {
	w := mototest.Seed(t)
	before, err := ec2.NewFromConfig(w.Cfg).DescribeSnapshots(context.Background(), &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := run(t, w, "EC2", "case-snap-dry", true)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := ec2.NewFromConfig(w.Cfg).DescribeSnapshots(context.Background(), &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})
	if res.Status != contract.StatusDryRun || len(after.Snapshots) != len(before.Snapshots) {
		t.Errorf("dry run %s; snapshots %d -> %d", res.Status, len(before.Snapshots), len(after.Snapshots))
	}
}

func TestFargateAgainstMoto(t *testing.T) {
	w := mototest.Seed(t)
	_, err := run(t, w, "FARGATE", "case-snap-fg", false)
	if contract.ErrorName(err) != "PreconditionFailedError" {
		t.Errorf("err = %v; want PreconditionFailedError", err)
	}
	records, _ := taskrt.NewChain(w.Cfg, w.Env).Read(context.Background(), "case-snap-fg")
	if err := audit.Verify(records); err != nil || len(records) != 2 || records[1].Event != "error" {
		t.Errorf("audit chain: %+v, %v", records, err)
	}
}
