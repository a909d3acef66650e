package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/irflow/irflow/internal/demo"
	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/tasks/incident"
)

// roundTripPlaybook snapshots (EC2), isolates, protects (EC2), revokes the
// task role's sessions and stops the task, after one gate: every
// containment action with an undo, on both launch types.
const roundTripPlaybook = "workflows/malicious-execution.yaml"

// TestMotoReleaseRoundTrip is issue 16's must-show, end to end through the
// commands an operator runs: `irflow-demo --world W --playbook
// malicious-execution --decide approve --keep` contains a case on each of
// fargate, ec2-bridge and ec2-awsvpc (and a second ec2-bridge), against its
// own moto behind the AWS-strict layer; then `irflow release CASE
// --simulate --aws-endpoint URL --approve` (in process) releases each, and
// moto, read past the layer, holds: every ENI of the case on exactly its
// original groups (the summary's target.originalSecurityGroups), no network
// ACL deny but the default rule, no irflow inline policy on any role,
// every container instance ACTIVE, no instance in Standby, scale-in
// protected or termination/stop protected. A second release exits 0,
// says already released and changes nothing. On the second ec2-bridge case
// someone put other groups on the ENI by hand first: the release refuses
// that ENI, says why, releases the rest and ends PARTIALLY_RELEASED (exit
// 1). Each released case's chain verifies with irflow audit --verify and
// shows the release and its (simulated, STS-named) approver; the release's
// case report says RELEASED or PARTIALLY_RELEASED and what was refused.
func TestMotoReleaseRoundTrip(t *testing.T) {
	mototest.DirectEndpoint(t) // skips (or fails with IRFLOW_REQUIRE_MOTO) without moto
	if testing.Short() {
		t.Skip("builds and runs the bench: not in -short")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bench := filepath.Join(dir, "irflow-demo")
	build := exec.Command("go", "build", "-o", bench, "./cmd/irflow-demo")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/irflow-demo: %v\n%s", err, out)
	}
	summaryFile := filepath.Join(dir, "summary.json")
	args := []string{"--playbook", filepath.Join(root, roundTripPlaybook), "--decide", "approve", "--keep",
		"--summary", summaryFile, "--out", filepath.Join(dir, "out")}
	for _, w := range []string{"fargate", "ec2-bridge", "ec2-awsvpc", "ec2-bridge"} {
		args = append(args, "--world", w)
	}
	cmd := exec.Command(bench, args...)
	cmd.Dir = root
	var benchOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &benchOut, &benchOut
	runErr := cmd.Run()
	b, err := os.ReadFile(summaryFile)
	if err != nil {
		t.Fatalf("irflow-demo: %v, no summary: %v\n%s", runErr, err, tail(benchOut.String(), 6000))
	}
	var s demo.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	// The kept moto and strict layer are this test's: stop them by pid.
	t.Cleanup(func() {
		if s.Moto == nil {
			return
		}
		for _, pid := range []int{s.Moto.StrictPID, s.Moto.PID} {
			if pid > 0 {
				_ = syscall.Kill(pid, syscall.SIGTERM)
			}
		}
	})
	if runErr != nil || s.Moto == nil || !s.Strict || len(s.Cases) != 4 {
		t.Fatalf("irflow-demo: %v, strict %v, %d cases\n%s", runErr, s.Strict, len(s.Cases), tail(benchOut.String(), 6000))
	}
	for _, c := range s.Cases {
		if c.Status != "SUCCEEDED" || c.Outcome != "COMPLETED" {
			t.Fatalf("%s: %s/%s; want the containment COMPLETED", c.World, c.Status, c.Outcome)
		}
		for _, want := range wantRan(c.LaunchType) {
			if !ranOK(c, want) {
				t.Fatalf("%s: %s did not run OK: %+v", c.World, want, c.Steps)
			}
		}
	}
	opsAWSEnv(t)
	for k, v := range s.Env {
		t.Setenv(k, v)
	}
	ctx := context.Background()
	ep := s.Moto.Endpoint                      // the strict layer: what irflow talks to
	moto := mototest.ConfigFor(s.Moto.MotoURL) // moto itself: what the test reads back
	layer := mototest.ConfigFor(ep)

	// Someone puts the last case's ENI on other groups by hand.
	handCase := s.Cases[3]
	handENI := handCase.Target.ENIIDs[0]
	sg, err := ec2.NewFromConfig(layer).CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(mototest.Unique("by-hand")),
		Description: aws.String("put on the ENI by hand after the isolation"), VpcId: aws.String(handCase.Target.VpcID)})
	if err != nil {
		t.Fatal(err)
	}
	handGroups := append(append([]string{}, handCase.Target.OriginalSecurityGroups[handENI]...), aws.ToString(sg.GroupId))
	if _, err := ec2.NewFromConfig(layer).ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{
		NetworkInterfaceId: aws.String(handENI), Groups: handGroups}); err != nil {
		t.Fatal(err)
	}

	release := func(caseID string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run([]string{"release", caseID, "--simulate", "--aws-endpoint", ep, "--approve"}, &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	for _, c := range s.Cases[:3] {
		t.Run(c.World, func(t *testing.T) {
			code, out, errOut := release(c.Case)
			if code != exitOK || !strings.HasPrefix(out, "RELEASED: released case "+c.Case) {
				t.Fatalf("release: exit %d\n%s%s", code, out, errOut)
			}
			if !strings.Contains(out, "approved by ") || !strings.Contains(out, "SIMULATED gate") {
				t.Errorf("the release does not name its simulated approver:\n%s", out)
			}
			checkRestored(t, moto, c, nil)
			before := worldState(t, moto, c)
			code, out, errOut = release(c.Case)
			if code != exitOK || !strings.HasPrefix(out, "RELEASED: already released") {
				t.Errorf("second release: exit %d\n%s%s", code, out, errOut)
			}
			if after := worldState(t, moto, c); !reflect.DeepEqual(before, after) {
				t.Errorf("the second release changed the world:\nbefore %v\nafter  %v", before, after)
			}
			checkReleaseAudit(t, ep, c.Case, "RELEASED")
		})
	}
	t.Run("hand-changed-eni", func(t *testing.T) {
		code, out, errOut := release(handCase.Case)
		if code != exitPlaybook || !strings.HasPrefix(out, "PARTIALLY_RELEASED: partially released case "+handCase.Case) {
			t.Fatalf("release: exit %d; want 1 and PARTIALLY_RELEASED\n%s%s", code, out, errOut)
		}
		refused := ""
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, "refused") && strings.Contains(l, "sg:"+handENI) {
				refused = l
			}
		}
		if refused == "" || !strings.Contains(refused, aws.ToString(sg.GroupId)) {
			t.Errorf("the hand-changed ENI %s is not refused with the groups it carries now:\n%s", handENI, out)
		}
		if n := strings.Count(out, "\n  released "); n < 4 {
			t.Errorf("%d entries released; want the rest (revocation, drain, standby, protections) released:\n%s", n, out)
		}
		// Everything but the ENI is restored; the ENI keeps what was put
		// on it by hand.
		checkRestored(t, moto, handCase, map[string][]string{handENI: handGroups})
		checkReleaseAudit(t, ep, handCase.Case, "PARTIALLY_RELEASED")
		// The release's case report says so, and why.
		obj, err := s3.NewFromConfig(moto, func(o *s3.Options) { o.UsePathStyle = true }).GetObject(ctx, &s3.GetObjectInput{
			Bucket: aws.String(os.Getenv("IRFLOW_EVIDENCE_BUCKET")), Key: aws.String("cases/" + handCase.Case + "/finalize-release/report.json")})
		if err != nil {
			t.Fatal(err)
		}
		rep, _ := io.ReadAll(obj.Body)
		var r struct {
			Outcome string `json:"outcome"`
		}
		if err := json.Unmarshal(rep, &r); err != nil || r.Outcome != "PARTIALLY_RELEASED" || !strings.Contains(string(rep), "sg:"+handENI) ||
			!strings.Contains(string(rep), "changed since isolation") {
			t.Errorf("the release's case report (%v) does not say PARTIALLY_RELEASED and why:\n%s", err, tail(string(rep), 3000))
		}
	})
	if t.Failed() {
		t.Logf("bench output:\n%s", tail(benchOut.String(), 8000))
	}
}

// wantRan are the containment steps malicious-execution runs on a launch
// type (their Task states in the summary).
func wantRan(launchType string) []string {
	if launchType == "FARGATE" {
		return []string{"isolate-task", "revoke", "stop"}
	}
	return []string{"snapshot", "isolate", "protect", "revoke", "stop"}
}

func ranOK(c demo.SummaryCase, id string) bool {
	for _, s := range c.Steps {
		if s.ID == id && s.Result == "OK" {
			return true
		}
	}
	return false
}

// checkRestored reads the case's world back from moto: its ENIs on their
// original groups (or, for the ENIs of want, on those), no network ACL deny
// entry but the default, no irflow inline policy on any role, every
// container instance of the cluster ACTIVE, no instance in Standby or
// protected from scale-in, termination or stop.
func checkRestored(t *testing.T, cfg aws.Config, c demo.SummaryCase, want map[string][]string) {
	t.Helper()
	ctx := context.Background()
	e := ec2.NewFromConfig(cfg)
	for eni, groups := range c.Target.OriginalSecurityGroups {
		if w, ok := want[eni]; ok {
			groups = w
		}
		out, err := e.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{eni}})
		if err != nil && strings.Contains(err.Error(), "InvalidNetworkInterfaceID.NotFound") && c.NetworkMode == "awsvpc" && c.Task.LastStatus == "STOPPED" {
			// An awsvpc task's own ENI is detached and deleted when the
			// task stops (stop-task ran): nothing carries its groups.
			// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-networking-awsvpc.html
			continue
		}
		if err != nil || len(out.NetworkInterfaces) != 1 {
			t.Fatalf("%s: ENI %s: %v", c.World, eni, err)
		}
		var got []string
		for _, g := range out.NetworkInterfaces[0].Groups {
			got = append(got, aws.ToString(g.GroupId))
		}
		if !sameSet(got, groups) {
			t.Errorf("%s: ENI %s is on %v; want exactly %v", c.World, eni, got, groups)
		}
	}
	acls, err := e.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{c.Target.VpcID}}}})
	if err != nil || len(acls.NetworkAcls) == 0 {
		t.Fatalf("%s: network ACLs of %s: %v", c.World, c.Target.VpcID, err)
	}
	for _, acl := range acls.NetworkAcls {
		for _, en := range acl.Entries {
			// The worlds' ACLs hold allows and the default deny (32767);
			// any other deny is irflow's.
			if en.RuleAction == ec2types.RuleActionDeny && aws.ToInt32(en.RuleNumber) != 32767 {
				t.Errorf("%s: network ACL %s still has deny rule %d (%s)", c.World, aws.ToString(acl.NetworkAclId), aws.ToInt32(en.RuleNumber), aws.ToString(en.CidrBlock))
			}
		}
	}
	arn, err := incident.ParseTaskARN(c.Target.TaskArn)
	if err != nil {
		t.Fatal(err)
	}
	roles, err := iam.NewFromConfig(cfg).ListRoles(ctx, &iam.ListRolesInput{MaxItems: aws.Int32(1000)})
	if err != nil {
		t.Fatal(err)
	}
	worldRoles := 0
	for _, r := range roles.Roles {
		// The world's roles are named after its cluster; other worlds'
		// cases share this moto and are released in their own turn.
		if !strings.HasPrefix(aws.ToString(r.RoleName), arn.Cluster+"-") {
			continue
		}
		worldRoles++
		ps, err := iam.NewFromConfig(cfg).ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: r.RoleName})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps.PolicyNames {
			if strings.HasPrefix(p, "irflow") {
				t.Errorf("%s: role %s still has irflow's inline policy %s", c.World, aws.ToString(r.RoleName), p)
			}
		}
	}
	if worldRoles == 0 {
		t.Errorf("%s: no role named after cluster %s: the inline-policy check saw nothing", c.World, arn.Cluster)
	}
	if c.LaunchType != "EC2" {
		return
	}
	cluster := arn.ClusterArn()
	cis, err := ecs.NewFromConfig(cfg).ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String(cluster)})
	if err != nil || len(cis.ContainerInstanceArns) == 0 {
		t.Fatalf("%s: container instances of %s: %v", c.World, cluster, err)
	}
	dci, err := ecs.NewFromConfig(cfg).DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String(cluster), ContainerInstances: cis.ContainerInstanceArns})
	if err != nil {
		t.Fatal(err)
	}
	for _, ci := range dci.ContainerInstances {
		if aws.ToString(ci.Status) != "ACTIVE" {
			t.Errorf("%s: container instance %s is %s", c.World, aws.ToString(ci.Ec2InstanceId), aws.ToString(ci.Status))
		}
	}
	asg, err := autoscaling.NewFromConfig(cfg).DescribeAutoScalingInstances(ctx, &autoscaling.DescribeAutoScalingInstancesInput{InstanceIds: []string{c.Target.InstanceID}})
	if err != nil || len(asg.AutoScalingInstances) != 1 {
		t.Fatalf("%s: Auto Scaling instance %s: %v (%d)", c.World, c.Target.InstanceID, err, len(asg.AutoScalingInstances))
	}
	for _, i := range asg.AutoScalingInstances {
		if st := aws.ToString(i.LifecycleState); st != "InService" || aws.ToBool(i.ProtectedFromScaleIn) {
			t.Errorf("%s: instance %s is %s, protected from scale-in %v", c.World, aws.ToString(i.InstanceId), st, aws.ToBool(i.ProtectedFromScaleIn))
		}
	}
	for _, attr := range []ec2types.InstanceAttributeName{ec2types.InstanceAttributeNameDisableApiTermination, ec2types.InstanceAttributeNameDisableApiStop} {
		a, err := e.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(c.Target.InstanceID), Attribute: attr})
		if err != nil {
			t.Fatal(err)
		}
		if (a.DisableApiTermination != nil && aws.ToBool(a.DisableApiTermination.Value)) || (a.DisableApiStop != nil && aws.ToBool(a.DisableApiStop.Value)) {
			t.Errorf("%s: instance %s still has %s", c.World, c.Target.InstanceID, attr)
		}
	}
}

// worldState is what a release may change in the case's world, as moto
// holds it: every ENI's groups in the VPC, every ACL's entries, irflow's
// inline policies, the container instances' statuses and the instance's
// Auto Scaling state.
func worldState(t *testing.T, cfg aws.Config, c demo.SummaryCase) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	vpc := []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{c.Target.VpcID}}}
	enis, err := ec2.NewFromConfig(cfg).DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: vpc})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range enis.NetworkInterfaces {
		var gs []string
		for _, g := range n.Groups {
			gs = append(gs, aws.ToString(g.GroupId))
		}
		sort.Strings(gs)
		out = append(out, fmt.Sprintf("eni %s %v", aws.ToString(n.NetworkInterfaceId), gs))
	}
	acls, err := ec2.NewFromConfig(cfg).DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: vpc})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range acls.NetworkAcls {
		for _, e := range a.Entries {
			out = append(out, fmt.Sprintf("acl %s %v %d %s %s", aws.ToString(a.NetworkAclId), aws.ToBool(e.Egress), aws.ToInt32(e.RuleNumber), e.RuleAction, aws.ToString(e.CidrBlock)))
		}
	}
	sgs, err := ec2.NewFromConfig(cfg).DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: vpc})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range sgs.SecurityGroups {
		out = append(out, "sg "+aws.ToString(g.GroupId))
	}
	roles, err := iam.NewFromConfig(cfg).ListRoles(ctx, &iam.ListRolesInput{MaxItems: aws.Int32(1000)})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range roles.Roles {
		ps, err := iam.NewFromConfig(cfg).ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: r.RoleName})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("role %s %v", aws.ToString(r.RoleName), ps.PolicyNames))
	}
	if c.LaunchType == "EC2" {
		arn, _ := incident.ParseTaskARN(c.Target.TaskArn)
		cis, err := ecs.NewFromConfig(cfg).ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String(arn.ClusterArn())})
		if err != nil {
			t.Fatal(err)
		}
		dci, err := ecs.NewFromConfig(cfg).DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String(arn.ClusterArn()), ContainerInstances: cis.ContainerInstanceArns})
		if err != nil {
			t.Fatal(err)
		}
		for _, ci := range dci.ContainerInstances {
			out = append(out, fmt.Sprintf("ci %s %s", aws.ToString(ci.Ec2InstanceId), aws.ToString(ci.Status)))
		}
		asg, err := autoscaling.NewFromConfig(cfg).DescribeAutoScalingInstances(ctx, &autoscaling.DescribeAutoScalingInstancesInput{InstanceIds: []string{c.Target.InstanceID}})
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range asg.AutoScalingInstances {
			out = append(out, fmt.Sprintf("asg %s %s %v", aws.ToString(i.InstanceId), aws.ToString(i.LifecycleState), aws.ToBool(i.ProtectedFromScaleIn)))
		}
	}
	sort.Strings(out)
	return out
}

// checkReleaseAudit runs irflow audit CASE --verify as an operator would:
// the chain verifies, and its timeline shows the release, its simulated
// gate with the approver STS named, and the release's case report with
// its status.
func checkReleaseAudit(t *testing.T, ep, caseID, status string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run([]string{"audit", caseID, "--verify", "--table", os.Getenv("IRFLOW_AUDIT_TABLE"), "--bucket", os.Getenv("IRFLOW_EVIDENCE_BUCKET"),
		"--mac-key", os.Getenv("IRFLOW_MAC_KEY_ARN"), "--endpoint-url", ep, "--region", "us-east-1"}, &stdout, &stderr)
	out := stdout.String()
	if code != exitOK || !strings.Contains(out, "Verified:") {
		t.Fatalf("irflow audit --verify: exit %d\n%s%s", code, tail(out, 3000), stderr.String())
	}
	// The release's manifest anchors the records the release appended
	// after the case's manifest.
	for _, want := range []string{"release-containment", "approved by arn:aws:", "SIMULATED gate", "finalized with outcome " + status,
		"the release's manifest the first"} {
		if !strings.Contains(out, want) {
			t.Errorf("irflow audit %s does not show %q:\n%s", caseID, want, tail(out, 4000))
		}
	}
}

func sameSet(a, b []string) bool {
	a, b = append([]string{}, a...), append([]string{}, b...)
	sort.Strings(a)
	sort.Strings(b)
	return reflect.DeepEqual(a, b)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
