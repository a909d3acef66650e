package handler

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/irflow/irflow/tasks/contract"
)

func TestIsolateTightensExistingGroup(t *testing.T) {
	s := newVPC()
	// Left by a run cut short after CreateSecurityGroup, then loosened by hand.
	s.groups["sg-q"] = &ec2types.SecurityGroup{GroupId: aws.String("sg-q"), GroupName: aws.String("irflow-quarantine"), VpcId: aws.String("vpc-1"),
		Tags:                []ec2types.Tag{{Key: aws.String(tagQuarantine), Value: aws.String("true")}},
		IpPermissionsEgress: []ec2types.IpPermission{{IpProtocol: aws.String("-1"), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}},
		IpPermissions:       []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}},
	}
	f := newFake(s)
	res, err := handler(f).Handle(context.Background(), payload("bridge", false, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	q := s.groups["sg-q"]
	if len(q.IpPermissionsEgress) != 0 || len(q.IpPermissions) != 0 || f.count("CreateSecurityGroup") != 1 { // the transit group only
		t.Errorf("group not tightened: egress %v ingress %v", q.IpPermissionsEgress, q.IpPermissions)
	}
	gp := res.Outputs["quarantineGroups"].([]*groupPlan)[0]
	want := []string{"ingress tcp/22 from 0.0.0.0/0", "egress all/all to 0.0.0.0/0"}
	if !reflect.DeepEqual(gp.Tightened, want) || !strings.Contains(res.Summary, "revoked 2 stray rule(s) of irflow-quarantine") {
		t.Errorf("tightened %v summary %q", gp.Tightened, res.Summary)
	}
}

func TestIsolateCreateRace(t *testing.T) {
	s := newVPC()
	f := newFake(s)
	create := f.createSG
	f.createSG = func(in *ec2.CreateSecurityGroupInput) (*ec2.CreateSecurityGroupOutput, error) {
		create(in) // another execution won the race
		return nil, apiErr("InvalidGroup.Duplicate")
	}
	res, err := handler(f).Handle(context.Background(), payload("bridge", false, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	q := s.named("irflow-quarantine")
	if len(q) != 1 || len(q[0].IpPermissionsEgress) != 0 || s.groupsOf("eni-inst0")[0] != aws.ToString(q[0].GroupId) {
		t.Errorf("race: groups %d, egress %v, eni %v", len(q), q[0].IpPermissionsEgress, s.groupsOf("eni-inst0"))
	}
	if res.Outputs["quarantineGroups"].([]*groupPlan)[0].Created {
		t.Error("reported a group another execution created as created")
	}
}

func TestIsolateTagDeniedStillIsolates(t *testing.T) {
	s := newVPC()
	f := newFake(s)
	f.createTags = func(*ec2.CreateTagsInput) (*ec2.CreateTagsOutput, error) { return nil, apiErr("UnauthorizedOperation") }
	res, err := handler(f).Handle(context.Background(), payload("bridge", false, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	e := eniNamed(t, res, "eni-inst0")
	if e.Recorded || !reflect.DeepEqual(e.Previous, []string{"sg-app", "sg-ops"}) || !strings.Contains(res.Summary, "CreateTags denied") {
		t.Errorf("%+v %q", e, res.Summary)
	}
	if !strings.HasPrefix(s.groupsOf("eni-inst0")[0], "sg-q") {
		t.Error("a denied tag stopped the isolation")
	}
}

func TestIsolateTagFailureStopsBeforeSwap(t *testing.T) {
	s := newVPC()
	f := newFake(s)
	f.createTags = func(*ec2.CreateTagsInput) (*ec2.CreateTagsOutput, error) { return nil, apiErr("InternalError") }
	_, err := handler(f).Handle(context.Background(), payload("bridge", false, `{}`))
	if contract.ErrorName(err) != "RetryableError" || f.count("ModifyNetworkInterfaceAttribute") != 0 {
		t.Errorf("error %v, modify calls %d: the swap must wait for the record", err, f.count("ModifyNetworkInterfaceAttribute"))
	}
}

func TestPreviousTagsRoundTrip(t *testing.T) {
	var ids []string
	for i := range 16 {
		ids = append(ids, fmt.Sprintf("sg-%017x", i))
	}
	tests := []struct {
		name     string
		ids      []string
		existing []string
		wantKeys int
	}{
		{"one", ids[:1], nil, 1},
		{"sixteen groups need two tags", ids, nil, 2},
		{"shorter list blanks the second tag", ids[:3], []string{tagPrevious, tagPrevious + "-2"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tags := previousTags(tt.ids, tt.existing)
			if len(tags) != tt.wantKeys {
				t.Fatalf("%d tags; want %d", len(tags), tt.wantKeys)
			}
			for _, tg := range tags {
				if len(aws.ToString(tg.Value)) > 256 {
					t.Errorf("tag %s is %d characters", aws.ToString(tg.Key), len(aws.ToString(tg.Value)))
				}
			}
			got, _ := readPrevious(tags)
			if !reflect.DeepEqual(got, tt.ids) {
				t.Errorf("read back %v; want %v", got, tt.ids)
			}
		})
	}
}

func TestRuleDiff(t *testing.T) {
	have := explode([]ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443),
		IpRanges: []ec2types.IpRange{{CidrIp: aws.String("10.0.0.1/32")}, {CidrIp: aws.String("0.0.0.0/0")}}}})
	keep := https("described differently")
	keep.CIDR = "10.0.0.1/32"
	extra := https("")
	extra.PrefixList = "pl-1"
	add, remove := diff(have, []rule{keep, extra})
	if len(add) != 1 || add[0].PrefixList != "pl-1" || len(remove) != 1 || remove[0].CIDR != "0.0.0.0/0" {
		t.Errorf("add %v remove %v", add, remove)
	}
}
