package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/irflow/irflow/internal/benchdoc"
	"github.com/irflow/irflow/internal/flowmodel"
	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/worlds"
)

// TestContainment is the bench as the acceptance test of containment: for
// each playbook of containmentPlaybooks (crypto-mining and
// reverse-shell-c2; every shipped playbook with -tags matrix, `make
// containment`) on every world, approved, the summary must show
// SUCCEEDED/COMPLETED, no strict refusal, every established flow blocked
// or kept open for a reason the flow model gives, the task STOPPED
// wherever stop-task ran, and in nacl-full an isolation that failed closed
// with the stop still run. Then each playbook that isolates a Fargate task
// before its gate is rejected on the Fargate worlds with room in their
// ACLs: the task keeps running, and the gate's onReject released the early
// isolation: no network ACL of its VPC, read back from moto, still denies
// its addresses.
func TestContainment(t *testing.T) {
	ep := mototest.DirectEndpoint(t) // the bench puts its own strict layer in front
	for _, pb := range containmentPlaybooks {
		t.Run(pb, func(t *testing.T) {
			s := benchRun(t, ep, pb, DecideApprove, singleWorlds())
			if len(s.StrictRefusals) != 0 {
				t.Errorf("strict refusals: %+v", s.StrictRefusals)
			}
			for _, c := range s.Cases {
				checkApproved(t, c)
			}
		})
	}
	for _, pb := range containmentPlaybooks {
		if !isolatesBeforeGate(pb) {
			continue
		}
		t.Run(pb+"/reject", func(t *testing.T) {
			s := benchRun(t, ep, pb, DecideReject, []string{"fargate", "fargate-public-ip", "fargate-exec", "shared-nacl"})
			if len(s.StrictRefusals) != 0 {
				t.Errorf("strict refusals: %+v", s.StrictRefusals)
			}
			for _, c := range s.Cases {
				if c.Status != "SUCCEEDED" || c.Outcome != "REJECTED" || c.Task.LastStatus != "RUNNING" {
					t.Errorf("%s: %s/%s, task %s; want SUCCEEDED/REJECTED with the task RUNNING", c.World, c.Status, c.Outcome, c.Task.LastStatus)
				}
				checkReleased(t, ep, c)
			}
		})
	}
}

// TestRejectKeepsIsolation is issue 14's "a run that isolates and is then
// rejected leaves the task RUNNING with the deny entries in place, ahead of
// the allows, in every NACL of the VPC", for a playbook whose rejected gate
// has no onReject that releases the isolation (the shipped Fargate
// playbooks have one since issue 16: TestContainment checks the release).
// testdata/isolate-then-reject.yaml isolates on both launch types before
// its gate; it is rejected on the awsvpc worlds, on EC2 (ec2-awsvpc) and
// on Fargate (fargate; shared-nacl, where the task's subnet is on the VPC's
// default ACL). Every ACL is read back from moto itself.
func TestRejectKeepsIsolation(t *testing.T) {
	ep := mototest.DirectEndpoint(t)
	s := benchRunFile(t, ep, filepath.Join(repoRoot(t), "internal", "demo", "testdata", "isolate-then-reject.yaml"), DecideReject,
		[]string{"ec2-awsvpc", "fargate", "shared-nacl"})
	if len(s.StrictRefusals) != 0 {
		t.Errorf("strict refusals: %+v", s.StrictRefusals)
	}
	for _, c := range s.Cases {
		if c.Status != "SUCCEEDED" || c.Outcome != "REJECTED" || c.Task.LastStatus != "RUNNING" {
			t.Errorf("%s: %s/%s, task %s; want SUCCEEDED/REJECTED with the task RUNNING", c.World, c.Status, c.Outcome, c.Task.LastStatus)
		}
		for _, st := range c.Steps {
			if st.Action == "isolate-network" && st.Result != "OK" {
				t.Errorf("%s: isolation %s ended %s; want OK", c.World, st.ID, st.Result)
			}
		}
		checkIsolated(t, ep, c)
	}
}

// checkIsolated reads every network ACL of the case's VPC and the task's
// ENI from moto and wants, in each ACL, an inbound and an outbound deny of
// each of the task's addresses (/32, and /128 for its IPv6 addresses) whose
// rule number is below the lowest allow of that direction.
func checkIsolated(t *testing.T, ep string, c SummaryCase) {
	t.Helper()
	ctx := context.Background()
	ec2c := ec2.NewFromConfig(mototest.ConfigFor(ep))
	cidrs := map[string]bool{}
	for _, ip := range c.Target.PrivateIPs {
		cidrs[ip+"/32"] = true
	}
	enis, err := ec2c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: c.Target.ENIIDs})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range enis.NetworkInterfaces {
		for _, a := range e.Ipv6Addresses {
			cidrs[aws.ToString(a.Ipv6Address)+"/128"] = true
		}
	}
	out, err := ec2c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{
		Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{c.Target.VpcID}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.NetworkAcls) == 0 || len(c.Target.PrivateIPs) == 0 {
		t.Fatalf("%s: %d network ACLs, task addresses %v; want the world's ACLs and the task's address", c.World, len(out.NetworkAcls), c.Target.PrivateIPs)
	}
	for _, acl := range out.NetworkAcls {
		for _, egress := range []bool{false, true} {
			lowestAllow := int32(1 << 30)
			denies := map[string]int32{}
			for _, e := range acl.Entries {
				if aws.ToBool(e.Egress) != egress {
					continue
				}
				n := aws.ToInt32(e.RuleNumber)
				cidr := aws.ToString(e.CidrBlock) + aws.ToString(e.Ipv6CidrBlock)
				switch e.RuleAction {
				case ec2types.RuleActionAllow:
					lowestAllow = min(lowestAllow, n)
				case ec2types.RuleActionDeny:
					if cidrs[cidr] && aws.ToString(e.Protocol) == "-1" {
						denies[cidr] = n
					}
				}
			}
			dir := map[bool]string{false: "inbound", true: "outbound"}[egress]
			for cidr := range cidrs {
				n, ok := denies[cidr]
				switch {
				case !ok:
					t.Errorf("%s: network ACL %s has no %s deny of %s after the rejected gate", c.World, aws.ToString(acl.NetworkAclId), dir, cidr)
				case n >= lowestAllow:
					t.Errorf("%s: network ACL %s denies %s %s at rule %d, not ahead of its lowest allow %d", c.World, aws.ToString(acl.NetworkAclId), dir, cidr, n, lowestAllow)
				}
			}
		}
	}
}

// benchRun runs the bench on the worlds and reads back its summary. A
// flow the model cannot judge yet (moto's task ENIs got addresses outside
// their subnets until the strict layer assigns in-subnet ones) skips.
func benchRun(t *testing.T, ep, playbook, decide string, ws []string) *Summary {
	t.Helper()
	return benchRunFile(t, ep, filepath.Join(repoRoot(t), "workflows", playbook+".yaml"), decide, ws)
}

// benchRunFile is benchRun with a playbook file.
func benchRunFile(t *testing.T, ep, playbook, decide string, ws []string) *Summary {
	t.Helper()
	return benchRunOptions(t, Options{Endpoint: ep, Decide: decide, Playbook: playbook, Worlds: ws})
}

// benchRunOptions is benchRun with the bench's options (Out, Summary and
// Stdout are the test's own).
func benchRunOptions(t *testing.T, o Options) *Summary {
	t.Helper()
	dir := t.TempDir()
	var out bytes.Buffer
	file := filepath.Join(dir, "summary.json")
	o.Out, o.Summary, o.Stdout = dir, file, &out
	ws := o.Worlds
	_, err := Run(context.Background(), o)
	if errors.Is(err, flowmodel.ErrNotModeled) {
		t.Skipf("the flow model cannot judge this world yet: %v", err)
	}
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, tail(out.String(), 4000))
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Cases) != len(ws) {
		t.Fatalf("%d cases; want %d", len(s.Cases), len(ws))
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("bench output:\n%s", tail(out.String(), 20000))
		}
	})
	return &s
}

// checkApproved checks one approved case from its summary.
func checkApproved(t *testing.T, c SummaryCase) {
	t.Helper()
	if c.Status != "SUCCEEDED" || c.Outcome != "COMPLETED" {
		t.Errorf("%s: %s/%s; want SUCCEEDED/COMPLETED (problems: %v)", c.World, c.Status, c.Outcome, c.Problems)
	}
	if len(c.StrictRefusals) != 0 {
		t.Errorf("%s: strict refusals %+v", c.World, c.StrictRefusals)
	}
	for _, p := range c.Problems {
		t.Errorf("%s: %s", c.World, p)
	}
	for _, f := range c.Flows {
		if f.Established && f.After != Blocked && f.Residual == "" {
			t.Errorf("%s: established flow %s is %s after the response with no residual reason (%s)", c.World, f.Name, f.After, f.Reason)
		}
	}
	stopped, isolation := false, ""
	for _, s := range c.Steps {
		switch s.Action {
		case "stop-task":
			stopped = true
		case "isolate-network":
			if isolation == "" || s.Result != "OK" {
				isolation = s.Result
			}
		}
	}
	if stopped && c.Task.LastStatus != "STOPPED" {
		t.Errorf("%s: stop-task ran and the task is %s", c.World, c.Task.LastStatus)
	}
	if c.World == "nacl-full" && (isolation != "CAUGHT" || !stopped) {
		t.Errorf("nacl-full: isolation %s, stop ran %v; want the isolation failed closed and the stop run", isolation, stopped)
	}
}

// checkReleased reads every network ACL of the case's VPC from moto and
// wants no deny entry of the task's addresses left (release-containment in
// the rejected gate's onReject removed what isolate-now added).
func checkReleased(t *testing.T, ep string, c SummaryCase) {
	t.Helper()
	out, err := ec2.NewFromConfig(mototest.ConfigFor(ep)).DescribeNetworkAcls(context.Background(), &ec2.DescribeNetworkAclsInput{
		Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{c.Target.VpcID}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.NetworkAcls) == 0 || len(c.Target.PrivateIPs) == 0 {
		t.Fatalf("%s: %d network ACLs, task addresses %v", c.World, len(out.NetworkAcls), c.Target.PrivateIPs)
	}
	for _, acl := range out.NetworkAcls {
		for _, e := range acl.Entries {
			for _, ip := range c.Target.PrivateIPs {
				if e.RuleAction == ec2types.RuleActionDeny && (aws.ToString(e.CidrBlock) == ip+"/32" || aws.ToString(e.Ipv6CidrBlock) == ip+"/128") {
					t.Errorf("%s: network ACL %s still denies %s (rule %d) after the rejected gate's release",
						c.World, aws.ToString(acl.NetworkAclId), ip, aws.ToInt32(e.RuleNumber))
				}
			}
		}
	}
}

// singleWorlds are the worlds of one finding on one task: every world but
// the storm, which TestStorm runs (its case is a storm of findings).
func singleWorlds() []string {
	var out []string
	for _, w := range worlds.Names() {
		if w != StormWorld {
			out = append(out, w)
		}
	}
	return out
}

// TestStorm is issue 17's must-show as a test: crypto-mining approved in
// the storm world, judged from the summary's storm object (read back from
// moto): one case and one approval for the compromised service, every
// compromised task contained, no clean task touched, no replacement from
// the compromised digest, every finding recorded in the case, the case
// SUCCEEDED/COMPLETED with no strict refusal.
func TestStorm(t *testing.T) {
	ep := mototest.DirectEndpoint(t)
	s := benchRun(t, ep, "crypto-mining", DecideApprove, []string{StormWorld})
	if len(s.StrictRefusals) != 0 {
		t.Errorf("strict refusals: %+v", s.StrictRefusals)
	}
	checkApproved(t, s.Cases[0])
	st := s.Storm
	if st == nil {
		t.Fatal("the summary has no storm")
	}
	want := benchdoc.StormSummary{Findings: 1 + StormBursts*StormBurstSize, Cases: 1, CompromisedServices: 1, ApprovalsRequested: 1,
		CompromisedTasks: worlds.StormCompromisedTasks, CompromisedTasksContained: worlds.StormCompromisedTasks}
	if *st != want {
		t.Errorf("storm %+v; want %+v", *st, want)
	}
	if st.Findings < 100 || st.CompromisedTasks < 12 {
		t.Errorf("storm of %d findings over %d compromised tasks; issue 17 wants at least 100 over at least 12", st.Findings, st.CompromisedTasks)
	}
}

// isolatesBeforeGate reports whether the playbook isolates a Fargate task
// before its first approval.
func isolatesBeforeGate(playbook string) bool {
	switch playbook {
	case "crypto-mining", "reverse-shell-c2", "credential-abuse", "malicious-network":
		return true
	}
	return false
}

func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Clean(filepath.Join(wd, "..", ".."))
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
