package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/tasks/incident"
	isolate "github.com/irflow/irflow/tasks/isolate-network/handler"
	protect "github.com/irflow/irflow/tasks/protect-instance/handler"
	revoke "github.com/irflow/irflow/tasks/revoke-task-role-sessions/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

// TestMotoReleaseSimulate: a case contained by the real handlers (isolate,
// protect, revoke on the world's EC2 task) is released by `irflow release
// CASE --simulate --aws-endpoint URL --approve`: exit 0, the instance ENI
// back on its group, no inline policy left on the task role; the second
// release exits 0 and says "already released"; without --approve nothing
// changes and it exits 1. The audit chain verifies.
func TestMotoReleaseSimulate(t *testing.T) {
	ctx := context.Background()
	ep, w, caseID := containedEC2Case(t, "case-cli-rel")
	policies := func() int {
		out, err := iam.NewFromConfig(w.Cfg).ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(w.TaskRoleName)})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.PolicyNames)
	}
	if policies() != 1 {
		t.Fatal("the revocation is not on the task role")
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"release", caseID, "--simulate", "--aws-endpoint", ep}, &stdout, &stderr); code != exitPlaybook || policies() != 1 {
		t.Errorf("without --approve: exit %d, %s", code, stderr.String())
	}
	for i, want := range []string{"RELEASED: released case " + caseID, "RELEASED: already released"} {
		stdout.Reset()
		stderr.Reset()
		code := run([]string{"release", caseID, "--simulate", "--aws-endpoint", ep, "--approve"}, &stdout, &stderr)
		if code != exitOK || !strings.HasPrefix(stdout.String(), want) {
			t.Errorf("release %d: exit %d, stdout %q, stderr %q", i+1, code, stdout.String(), stderr.String())
		}
	}
	if policies() != 0 {
		t.Error("an inline policy is left on the task role")
	}
	instanceENIRestored(t, w)
	// contained: 3 actions × (start, result); each release: the simulated
	// gate (requested, decided), release-containment (start, result) and
	// finalize-case (start, case-finalized, result).
	mototest.VerifyAudit(t, w, caseID, 2*3+2*(2+2+3))
}

// containedEC2Case seeds a world in moto, exports irflow's stores to the
// environment (as a deployment's functions have them), contains the world's
// EC2 task with the real handlers (isolate, protect, revoke) and writes
// resolve-target's claim of the case, from which a release resolves it.
func containedEC2Case(t *testing.T, prefix string) (string, *mototest.World, string) {
	t.Helper()
	ep := opsMoto(t)
	opsAWSEnv(t)
	ctx := context.Background()
	w, err := mototest.SeedWith(ctx, opsMotoConfig(ep))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"IRFLOW_EVIDENCE_BUCKET": w.Env.EvidenceBucket, "IRFLOW_AUDIT_TABLE": w.Env.AuditTable,
		"IRFLOW_APPROVALS_TABLE": w.Env.ApprovalsTable, "IRFLOW_INCIDENTS_TABLE": w.Env.IncidentsTable, "IRFLOW_TOPIC_ARN": w.Env.TopicArn,
		"IRFLOW_MAC_KEY_ARN": w.Env.MACKeyArn, "IRFLOW_KMS_KEY_ARN": w.Env.KMSKeyArn} {
		t.Setenv(k, v)
	}
	caseID := mototest.Unique(prefix)
	for _, s := range []struct {
		action, step string
		h            taskrt.HandlerFunc
	}{
		{"isolate-network", "isolate", isolate.New(w.Cfg, w.Env)},
		{"protect-instance", "protect", protect.New(w.Cfg, w.Env)},
		{"revoke-task-role-sessions", "revoke", revoke.New(w.Cfg, w.Env)},
	} {
		if r, err := mototest.Run(t, w, s.action, s.h, w.Payload(s.action, s.step, "EC2", caseID, false, nil, nil)); err != nil || r.Status != "OK" {
			t.Fatalf("%s: %v %+v", s.step, err, r)
		}
	}
	if _, err := dynamodb.NewFromConfig(w.Cfg).PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(w.Env.IncidentsTable), Item: map[string]ddbtypes.AttributeValue{
		incident.TablePK: &ddbtypes.AttributeValueMemberS{Value: incident.CaseClaimKey(caseID)},
		"caseId":         &ddbtypes.AttributeValueMemberS{Value: caseID}, "taskArn": &ddbtypes.AttributeValueMemberS{Value: w.EC2TaskArn},
		"launchType": &ddbtypes.AttributeValueMemberS{Value: "EC2"}}}); err != nil {
		t.Fatal(err)
	}
	return ep, w, caseID
}

// instanceENIRestored fails the test unless the world's instance ENI is
// back on the application's security group alone.
func instanceENIRestored(t *testing.T, w *mototest.World) {
	t.Helper()
	ni, err := ec2.NewFromConfig(w.Cfg).DescribeNetworkInterfaces(context.Background(), &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{w.InstanceENI}})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range ni.NetworkInterfaces[0].Groups {
		if aws.ToString(g.GroupId) != w.AppSG {
			t.Errorf("instance ENI still on %s", aws.ToString(g.GroupId))
		}
	}
}
