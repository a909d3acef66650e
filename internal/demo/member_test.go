package demo

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/worlds"
	"github.com/irflow/irflow/tasks/taskrt"
)

// TestMemberAccount is issue 18's must-show on the bench, behind the strict
// layer: crypto-mining approved in the member-account world (Fargate and
// EC2 in a member account with the member stack, irflow and its stores in
// the administrator account) ends COMPLETED on both launch types; the task
// is STOPPED and every established flow blocked (or kept open for a reason
// the flow model gives), read with the member's credentials, and the member
// account's network read back agrees with the response's calls; evidence
// (naming the member account and region in its metadata) and the audit
// chain are in the administrator's bucket and table, both verified. The
// same run's member-no-stack case (a member account without the member
// stack) FAILED in resolve-target with an error naming the account and the
// role, and nothing changed: its task RUNNING, every flow as before, no EC2
// change, no evidence, and the layer's only refusal the AssumeRole.
func TestMemberAccount(t *testing.T) {
	ep := mototest.DirectEndpoint(t) // the bench puts its own strict layer in front
	ctx := context.Background()
	dir := t.TempDir()
	var out bytes.Buffer
	res, err := Run(ctx, Options{Endpoint: ep, Out: dir, Summary: filepath.Join(dir, "summary.json"), Stdout: &out,
		Decide: DecideApprove, Playbook: filepath.Join(repoRoot(t), "workflows", "crypto-mining.yaml"),
		Worlds: []string{"member-account", "member-no-stack"}})
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, tail(out.String(), 4000))
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("bench output:\n%s", tail(out.String(), 20000))
		}
	})
	if len(res.Cases) != 3 {
		t.Fatalf("%d cases; want member-account on Fargate and EC2, then member-no-stack", len(res.Cases))
	}
	sum := summarize(res, &awsEnv{})
	home := mototest.ConfigFor(ep)
	id, err := sts.NewFromConfig(home).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	admin := aws.ToString(id.Account)
	// The member accounts' own credentials, at moto (the bench's layer is
	// gone with the run).
	memberCfg := func(account string) aws.Config {
		cfg, err := mototest.AccountConfig(ctx, home, ep, account)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	member, bare := memberCfg(worlds.MemberAccount), memberCfg(worlds.NoStackAccount)
	for i, want := range []struct{ world, launchType string }{{"member-account/fargate", "FARGATE"}, {"member-account/ec2-bridge", "EC2"}} {
		c, sc := res.Cases[i], sum.Cases[i]
		if c.WorldName != want.world || c.Run.Status != "SUCCEEDED" || c.Run.Outcome != generator.OutcomeCompleted || c.Run.LaunchType != want.launchType {
			t.Errorf("%s: %s/%s on %s; want SUCCEEDED/COMPLETED on %s in %s", c.WorldName, c.Run.Status, c.Run.Outcome, c.Run.LaunchType, want.launchType, want.world)
		}
		for _, p := range c.Problems {
			t.Errorf("%s: %s", c.WorldName, p)
		}
		checkApproved(t, sc)
		if sc.TargetAccount != worlds.MemberAccount || sc.ResponderAccount != admin {
			t.Errorf("%s: targetAccount %s, responderAccount %s; want %s and %s", c.WorldName, sc.TargetAccount, sc.ResponderAccount, worlds.MemberAccount, admin)
		}
		// The task, read here with the member's credentials, not the
		// bench's: STOPPED; the administrator's credentials do not see it.
		if st := taskStatus(t, member, c.World); st != "STOPPED" {
			t.Errorf("%s: the member account's task is %s; want STOPPED", c.WorldName, st)
		}
		if st, err := lastStatus(home, c.World); err == nil && st != "" {
			t.Errorf("%s: the administrator account sees the member's task (%s)", c.WorldName, st)
		}
		if len(c.MemberNetwork) != len(c.World.Flows) {
			t.Errorf("%s: %d flows judged on the member account's network read back; want %d", c.WorldName, len(c.MemberNetwork), len(c.World.Flows))
		}
		// Read back with the member's credentials (the network alone, each
		// flow as a new connection), a flow is blocked, or allowed for an
		// AWS reason: link-local traffic no security group or network ACL
		// filters, or the residual the response's judgement names. No moto
		// gap is left to explain a difference from the replay.
		judged := map[string]FlowResult{}
		for _, f := range c.Flows {
			judged[f.Name] = f
		}
		for _, f := range c.MemberNetwork {
			if strings.Contains(f.Residual, "moto") {
				t.Errorf("%s: flow %s read back differs from the replay by a moto gap: %s", c.WorldName, f.Name, f.Residual)
			}
			if f.After == Blocked || strings.HasPrefix(f.Reason, "link-local:") {
				continue
			}
			if r := judged[f.Name]; r.After != Allowed || r.Residual == "" {
				t.Errorf("%s: flow %s is %s read back (%s); the response's judgement has it %s with residual %q", c.WorldName, f.Name, f.After, f.Reason, r.After, r.Residual)
			}
		}
		// Evidence in the administrator's bucket, naming the member account
		// and region; the audit chain in the administrator's table.
		if sc.Evidence.Objects == 0 || sc.Evidence.Mismatched != 0 || !sc.Audit.Verified || sc.Audit.Records < 10 {
			t.Errorf("%s: evidence %+v, audit %+v; want verified evidence and chain", c.WorldName, sc.Evidence, sc.Audit)
		}
		for _, o := range c.Evidence {
			head, err := taskrt.NewS3(home).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(res.Env.EvidenceBucket), Key: aws.String(o.Key)})
			if err != nil {
				t.Fatalf("%s: %v", o.Key, err)
			}
			if head.Metadata["irflow-target-account"] != worlds.MemberAccount || head.Metadata["irflow-target-region"] != mototest.Region {
				t.Errorf("%s: metadata %v; want the member account and region", o.Key, head.Metadata)
			}
		}
	}

	c, sc := res.Cases[2], sum.Cases[2]
	if c.WorldName != "member-no-stack/fargate" || c.Run.Status != "FAILED" || c.Run.Outcome != generator.OutcomeFailed {
		t.Errorf("%s: %s/%s; want FAILED/FAILED", c.WorldName, c.Run.Status, c.Run.Outcome)
	}
	role := "arn:aws:iam::" + worlds.NoStackAccount + ":role/irflow/irflow-responder-resolve-target"
	if !strings.Contains(c.Run.Cause, "account "+worlds.NoStackAccount) || !strings.Contains(c.Run.Cause, role) {
		t.Errorf("the failure does not name the account and the role: %s", c.Run.Cause)
	}
	for _, p := range c.Problems {
		t.Errorf("%s: %s", c.WorldName, p)
	}
	if st := taskStatus(t, bare, c.World); st != "RUNNING" || c.EC2Calls != 0 || sc.Evidence.Objects != 0 {
		t.Errorf("no member stack: task %s, %d EC2 changes, %d evidence objects; want nothing changed", st, c.EC2Calls, sc.Evidence.Objects)
	}
	for _, f := range sc.Flows {
		if f.Before != f.After {
			t.Errorf("no member stack: flow %s %s -> %s", f.Name, f.Before, f.After)
		}
	}
	if len(sum.StrictRefusals) == 0 {
		t.Error("the strict layer refused nothing: the missing role was assumed")
	}
	for _, r := range sum.StrictRefusals {
		if r.Rule != "sts-assume-missing-role" || !strings.Contains(r.Message, worlds.NoStackAccount) {
			t.Errorf("strict refusal %+v", r)
		}
	}
}

// taskStatus is the world's target's lastStatus as cfg's account sees it
// ("" when it does not).
func taskStatus(t *testing.T, cfg aws.Config, w *worlds.World) string {
	t.Helper()
	st, err := lastStatus(cfg, w)
	if err != nil {
		t.Fatalf("describing %s: %v", w.Target.Arn, err)
	}
	return st
}

func lastStatus(cfg aws.Config, w *worlds.World) (string, error) {
	out, err := ecs.NewFromConfig(cfg).DescribeTasks(context.Background(), &ecs.DescribeTasksInput{Cluster: aws.String(w.ClusterArn), Tasks: []string{w.Target.Arn}})
	if err != nil {
		return "", err
	}
	for _, tk := range out.Tasks {
		if aws.ToString(tk.TaskArn) == w.Target.Arn {
			return aws.ToString(tk.LastStatus), nil
		}
	}
	return "", nil
}

// TestMemberAccountRejected: crypto-mining rejected on a Fargate task of a
// member account: the early isolation is released through the member's
// responder role, reading the containment ledger in the administrator's
// incidents table (irflow's store, never the member's): REJECTED, the task
// RUNNING and no network ACL of its VPC, read with the member's
// credentials, still denying its addresses.
func TestMemberAccountRejected(t *testing.T) {
	ep := mototest.DirectEndpoint(t)
	ctx := context.Background()
	dir := t.TempDir()
	var out bytes.Buffer
	res, err := Run(ctx, Options{Endpoint: ep, Out: dir, Stdout: &out, Decide: DecideReject,
		Playbook: filepath.Join(repoRoot(t), "workflows", "crypto-mining.yaml"), Worlds: []string{"member-account/fargate"}})
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, tail(out.String(), 4000))
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("bench output:\n%s", tail(out.String(), 20000))
		}
	})
	if len(res.Cases) != 1 {
		t.Fatalf("%d cases", len(res.Cases))
	}
	c := res.Cases[0]
	if c.Run.Status != "SUCCEEDED" || c.Run.Outcome != generator.OutcomeRejected {
		t.Errorf("%s/%s; want SUCCEEDED/REJECTED", c.Run.Status, c.Run.Outcome)
	}
	for _, p := range c.Problems {
		t.Errorf("%s", p)
	}
	released := false
	for _, s := range c.Run.Steps {
		released = released || s.Action == "release-containment" && s.Result == "OK"
	}
	if !released {
		t.Errorf("release-containment did not run OK: %+v", c.Run.Steps)
	}
	member, err := mototest.AccountConfig(ctx, mototest.ConfigFor(ep), ep, worlds.MemberAccount)
	if err != nil {
		t.Fatal(err)
	}
	if st := taskStatus(t, member, c.World); st != "RUNNING" {
		t.Errorf("the member's task is %s; want RUNNING", st)
	}
	sc := summarizeCase(c)
	acls, err := ec2.NewFromConfig(member).DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{
		Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{c.World.VpcID}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(acls.NetworkAcls) == 0 || len(sc.Target.PrivateIPs) == 0 {
		t.Fatalf("%d network ACLs, task addresses %v", len(acls.NetworkAcls), sc.Target.PrivateIPs)
	}
	for _, acl := range acls.NetworkAcls {
		for _, e := range acl.Entries {
			for _, ip := range sc.Target.PrivateIPs {
				if e.RuleAction == ec2types.RuleActionDeny && aws.ToString(e.CidrBlock) == ip+"/32" {
					t.Errorf("network ACL %s still denies %s (rule %d)", aws.ToString(acl.NetworkAclId), ip, aws.ToInt32(e.RuleNumber))
				}
			}
		}
	}
}
