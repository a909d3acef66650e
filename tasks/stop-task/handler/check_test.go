package handler

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/ledger"
)

// fakeNACL holds network ACL entries by "acl|egress|rule".
type fakeNACL struct {
	entries map[string]ec2types.NetworkAclEntry
	deletes []string
}

var _ naclAPI = (*fakeNACL)(nil)

func (f *fakeNACL) DescribeNetworkAcls(_ context.Context, in *ec2.DescribeNetworkAclsInput, _ ...func(*ec2.Options)) (*ec2.DescribeNetworkAclsOutput, error) {
	acl := ec2types.NetworkAcl{NetworkAclId: aws.String(in.NetworkAclIds[0])}
	for k, e := range f.entries {
		if strings.HasPrefix(k, in.NetworkAclIds[0]+"|") {
			acl.Entries = append(acl.Entries, e)
		}
	}
	return &ec2.DescribeNetworkAclsOutput{NetworkAcls: []ec2types.NetworkAcl{acl}}, nil
}

func (f *fakeNACL) DeleteNetworkAclEntry(_ context.Context, in *ec2.DeleteNetworkAclEntryInput, _ ...func(*ec2.Options)) (*ec2.DeleteNetworkAclEntryOutput, error) {
	k := entryKey(aws.ToString(in.NetworkAclId), aws.ToBool(in.Egress), aws.ToInt32(in.RuleNumber))
	f.deletes = append(f.deletes, k)
	if _, ok := f.entries[k]; !ok {
		return nil, apiErr("InvalidNetworkAclEntry.NotFound")
	}
	delete(f.entries, k)
	return &ec2.DeleteNetworkAclEntryOutput{}, nil
}

func (f *fakeNACL) add(acl string, egress bool, rule int32, action ec2types.RuleAction, cidr string) {
	f.entries[entryKey(acl, egress, rule)] = ec2types.NetworkAclEntry{RuleNumber: aws.Int32(rule), Egress: aws.Bool(egress),
		Protocol: aws.String("-1"), RuleAction: action, CidrBlock: aws.String(cidr)}
}

// fakeLedger is one case's ledger in memory.
type fakeLedger struct {
	l       ledger.Ledger
	removed []string
}

var _ ledgerAPI = (*fakeLedger)(nil)

func (f *fakeLedger) Read(context.Context, string) (*ledger.Ledger, error) { c := f.l; return &c, nil }

func (f *fakeLedger) MarkRemoved(_ context.Context, _, step string, ids ...string) (*ledger.Ledger, error) {
	f.removed = append(f.removed, ids...)
	for i := range f.l.Entries {
		for _, id := range ids {
			if f.l.Entries[i].ID == id {
				f.l.Entries[i].RemovedAt, f.l.Entries[i].RemovedBy = "now", step
			}
		}
	}
	return &f.l, nil
}

func (f *fakeLedger) nacl(t *testing.T, acl string, egress bool, rule int32, cidr, task string) string {
	t.Helper()
	id := ledger.NACLEntryID(acl, egress, rule)
	e, err := ledger.New(id, ledger.KindNACLEntry, "isolate", "isolate-network", acl, ledger.NACLEntryData{NetworkAclID: acl, RuleNumber: rule,
		Egress: egress, RuleAction: "deny", Protocol: "-1", CidrBlock: cidr, Address: strings.TrimSuffix(cidr, "/32"), TaskArn: task}, t0)
	if err != nil {
		t.Fatal(err)
	}
	f.l.Entries = append(f.l.Entries, e)
	return id
}

// checkPayload is a check call whose start was at start.
func checkPayload(start time.Time, timeoutSeconds int, ci string) *contract.Payload {
	p := payload(false, `{}`)
	p.Mode, p.TimeoutSeconds = "check", timeoutSeconds
	p.Previous = contract.OK("stop requested").With("done", false).With("taskArn", taskArn).
		With("stopRequestedAt", start.Format(time.RFC3339Nano)).With("containerInstanceArn", ci)
	return p
}

// TestStopTaskCleansUpTheTasksEntries: once STOPPED, the ledger's entries
// of this task are removed where they still are the recorded deny, and
// stamped removed; another task's entries stay.
func TestStopTaskCleansUpTheTasksEntries(t *testing.T) {
	n := &fakeNACL{entries: map[string]ec2types.NetworkAclEntry{}}
	lg := &fakeLedger{}
	n.add("acl-app", false, 99, ec2types.RuleActionDeny, "10.0.1.5/32")
	n.add("acl-app", true, 99, ec2types.RuleActionDeny, "10.0.1.5/32")
	n.add("acl-nat", false, 99, ec2types.RuleActionAllow, "10.0.0.0/16") // someone reused the number
	n.add("acl-app", false, 98, ec2types.RuleActionDeny, "10.0.1.9/32")  // another task's
	mine := []string{
		lg.nacl(t, "acl-app", false, 99, "10.0.1.5/32", taskArn),
		lg.nacl(t, "acl-app", true, 99, "10.0.1.5/32", taskArn),
		lg.nacl(t, "acl-nat", false, 99, "10.0.1.5/32", taskArn),
		lg.nacl(t, "acl-nat", true, 99, "10.0.1.5/32", taskArn), // gone already
	}
	lg.nacl(t, "acl-app", false, 98, "10.0.1.9/32", "arn:aws:ecs:us-east-1:111122223333:task/prod/other")
	f := newECS("STOPPED", "STOPPED", "")
	h := &Handler{ECS: f, NACLs: n, Ledger: lg, Now: clock(t0.Add(20 * time.Second))}
	res, err := h.Handle(context.Background(), checkPayload(t0, 600, ""))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"acl-app|false|99", "acl-app|true|99"}; !reflect.DeepEqual(n.deletes, want) {
		t.Errorf("deleted %v; want %v", n.deletes, want)
	}
	if len(n.entries) != 2 {
		t.Errorf("entries left %v; want the reused number and the other task's", n.entries)
	}
	if !reflect.DeepEqual(lg.removed, mine) {
		t.Errorf("stamped removed %v; want %v", lg.removed, mine)
	}
	if res.Outputs["done"] != true || len(res.Outputs["naclEntriesRemoved"].([]removal)) != 2 || len(res.Outputs["naclEntriesGone"].([]removal)) != 2 ||
		!strings.Contains(res.Summary, "removed 2 network ACL entries") {
		t.Errorf("result %q %v", res.Summary, res.Outputs)
	}
}

// TestStopTaskCheck: a task still running is polled until the step's
// timeout; then an EC2 task whose agent is disconnected is a
// StopNotDeliveredError, anything else a StepTimeoutError.
func TestStopTaskCheck(t *testing.T) {
	tests := []struct {
		name      string
		ci        string
		connected bool
		after     time.Duration
		wantErr   string
		wantNote  string
	}{
		{name: "fargate stopping", after: time.Minute, wantNote: "is RUNNING (desired STOPPED) 1m0s after the stop"},
		{name: "agent disconnected, waiting", ci: ciArn, after: time.Minute, wantNote: "not connected"},
		{name: "agent disconnected at the timeout", ci: ciArn, after: 11 * time.Minute, wantErr: contract.ErrStopNotDelivered},
		{name: "agent connected at the timeout", ci: ciArn, connected: true, after: 11 * time.Minute, wantErr: contract.ErrStepTimeout},
		{name: "fargate at the timeout", after: 11 * time.Minute, wantErr: contract.ErrStepTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newECS("RUNNING", "STOPPED", "")
			f.connected = tt.connected
			if tt.ci != "" {
				describe := f.describe
				f.describe = func(in *ecs.DescribeTasksInput) (*ecs.DescribeTasksOutput, error) {
					out, err := describe(in)
					out.Tasks[0].ContainerInstanceArn, out.Tasks[0].LaunchType = aws.String(tt.ci), ecstypes.LaunchTypeEc2
					return out, err
				}
			}
			h := &Handler{ECS: f, Ledger: &fakeLedger{}, Now: clock(t0.Add(tt.after))}
			res, err := h.Handle(context.Background(), checkPayload(t0, 600, tt.ci))
			if tt.wantErr != "" {
				if contract.ErrorName(err) != tt.wantErr {
					t.Fatalf("error %v; want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Outputs["done"] != false || !strings.Contains(res.Summary, tt.wantNote) || len(f.stops) != 0 {
				t.Errorf("result %q %v, %d stops", res.Summary, res.Outputs, len(f.stops))
			}
		})
	}
}

// TestStopTaskStartOnEC2: a stop ECS holds (the agent must act) leaves the
// step polling; the check that finds STOPPED finishes it.
func TestStopTaskStartOnEC2(t *testing.T) {
	f := newECSAfter("RUNNING", "RUNNING", "", "RUNNING")
	h := &Handler{ECS: f, Ledger: &fakeLedger{}, NACLs: &fakeNACL{entries: map[string]ec2types.NetworkAclEntry{}}, Now: clock(t0)}
	start, err := h.Handle(context.Background(), payload(false, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	if start.Outputs["done"] != false || !strings.HasPrefix(start.Summary, "stop requested") || len(f.stops) != 1 {
		t.Fatalf("start %q %v", start.Summary, start.Outputs)
	}
	p := payload(false, `{}`)
	p.Mode, p.Previous = "check", start
	f.describe = newECS("STOPPED", "STOPPED", "").describe
	res, err := h.Handle(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if res.Outputs["done"] != true || res.Outputs["lastStatus"] != "STOPPED" || !strings.HasPrefix(res.Summary, "task 0123456789abcdef is STOPPED") {
		t.Errorf("check %q %v", res.Summary, res.Outputs)
	}
}

func TestStopTaskWithoutLedger(t *testing.T) {
	res, err := (&Handler{ECS: newECS("RUNNING", "RUNNING", ""), Now: clock(t0)}).Handle(context.Background(), payload(false, `{}`))
	if err != nil || res.Outputs["done"] != true || !strings.Contains(res.Summary, "no containment ledger configured") {
		t.Errorf("%v %q", err, res.Summary)
	}
}

func TestStopTaskCheckNeedsPrevious(t *testing.T) {
	p := payload(false, `{}`)
	p.Mode = "check"
	if _, err := (&Handler{ECS: newECS("RUNNING", "STOPPED", "")}).Handle(context.Background(), p); contract.ErrorName(err) != contract.ErrInvalidInput {
		t.Errorf("error %v", err)
	}
}

// TestStopTaskCountsChecks: with a clock that does not move, the step
// still times out once its checks times the poll interval pass the step's
// timeout (60 checks of 10 s for 600 s).
func TestStopTaskCountsChecks(t *testing.T) {
	f := newECS("RUNNING", "STOPPED", "")
	h := &Handler{ECS: f, Ledger: &fakeLedger{}, Now: clock(t0)}
	p := checkPayload(t0, 600, "")
	var err error
	n := 0
	for ; n < 100 && err == nil; n++ {
		var res *contract.Result
		res, err = h.Handle(context.Background(), p)
		if err == nil {
			p.Previous = res
		}
	}
	if contract.ErrorName(err) != contract.ErrStepTimeout || n != 61 {
		t.Errorf("after %d checks: %v; want StepTimeoutError at the 61st", n, err)
	}
}
