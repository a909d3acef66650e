package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
)

type apiErr struct{ code string }

func (e apiErr) Error() string                 { return e.code }
func (e apiErr) ErrorCode() string             { return e.code }
func (e apiErr) ErrorMessage() string          { return e.code + " message" }
func (e apiErr) ErrorFault() smithy.ErrorFault { return smithy.FaultServer }

func consoleInput(taskArn string, dryRun bool) string {
	return fmt.Sprintf(`{"taskArn":%q,"reason":"suspicious","requestedBy":"arn:aws:iam::111122223333:role/Analyst","dryRun":%v}`, taskArn, dryRun)
}

func payloadFor(input, with string) *contract.Payload {
	return &contract.Payload{Action: "resolve-target", With: json.RawMessage(with), Input: json.RawMessage(input),
		Execution: contract.Execution{ID: "arn:aws:states:us-east-1:111122223333:execution:irflow-x:run-1", Name: "run-1", StartTime: "2026-11-20T14:02:12.5Z"}}
}

// handleRefused runs input with with (`{}` when empty) and wants the error
// named want; where field is set, an InvalidInputError on it whose reason
// holds reason. It returns the error for the caller's own checks.
func handleRefused(t *testing.T, h *Handler, input, with, want, field, reason string) error {
	t.Helper()
	if with == "" {
		with = `{}`
	}
	_, err := h.Handle(context.Background(), payloadFor(input, with))
	if got := contract.ErrorName(err); got != want {
		t.Fatalf("error %v (%s); want %s", err, got, want)
	}
	var ii *contract.InvalidInputError
	if field != "" && (!errors.As(err, &ii) || ii.Field != field || !strings.Contains(ii.Reason, reason)) {
		t.Errorf("error %v; want field %s saying %q", err, field, reason)
	}
	return err
}

func outputs(t *testing.T, r *contract.Result) (*incident.Incident, *incident.Target) {
	t.Helper()
	inc, ok := r.Outputs["incident"].(*incident.Incident)
	if !ok {
		t.Fatalf("outputs.incident is %T; the runtime needs *incident.Incident", r.Outputs["incident"])
	}
	return inc, r.Outputs["target"].(*incident.Target)
}

func TestResolveFargate(t *testing.T) {
	h, db := newWorld()
	r, err := h.Handle(context.Background(), payloadFor(consoleInput(fargateArn, false), `{"lockTtlMinutes":60}`))
	if err != nil {
		t.Fatal(err)
	}
	inc, tg := outputs(t, r)
	if inc.CaseID != "run-1" || inc.LaunchType != "FARGATE" {
		t.Errorf("incident = %+v; want case run-1 with the task's launch type", inc)
	}
	if tg.NetworkMode != "awsvpc" || tg.Service != "payments-api" || tg.VpcID != "vpc-1" || tg.TaskRoleArn != "arn:aws:iam::111122223333:role/override" ||
		tg.ExecutionRoleArn != "arn:aws:iam::111122223333:role/exec" || !tg.EnableExecuteCommand || tg.InstanceID != "" {
		t.Errorf("target = %+v", tg)
	}
	if len(tg.ENIs) != 1 || fmt.Sprint(tg.ENIs[0]) != fmt.Sprint(incident.ENI{ID: "eni-f", PrivateIP: "10.0.1.5", SubnetID: "subnet-1", VpcID: "vpc-1", SecurityGroups: []string{"sg-app"}}) {
		t.Errorf("enis = %+v", tg.ENIs)
	}
	if len(tg.Containers) != 2 || tg.Containers[0].LogGroup != "/ecs/app" || tg.Containers[0].ImageDigest != "sha256:abc" || tg.Containers[1].LogDriver != "awsfirelens" {
		t.Errorf("containers = %+v", tg.Containers)
	}
	if len(tg.Tags) != 1 || tg.Tags["env"] != "prod" {
		t.Errorf("tags = %v; want the task's tags (when: taskTags reads them)", tg.Tags)
	}
	b, _ := json.Marshal(tg)
	if strings.Contains(string(b), "null") {
		t.Errorf("target has a null list: %s", b)
	}
	put := db.taskPuts()[0]
	if got := put.Item["expiresAt"].(*ddbtypes.AttributeValueMemberN).Value; got != fmt.Sprint(fixedNow+3600) {
		t.Errorf("expiresAt = %s; want now + 60 minutes", got)
	}
	if !strings.Contains(aws.ToString(put.ConditionExpression), "dryRun = :true") {
		t.Errorf("a live response must take over a rehearsal's lock: condition %s", aws.ToString(put.ConditionExpression))
	}
}

func TestResolveEC2Bridge(t *testing.T) {
	h, _ := newWorld()
	r, err := h.Handle(context.Background(), payloadFor(consoleInput(ec2Arn, false), `{}`))
	if err != nil {
		t.Fatal(err)
	}
	_, tg := outputs(t, r)
	if tg.NetworkMode != "bridge" || tg.InstanceID != "i-1" || tg.AutoScalingGroup != "ecs-asg" || strings.Join(tg.VolumeIDs, ",") != "vol-1" || tg.VpcID != "vpc-1" {
		t.Errorf("target = %+v", tg)
	}
	var ids []string
	for _, e := range tg.ENIs {
		ids = append(ids, e.ID)
	}
	if strings.Join(ids, ",") != "eni-1,eni-2" || strings.Join(tg.SubnetIDs, ",") != "subnet-1,subnet-2" || strings.Join(tg.SecurityGroups, ",") != "sg-a,sg-b" {
		t.Errorf("bridge mode should use the instance ENIs in device order: enis %v subnets %v groups %v", ids, tg.SubnetIDs, tg.SecurityGroups)
	}
	if b, _ := json.Marshal(tg); strings.Contains(string(b), `"tags"`) {
		t.Errorf("an untagged task's target has tags: %s; want none", b)
	}
}

// TestResolveExternal: other launch types resolve (no instance lookups);
// the state machine's default branch handles them.
func TestResolveExternal(t *testing.T) {
	h, _ := newWorld()
	h.ASG = nil // any instance lookup would panic
	r, err := h.Handle(context.Background(), payloadFor(consoleInput(edgeArn, false), `{}`))
	if err != nil {
		t.Fatal(err)
	}
	inc, tg := outputs(t, r)
	if tg.LaunchType != "EXTERNAL" || inc.LaunchType != "EXTERNAL" || tg.InstanceID != "" || tg.ContainerInstanceArn != ciArn {
		t.Errorf("target = %+v", tg)
	}
	if len(tg.Containers) != 1 || tg.Containers[0].Name != "worker" {
		t.Errorf("containers from the definition: %+v", tg.Containers)
	}
}

func TestResolveGuardDutyDryRun(t *testing.T) {
	raw, err := os.ReadFile("../../../examples/inputs/guardduty-fargate-cryptominer.json")
	if err != nil {
		t.Fatal(err)
	}
	h, db := newWorld()
	r, err := h.Handle(context.Background(), payloadFor(string(raw), `{}`))
	if err != nil {
		t.Fatal(err)
	}
	inc, _ := outputs(t, r)
	if inc.CaseID != "gd-b2c6a1f0e4d94a1f8c7e5d3b2a190817" || inc.Finding == nil || inc.LaunchType != "FARGATE" {
		t.Errorf("incident = %+v", inc)
	}

	h, db = newWorld()
	if _, err := h.Handle(context.Background(), payloadFor(consoleInput(fargateArn, true), `{}`)); err != nil {
		t.Fatal(err)
	}
	if c := aws.ToString(db.taskPuts()[0].ConditionExpression); strings.Contains(c, "dryRun") {
		t.Errorf("a rehearsal must not take over another's lock: condition %s", c)
	}
	if len(db.puts) != 2 || len(db.taskPuts()) != 1 {
		t.Errorf("dry run wrote %d items; want the case claim and the lock", len(db.puts))
	}
}

func TestResolveErrors(t *testing.T) {
	ccf := &ddbtypes.ConditionalCheckFailedException{}
	holder := map[string]ddbtypes.AttributeValue{"caseId": str("case-7"), "executionId": str("exec-7")}
	tests := []struct {
		name        string
		input       string
		with        string
		setup       func(h *Handler, db *fakeDB)
		want        string // error type name
		field       string // InvalidInputError.Field
		release     bool   // the lock must be given back
		releaseCase bool   // the case claim must be given back
	}{
		{name: "not JSON", input: `{`, want: "InvalidInputError", field: "input"},
		{name: "bad task ARN", input: consoleInput("arn:aws:ecs:us-east-1:111122223333:service/x", false), want: "InvalidInputError", field: "taskArn"},
		{name: "unknown console key", input: `{"taskArn":"` + fargateArn + `","reason":"r","requestedBy":"me","force":true}`, want: "InvalidInputError", field: "force"},
		{name: "ttl out of range", input: consoleInput(fargateArn, false), with: `{"lockTtlMinutes":1}`, want: "InvalidInputError", field: "with.lockTtlMinutes"},
		{name: "console input, triggers.manual false", input: consoleInput(fargateArn, false), with: `{"manual":false}`, want: "InvalidInputError", field: "input"},
		{name: "unknown param", input: consoleInput(fargateArn, false), with: `{"ttl":5}`, want: "InvalidInputError", field: "with.ttl"},
		{name: "no table", input: consoleInput(fargateArn, false), setup: func(h *Handler, _ *fakeDB) { h.IncidentsTable = "" }, want: "PreconditionFailedError"},
		{name: "duplicate", input: consoleInput(fargateArn, false), want: "DuplicateIncidentError", releaseCase: true, setup: func(_ *Handler, db *fakeDB) {
			db.put = onTask(func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) { return nil, ccf })
			db.get = func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
				return &dynamodb.GetItemOutput{Item: holder}, nil
			}
		}},
		{name: "lock throttled", input: consoleInput(fargateArn, false), want: "RetryableError", releaseCase: true, setup: func(_ *Handler, db *fakeDB) {
			db.put = onTask(func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) {
				return nil, apiErr{"ProvisionedThroughputExceededException"}
			})
		}},
		{name: "task missing", input: consoleInput("arn:aws:ecs:us-east-1:111122223333:task/payments/0123456789abcdef0123456789abcdef", false),
			want: "TargetNotFoundError", release: true, releaseCase: true},
		{name: "cluster missing", input: consoleInput(fargateArn, false), want: "TargetNotFoundError", release: true, releaseCase: true, setup: func(h *Handler, _ *fakeDB) {
			h.ECS.(*fakeECS).tasks = func(*ecs.DescribeTasksInput) (*ecs.DescribeTasksOutput, error) {
				return nil, apiErr{"ClusterNotFoundException"}
			}
		}},
		{name: "describe throttled", input: consoleInput(ec2Arn, false), want: "RetryableError", release: true, releaseCase: true, setup: func(h *Handler, _ *fakeDB) {
			h.ECS.(*fakeECS).instances = func(*ecs.DescribeContainerInstancesInput) (*ecs.DescribeContainerInstancesOutput, error) {
				return nil, apiErr{"ThrottlingException"}
			}
		}},
		{name: "container instance gone", input: consoleInput(ec2Arn, false), want: "TargetNotFoundError", release: true, releaseCase: true, setup: func(h *Handler, _ *fakeDB) {
			h.ECS.(*fakeECS).instances = func(*ecs.DescribeContainerInstancesInput) (*ecs.DescribeContainerInstancesOutput, error) {
				return &ecs.DescribeContainerInstancesOutput{}, nil
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, db := newWorld()
			if tt.setup != nil {
				tt.setup(h, db)
			}
			err := handleRefused(t, h, tt.input, tt.with, tt.want, tt.field, "")
			var dup *contract.DuplicateIncidentError
			if errors.As(err, &dup) && (dup.ExistingCase != "case-7" || dup.Execution != "exec-7" || dup.TaskArn != fargateArn) {
				t.Errorf("duplicate error = %+v; want it to name the holder", dup)
			}
			tp := db.taskPuts()
			released := len(tp) == 2 && aws.ToString(tp[1].ConditionExpression) == condHeldByMe &&
				tp[1].Item["expiresAt"].(*ddbtypes.AttributeValueMemberN).Value == fmt.Sprint(fixedNow-1)
			if released != tt.release {
				t.Errorf("lock released = %v; want %v (puts %d)", released, tt.release, len(db.puts))
			}
			caseReleased := len(db.dels) == 1 && pkOf(db.dels[0].Key) == "case#run-1" && aws.ToString(db.dels[0].ConditionExpression) == condHeldByMe
			if caseReleased != tt.releaseCase {
				t.Errorf("case claim released = %v; want %v (deletes %v)", caseReleased, tt.releaseCase, db.dels)
			}
		})
	}
}

// TestLockRace: the holder released the lock between our put and our read.
func TestLockRace(t *testing.T) {
	h, db := newWorld()
	calls := 0
	db.put = onTask(func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) {
		if calls++; calls == 1 {
			return nil, &ddbtypes.ConditionalCheckFailedException{}
		}
		return &dynamodb.PutItemOutput{}, nil
	})
	if _, err := h.Handle(context.Background(), payloadFor(consoleInput(fargateArn, false), `{}`)); err != nil {
		t.Fatalf("got %v; want the second attempt to take the lock", err)
	}
}

// TestRetryKeepsLock: Step Functions retrying the state finds its own lock.
func TestRetryKeepsLock(t *testing.T) {
	h, db := newWorld()
	db.put = func(in *dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) {
		return &dynamodb.PutItemOutput{Attributes: map[string]ddbtypes.AttributeValue{"executionId": in.Item["executionId"]}}, nil
	}
	r, err := h.Handle(context.Background(), payloadFor(consoleInput(fargateArn, false), `{}`))
	if err != nil || !strings.Contains(r.Summary, "already held by this execution") {
		t.Errorf("got %v, %v; want OK saying the lock was already held", r, err)
	}
}

// TestDescribeAtOnce: the task definition, the task's ENIs and the
// container instance's EC2 side need only DescribeTasks' answer and are
// asked for at once (fewer round trips on the way to containment): each
// fake waits until the others have been called. Called one after another
// they never all arrive and the test fails on its timeout.
func TestDescribeAtOnce(t *testing.T) {
	for _, tc := range []struct {
		name, task string
		calls      []string
	}{
		{"fargate", fargateArn, []string{"taskDef", "enis"}},
		{"ec2", ec2Arn, []string{"taskDef", "containerInstance"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := newWorld()
			arrived := map[string]chan struct{}{}
			for _, c := range tc.calls {
				arrived[c] = make(chan struct{})
			}
			meet := func(name string) error {
				close(arrived[name])
				for other, ch := range arrived {
					select {
					case <-ch:
					case <-time.After(5 * time.Second):
						return fmt.Errorf("%s was called and %s was not asked for meanwhile", name, other)
					}
				}
				return nil
			}
			fe, f2 := h.ECS.(*fakeECS), h.EC2.(*fakeEC2)
			def, enis, ci := fe.taskDef, f2.enis, fe.instances
			fe.taskDef = func(in *ecs.DescribeTaskDefinitionInput) (*ecs.DescribeTaskDefinitionOutput, error) {
				if err := meet("taskDef"); err != nil {
					return nil, err
				}
				return def(in)
			}
			if _, ok := arrived["enis"]; ok {
				f2.enis = func(in *ec2.DescribeNetworkInterfacesInput) (*ec2.DescribeNetworkInterfacesOutput, error) {
					if err := meet("enis"); err != nil {
						return nil, err
					}
					return enis(in)
				}
			}
			if _, ok := arrived["containerInstance"]; ok {
				fe.instances = func(in *ecs.DescribeContainerInstancesInput) (*ecs.DescribeContainerInstancesOutput, error) {
					if err := meet("containerInstance"); err != nil {
						return nil, err
					}
					return ci(in)
				}
			}
			if _, err := h.Handle(context.Background(), payloadFor(consoleInput(tc.task, false), `{}`)); err != nil {
				t.Fatal(err)
			}
		})
	}
}
