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

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/taskrt"
)

func TestMain(m *testing.M) { mototest.Main(m) }

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
