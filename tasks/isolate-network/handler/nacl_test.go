package handler

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/ledger"
)

// TestIsolateAwsvpcDeniesInEveryACLTwice: the task's ENI is ECS's, so its
// groups are left alone; both ACLs of the VPC get an inbound and an
// outbound deny of its address just below their allow rule, recorded in
// the ledger before they are added; the second run finds them and changes
// nothing.
func TestIsolateAwsvpcDeniesInEveryACLTwice(t *testing.T) {
	s := newVPC()
	f := newFake(s)
	h := handler(f)
	res, err := h.Handle(context.Background(), payload("awsvpc", false, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"in 99 10.0.1.5/32", "out 99 10.0.1.5/32"}
	for _, acl := range []string{"acl-app", "acl-nat"} {
		if got := s.denies(acl); !reflect.DeepEqual(got, want) {
			t.Errorf("%s denies %v; want %v", acl, got, want)
		}
	}
	if f.count("ModifyNetworkInterfaceAttribute")+f.count("CreateSecurityGroup") != 0 || s.groupsOf("eni-task")[0] != "sg-app" {
		t.Error("awsvpc isolation touched the ECS-managed ENI's groups")
	}
	if first := strings.Join(f.mutations(), ","); !strings.HasPrefix(first, "LedgerAppend,CreateNetworkAclEntry") {
		t.Errorf("mutations %s: the ledger must be written before the entries", first)
	}
	if len(f.ledger) != 4 || f.ledger[0].ID != "nacl:acl-app:in:99" || f.ledger[0].Kind != ledger.KindNACLEntry {
		t.Fatalf("ledger %+v", f.ledger)
	}
	var d ledger.NACLEntryData
	if err := f.ledger[0].Decode(&d); err != nil || d.TaskArn != taskArn || d.Address != "10.0.1.5" || d.CidrBlock != "10.0.1.5/32" || d.RuleAction != "deny" {
		t.Errorf("ledger data %+v %v", d, err)
	}
	e := eniNamed(t, res, "eni-task")
	if e.Treatment != treatNACL || res.Outputs["isolation"] != isolationPartial || !strings.HasPrefix(res.Summary, "partial isolation of task") {
		t.Errorf("first run: %+v %v %q", e, res.Outputs["isolation"], res.Summary)
	}
	if got := classes(res); !reflect.DeepEqual(got, []string{flowSameSubnet, flowDNS, flowCredentials}) {
		t.Errorf("residual classes %v", got)
	}

	f.calls = nil
	res, err = h.Handle(context.Background(), payload("awsvpc", false, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	if m := f.mutations(); !reflect.DeepEqual(m, []string{"LedgerAppend"}) || len(f.ledger) != 4 {
		t.Errorf("second run mutated %v, ledger %d entries", m, len(f.ledger))
	}
	for _, ne := range res.Outputs["naclEntries"].([]*naclEntry) {
		if !ne.Existing || ne.RuleNumber != 99 {
			t.Errorf("second run entry %+v", ne)
		}
	}
	if !strings.Contains(res.Summary, "already denied") {
		t.Errorf("second run summary %q", res.Summary)
	}
}

// TestIsolateNACLNumbering: free numbers just below the lowest allow of
// that direction and family, skipping numbers in use; IPv6 addresses get
// /128 entries below the IPv6 allow; a direction with no allow needs none.
func TestIsolateNACLNumbering(t *testing.T) {
	s := newVPC()
	ni := s.enis["eni-task"]
	ni.Ipv6Addresses = []ec2types.NetworkInterfaceIpv6Address{{Ipv6Address: aws.String("2600:1f18::5")}}
	app := s.acls[0]
	app.Entries = append(app.Entries, ec2types.NetworkAclEntry{RuleNumber: aws.Int32(99), Egress: aws.Bool(false), Protocol: aws.String("6"),
		RuleAction: ec2types.RuleActionDeny, CidrBlock: aws.String("192.0.2.0/24")})
	// acl-nat: no outbound allow of either family.
	nat := s.acls[1]
	var kept []ec2types.NetworkAclEntry
	for _, e := range nat.Entries {
		if !aws.ToBool(e.Egress) || e.RuleAction == ec2types.RuleActionDeny {
			kept = append(kept, e)
		}
	}
	nat.Entries = kept
	f := newFake(s)
	res, err := handler(f).Handle(context.Background(), payload("awsvpc", false, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	wantApp := []string{"in 97 2600:1f18::5/128", "in 98 10.0.1.5/32", "in 99 192.0.2.0/24", "out 98 2600:1f18::5/128", "out 99 10.0.1.5/32"}
	if got := s.denies("acl-app"); !reflect.DeepEqual(got, wantApp) {
		t.Errorf("acl-app denies %v; want %v", got, wantApp)
	}
	if got := s.denies("acl-nat"); !reflect.DeepEqual(got, []string{"in 98 2600:1f18::5/128", "in 99 10.0.1.5/32"}) {
		t.Errorf("acl-nat denies %v", got)
	}
	if got := classes(res); !reflect.DeepEqual(got, []string{flowSameSubnet, flowPublicIP, flowDNS, flowCredentials}) {
		t.Errorf("an IPv6 address is reached through the internet gateway: residuals %v", got)
	}
}

// TestIsolateNACLFailsClosed: an ACL whose allow is at rule 1, or whose
// own rules fill the quota, fails the whole isolation before anything
// changes, naming the ACL and why.
func TestIsolateNACLFailsClosed(t *testing.T) {
	tests := []struct {
		name, with, contains string
		state                func() *vpcState
	}{
		{"allow at rule 1", `{}`, "network ACL acl-full has no free inbound rule number below its lowest IPv4 allow rule 1", func() *vpcState {
			s := newVPC()
			s.acl("acl-full", 1, "subnet-lb")
			return s
		}},
		{"quota reached", `{}`, "network ACL acl-app has 19 inbound IPv4 rules of its own", func() *vpcState {
			s := newVPC()
			for i := int32(1); i <= 18; i++ {
				s.acls[0].Entries = append(s.acls[0].Entries, ec2types.NetworkAclEntry{RuleNumber: aws.Int32(200 + i), Egress: aws.Bool(false),
					Protocol: aws.String("-1"), RuleAction: ec2types.RuleActionAllow, CidrBlock: aws.String("192.0.2.0/24")})
			}
			return s
		}},
		{"raised quota has room", `{"naclRuleQuota":40}`, "", func() *vpcState {
			s := newVPC()
			for i := int32(1); i <= 18; i++ {
				s.acls[0].Entries = append(s.acls[0].Entries, ec2types.NetworkAclEntry{RuleNumber: aws.Int32(200 + i), Egress: aws.Bool(false),
					Protocol: aws.String("-1"), RuleAction: ec2types.RuleActionAllow, CidrBlock: aws.String("192.0.2.0/24")})
			}
			return s
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(tt.state())
			_, err := handler(f).Handle(context.Background(), payload("awsvpc", false, tt.with))
			if tt.contains == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if contract.ErrorName(err) != contract.ErrPreconditionFailed || !strings.Contains(err.Error(), tt.contains) || !strings.Contains(err.Error(), "nothing was changed") {
				t.Fatalf("error %v; want PreconditionFailedError containing %q", err, tt.contains)
			}
			if m := f.mutations(); len(m) != 0 {
				t.Errorf("failed closed but mutated %v", m)
			}
		})
	}
}

// TestIsolatePublicIPResidual: a task with a public IP keeps its internet
// flows (no ACL rule can name it through the internet gateway), and says so.
func TestIsolatePublicIPResidual(t *testing.T) {
	s := newVPC()
	s.enis["eni-task"].Association = &ec2types.NetworkInterfaceAssociation{PublicIp: aws.String("198.51.100.20")}
	res, err := handler(newFake(s)).Handle(context.Background(), payload("awsvpc", false, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	rs := res.Outputs["residuals"].([]residual)
	if rs[1].FlowClass != flowPublicIP || !strings.Contains(rs[1].Reason, "198.51.100.20") || !rs[1].Partial {
		t.Errorf("residuals %+v", rs)
	}
}

// TestIsolateReadsACLsWithENIs: an awsvpc task's network ACLs (its VPC is in
// the target) are read while its ENIs are, not after: each read waits for
// the other to have started. Read one after the other, the first times out
// and the isolation fails.
func TestIsolateReadsACLsWithENIs(t *testing.T) {
	s := newVPC()
	f := newFake(s)
	enisAsked, aclsAsked := make(chan struct{}), make(chan struct{})
	wait := func(ch chan struct{}, what string) error {
		select {
		case <-ch:
			return nil
		case <-time.After(5 * time.Second):
			return errors.New(what + " was not asked for meanwhile")
		}
	}
	describeNIs, describeACLs := f.describeNIs, f.describeACLs
	var onceN, onceA sync.Once
	f.describeNIs = func(in *ec2.DescribeNetworkInterfacesInput) (*ec2.DescribeNetworkInterfacesOutput, error) {
		onceN.Do(func() { close(enisAsked) })
		if err := wait(aclsAsked, "the network ACLs"); err != nil {
			return nil, err
		}
		return describeNIs(in)
	}
	f.describeACLs = func(in *ec2.DescribeNetworkAclsInput) (*ec2.DescribeNetworkAclsOutput, error) {
		onceA.Do(func() { close(aclsAsked) })
		if err := wait(enisAsked, "the ENIs"); err != nil {
			return nil, err
		}
		return describeACLs(in)
	}
	if _, err := handler(f).Handle(context.Background(), payload("awsvpc", false, `{}`)); err != nil {
		t.Fatal(err)
	}
	if got := s.denies("acl-app"); len(got) != 2 {
		t.Errorf("acl-app denies %v; want the task's address in and out", got)
	}
	if n := f.count("DescribeNetworkAcls"); n != 1 {
		t.Errorf("%d DescribeNetworkAcls; want the one read with the ENIs", n)
	}
}
