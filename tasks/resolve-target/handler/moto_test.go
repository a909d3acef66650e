package handler

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/irflow/irflow/internal/gdfake"
	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/stricttest"
	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
	start "github.com/irflow/irflow/tasks/start-api/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

func TestMain(m *testing.M) { stricttest.Main(m) }

// resolvePayload is what the generated Resolve target state sends for a
// console input on taskArn.
func resolvePayload(t *testing.T, w *mototest.World, taskArn, execName string, dryRun bool) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"action": "resolve-target", "step": "", "with": map[string]any{"lockTtlMinutes": 1440},
		"input": map[string]any{"taskArn": taskArn, "reason": "integration test", "dryRun": dryRun,
			"requestedBy": "arn:aws:iam::" + w.Account + ":role/Responder", "caseId": execName},
		"execution": map[string]any{"Id": "arn:aws:states:us-east-1:" + w.Account + ":execution:irflow-test:" + execName,
			"Name": execName, "StartTime": time.Now().UTC().Format(time.RFC3339Nano)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func runtimeFor(w *mototest.World) *taskrt.Runtime {
	return &taskrt.Runtime{Action: "resolve-target", Handle: New(w.Cfg, w.Env),
		Audit: taskrt.NewChain(w.Cfg, w.Env), Log: taskrt.NewLogger(io.Discard)}
}

type resolved struct {
	Status  string `json:"status"`
	Summary string `json:"summary"`
	Outputs struct {
		Incident incident.Incident `json:"incident"`
		Target   incident.Target   `json:"target"`
	} `json:"outputs"`
}

func invoke(t *testing.T, rt *taskrt.Runtime, payload []byte) (resolved, error) {
	t.Helper()
	var r resolved
	out, err := rt.Invoke(context.Background(), payload)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("result %s: %v", out, err)
	}
	return r, nil
}

func lockItem(t *testing.T, w *mototest.World, taskArn string) map[string]ddbtypes.AttributeValue {
	t.Helper()
	out, err := dynamodb.NewFromConfig(w.Cfg).GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(w.Env.IncidentsTable), Key: map[string]ddbtypes.AttributeValue{"pk": str(incident.TaskLockKey(taskArn))}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

func TestResolveAgainstMoto(t *testing.T) {
	w := mototest.Seed(t)
	rt := runtimeFor(w)
	for _, lt := range []string{"EC2", "FARGATE"} {
		t.Run(lt, func(t *testing.T) {
			want := w.Target(lt)
			caseID := mototest.Unique("case-" + strings.ToLower(lt))
			payload := resolvePayload(t, w, want.TaskArn, caseID, false)
			first, err := invoke(t, rt, payload)
			if err != nil {
				t.Fatalf("first run: %v", err)
			}
			got := first.Outputs.Target
			checkTarget(t, &got, want)
			if first.Outputs.Incident.CaseID != caseID || first.Outputs.Incident.LaunchType != lt {
				t.Errorf("incident = %+v; want case %s, launch type %s", first.Outputs.Incident, caseID, lt)
			}
			if _, err := contract.DecodePayload(w.Payload("tag-resources", "tag", lt, caseID, false, nil, map[string]any{"target": got})); err != nil {
				t.Errorf("the resolved target does not fit a later payload: %v", err)
			}

			// Step Functions retrying the state: same execution, lock re-taken.
			second, err := invoke(t, rt, payload)
			if err != nil {
				t.Fatalf("second run: %v", err)
			}
			if second.Status != contract.StatusOK || !strings.Contains(second.Summary, "already held by this execution") {
				t.Errorf("second run = %s %q; want OK saying the lock was already held", second.Status, second.Summary)
			}
			if it := lockItem(t, w, want.TaskArn); attr(it, "caseId") != caseID || !strings.HasSuffix(attr(it, "executionId"), caseID) {
				t.Errorf("lock item = %v", it)
			}

			// Another execution for the same task is a duplicate.
			_, err = invoke(t, rt, resolvePayload(t, w, want.TaskArn, mototest.Unique("other"), false))
			var dup *contract.DuplicateIncidentError
			if !errors.As(err, &dup) || dup.ExistingCase != caseID {
				t.Errorf("second execution: %v; want DuplicateIncidentError naming %s", err, caseID)
			}

			recs, err := taskrt.NewChain(w.Cfg, w.Env).Read(context.Background(), caseID)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 2 || recs[0].Event != "result" || recs[0].Status != "OK" {
				t.Errorf("audit = %+v; want two OK results", recs)
			}
			if err := audit.Verify(recs); err != nil {
				t.Errorf("audit chain: %v", err)
			}
		})
	}
}

func checkTarget(t *testing.T, got, want *incident.Target) {
	t.Helper()
	eq := func(field, g, w string) {
		if g != w {
			t.Errorf("target.%s = %q; want %q", field, g, w)
		}
	}
	eq("launchType", got.LaunchType, want.LaunchType)
	eq("taskArn", got.TaskArn, want.TaskArn)
	eq("clusterArn", got.ClusterArn, want.ClusterArn)
	eq("taskDefinitionArn", got.TaskDefinitionArn, want.TaskDefinitionArn)
	eq("networkMode", got.NetworkMode, want.NetworkMode)
	eq("service", got.Service, want.Service)
	eq("vpcId", got.VpcID, want.VpcID)
	eq("instanceId", got.InstanceID, want.InstanceID)
	eq("containerInstanceArn", got.ContainerInstanceArn, want.ContainerInstanceArn)
	eq("autoScalingGroup", got.AutoScalingGroup, want.AutoScalingGroup)
	eq("taskRoleArn", got.TaskRoleArn, want.TaskRoleArn)
	eq("volumeIds", strings.Join(got.VolumeIDs, ","), strings.Join(want.VolumeIDs, ","))
	eq("subnetIds", strings.Join(got.SubnetIDs, ","), strings.Join(want.SubnetIDs, ","))
	eq("securityGroups", strings.Join(got.SecurityGroups, ","), strings.Join(want.SecurityGroups, ","))
	if len(got.ENIs) != len(want.ENIs) {
		t.Fatalf("target.enis = %+v; want %+v", got.ENIs, want.ENIs)
	}
	for i := range want.ENIs {
		g, w := got.ENIs[i], want.ENIs[i]
		if g.ID != w.ID || g.SubnetID != w.SubnetID || g.VpcID != w.VpcID || strings.Join(g.SecurityGroups, ",") != strings.Join(w.SecurityGroups, ",") || g.PrivateIP == "" {
			t.Errorf("target.enis[%d] = %+v; want %+v with a private IP", i, g, w)
		}
	}
	if len(got.Containers) != 1 {
		t.Fatalf("target.containers = %+v", got.Containers)
	}
	c, wc := got.Containers[0], want.Containers[0]
	if c.Name != wc.Name || c.Image != wc.Image || c.LogDriver != "awslogs" || c.LogGroup != wc.LogGroup || c.LogStreamPrefix != wc.LogStreamPrefix {
		t.Errorf("target.containers[0] = %+v; want %+v", c, wc)
	}
}

// TestCaseClaimAgainstMoto: one execution per case. A second execution
// with the same case id, even on another task, ends DUPLICATE; the first
// retrying keeps its claim; the claim names the owner.
func TestCaseClaimAgainstMoto(t *testing.T) {
	w := mototest.Seed(t)
	rt := runtimeFor(w)
	caseID := mototest.Unique("case-claim")
	first := resolvePayload(t, w, w.FargateTaskArn, caseID, false)
	if _, err := invoke(t, rt, first); err != nil {
		t.Fatalf("first execution: %v", err)
	}
	var other map[string]any
	_ = json.Unmarshal(resolvePayload(t, w, w.EC2TaskArn, caseID, false), &other)
	exec := other["execution"].(map[string]any)
	exec["Id"], exec["Name"] = exec["Id"].(string)+"-again", "again"
	b, _ := json.Marshal(other)
	_, err := invoke(t, rt, b)
	var dup *contract.DuplicateIncidentError
	if !errors.As(err, &dup) || !dup.CaseTaken || !strings.HasSuffix(dup.Execution, ":"+caseID) {
		t.Fatalf("second execution of case %s: %v; want DuplicateIncidentError naming the first", caseID, err)
	}
	if it := lockItem(t, w, w.EC2TaskArn); len(it) != 0 {
		t.Errorf("the refused execution locked its task: %v", it)
	}
	if _, err := invoke(t, rt, first); err != nil {
		t.Errorf("the first execution retrying: %v", err)
	}
	out, err := dynamodb.NewFromConfig(w.Cfg).GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(w.Env.IncidentsTable),
		Key: map[string]ddbtypes.AttributeValue{"pk": str(incident.CaseClaimKey(caseID))}, ConsistentRead: aws.Bool(true)})
	if err != nil || attr(out.Item, "taskArn") != w.FargateTaskArn || !strings.HasSuffix(attr(out.Item, "executionId"), ":"+caseID) {
		t.Errorf("claim %v, %v", out.Item, err)
	}
}

// gdRuntime is resolve-target on the world as Lambda runs it, GuardDuty
// answered by the fake gd (moto has none), closed with the test.
func gdRuntime(t *testing.T, w *mototest.World) (*gdfake.Server, *taskrt.Runtime) {
	gd := gdfake.New()
	t.Cleanup(gd.Close)
	h := NewHandler(w.Cfg, w.Env)
	h.GuardDuty = gd.Client(w.Cfg)
	return gd, &taskrt.Runtime{Action: "resolve-target", Handle: h.Handle, Audit: taskrt.NewChain(w.Cfg, w.Env), Log: taskrt.NewLogger(io.Discard)}
}

// executionPayload is resolve-target's payload of input with with, in
// execution name of the world's test state machine, started now.
func executionPayload(w *mototest.World, input []byte, name string, with map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"action": "resolve-target", "step": "", "with": with, "input": json.RawMessage(input),
		"execution": map[string]any{"Id": "arn:aws:states:us-east-1:" + w.Account + ":execution:irflow-test:" + name, "Name": name,
			"StartTime": time.Now().UTC().Format(time.RFC3339Nano)}})
	return b
}

// TestRequesterAgainstMoto: through the real clients, a finding is
// confirmed by GuardDuty (gdfake: moto has none) and a start envelope is
// verified with moto's KMS; an unknown finding ends INVALID_INPUT naming
// detail.id.
func TestRequesterAgainstMoto(t *testing.T) {
	w := mototest.Seed(t)
	gd, rt := gdRuntime(t, w)
	finding := func(id string) []byte {
		ev, _ := json.Marshal(map[string]any{"source": "aws.guardduty", "detail-type": "GuardDuty Finding", "detail": map[string]any{
			"id": id, "accountId": w.Account, "region": mototest.Region, "type": "Impact:Runtime/CryptoMinerExecuted", "severity": 8,
			"arn": "arn:aws:guardduty:" + mototest.Region + ":" + w.Account + ":detector/det1/finding/" + id,
			"resource": map[string]any{"resourceType": "ECSCluster", "ecsClusterDetails": map[string]any{"arn": w.ClusterArn,
				"taskDetails": map[string]any{"arn": w.FargateTaskArn, "launchType": "FARGATE"}}}}})
		return ev
	}
	known := strings.ReplaceAll(mototest.Unique("f"), "-", "")
	if err := gd.AddEvent("det1", finding(known)); err != nil {
		t.Fatal(err)
	}
	payload := func(input []byte, name string) []byte { return executionPayload(w, input, name, map[string]any{}) }
	got, err := invoke(t, rt, payload(finding(known), mototest.Unique("run")))
	if err != nil || got.Outputs.Incident.Requester == nil || !got.Outputs.Incident.Requester.Verified {
		t.Fatalf("confirmed finding: %+v, %v", got.Outputs.Incident.Requester, err)
	}
	_, err = invoke(t, rt, payload(finding(strings.ReplaceAll(mototest.Unique("forged"), "-", "")), mototest.Unique("run")))
	var ii *contract.InvalidInputError
	if !errors.As(err, &ii) || ii.Field != "detail.id" {
		t.Errorf("unknown finding: %v; want InvalidInputError on detail.id", err)
	}

	// Released by finalize: free the task for the start API's execution.
	_, _ = dynamodb.NewFromConfig(w.Cfg).DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: aws.String(w.Env.IncidentsTable),
		Key: map[string]ddbtypes.AttributeValue{"pk": str(incident.TaskLockKey(w.FargateTaskArn))}})
	name := mototest.Unique("case-started")
	caller := "arn:aws:sts::" + w.Account + ":assumed-role/Responder/alice"
	in, _ := json.Marshal(map[string]any{"taskArn": w.FargateTaskArn, "reason": "seen in flow logs", "requestedBy": caller, "caseId": name})
	sealedIn, err := start.Seal(context.Background(), taskrt.NewMACKey(w.Cfg, w.Env), "arn:aws:states:us-east-1:"+w.Account+":stateMachine:irflow-test",
		name, caller, time.Now(), in)
	if err != nil {
		t.Fatal(err)
	}
	got, err = invoke(t, rt, payload(sealedIn, name))
	if err != nil || got.Outputs.Incident.Requester == nil || !got.Outputs.Incident.Requester.Verified || got.Outputs.Incident.Requester.ID != caller {
		t.Errorf("start API input: %+v, %v", got.Outputs.Incident.Requester, err)
	}
}
