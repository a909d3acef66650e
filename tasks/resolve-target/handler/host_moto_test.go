package handler

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
)

// TestHostFindingAgainstMoto: a Runtime Monitoring finding about the
// world's container instance (resource type Instance), confirmed by
// GuardDuty (gdfake), resolves to the host: its container instance, found
// by ListContainerInstances (moto ignores the ec2InstanceId filter, the
// handler checks), and the tasks running on it, the world's EC2 task
// among them and its Fargate task not. Run twice: the same target, the
// host's lock held by the execution. An EC2 instance no ECS agent
// registered ends TargetNotFound, with or without the cluster named.
func TestHostFindingAgainstMoto(t *testing.T) {
	w := mototest.Seed(t)
	gd, rt := gdRuntime(t, w)
	finding := func(id, instance string, cluster bool) []byte {
		res := map[string]any{"resourceType": "Instance", "instanceDetails": map[string]any{"instanceId": instance, "instanceType": "m6i.large"}}
		if cluster {
			res["ecsClusterDetails"] = map[string]any{"arn": w.ClusterArn, "name": w.ClusterName, "status": "ACTIVE"}
		}
		ev, _ := json.Marshal(map[string]any{"source": "aws.guardduty", "detail-type": "GuardDuty Finding", "detail": map[string]any{
			"id": id, "accountId": w.Account, "region": mototest.Region, "partition": "aws", "severity": 8,
			"type": "PrivilegeEscalation:Runtime/ContainerMountsHostDirectory",
			"arn":  "arn:aws:guardduty:" + mototest.Region + ":" + w.Account + ":detector/det1/finding/" + id, "resource": res}})
		if err := gd.AddEvent("det1", ev); err != nil {
			t.Fatal(err)
		}
		return ev
	}
	payload := func(input []byte, name string) []byte {
		return executionPayload(w, input, name, map[string]any{"hostFindings": true})
	}
	id := strings.ReplaceAll(mototest.Unique("host"), "-", "")
	in := payload(finding(id, w.InstanceID, true), mototest.Unique("run"))
	first, err := invoke(t, rt, in)
	if err != nil {
		t.Fatal(err)
	}
	second, err := invoke(t, rt, in)
	if err != nil {
		t.Fatalf("the same execution again: %v", err)
	}
	tg := first.Outputs.Target
	if inc := first.Outputs.Incident; !inc.IsHost() || inc.InstanceID != w.InstanceID || inc.Requester == nil || !inc.Requester.Verified {
		t.Errorf("incident %+v", inc)
	}
	if tg.TaskArn != "" || tg.InstanceID != w.InstanceID || tg.ContainerInstanceArn != w.ContainerInstanceArn || tg.ClusterArn != w.ClusterArn ||
		!contains(tg.HostTasks, w.EC2TaskArn) || contains(tg.HostTasks, w.FargateTaskArn) || len(tg.VolumeIDs) == 0 || len(tg.ENIs) == 0 {
		t.Errorf("target %+v", tg)
	}
	a, _ := json.Marshal(first.Outputs.Target)
	b, _ := json.Marshal(second.Outputs.Target)
	if string(a) != string(b) {
		t.Errorf("second run differs:\n%s\n%s", a, b)
	}
	inc := first.Outputs.Incident
	lock, err := dynamodb.NewFromConfig(w.Cfg).GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(w.Env.IncidentsTable),
		Key: map[string]ddbtypes.AttributeValue{"pk": str(inc.LockKey())}, ConsistentRead: aws.Bool(true)})
	if err != nil || attr(lock.Item, "caseId") != inc.CaseID {
		t.Errorf("host lock %v, %v", lock.Item, err)
	}

	// An instance without an ECS agent: launched, never registered.
	run, err := ec2.NewFromConfig(w.Cfg).RunInstances(context.Background(), &ec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"),
		InstanceType: ec2types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(w.SubnetID)})
	if err != nil {
		t.Fatal(err)
	}
	bare := aws.ToString(run.Instances[0].InstanceId)
	for _, named := range []bool{true, false} {
		id := strings.ReplaceAll(mototest.Unique("bare"), "-", "")
		_, err := invoke(t, rt, payload(finding(id, bare, named), mototest.Unique("run")))
		var tnf *contract.TargetNotFoundError
		if !errors.As(err, &tnf) || !strings.Contains(err.Error(), "no ECS agent registered it") {
			t.Errorf("instance without an agent (cluster named %v): %v; want TargetNotFoundError", named, err)
		}
		lock, _ := dynamodb.NewFromConfig(w.Cfg).GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(w.Env.IncidentsTable),
			Key: map[string]ddbtypes.AttributeValue{"pk": str(incident.HostLockPrefix + "arn:aws:ec2:" + mototest.Region + ":" + w.Account + ":instance/" + bare)}, ConsistentRead: aws.Bool(true)})
		if attr(lock.Item, "releasedAt") == "" {
			t.Errorf("the lock of the instance without an agent was not given back: %v", lock.Item)
		}
	}
}

func contains(xs []string, x string) bool {
	for _, s := range xs {
		if s == x {
			return true
		}
	}
	return false
}
