package strict

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/internal/mototest"
)

// TestMain runs the tests with moto server (mototest starts it); the moto
// tests skip without it unless IRFLOW_REQUIRE_MOTO=1.
func TestMain(m *testing.M) { mototest.Main(m) }

// TestMotoExecuteCommand: a task run through the layer with
// enableExecuteCommand shows it and its agent, and ExecuteCommand opens a
// session; the world's seeded task (run without it) is refused, as is the
// exec-enabled task once stopped.
func TestMotoExecuteCommand(t *testing.T) {
	w := mototest.Seed(t)
	backend := ExecFunc(func(_ context.Context, req ExecRequest) (ExecSession, error) {
		return ExecSession{SessionID: "s-" + req.ContainerName, StreamURL: "ws://127.0.0.1:9/" + req.ContainerName, TokenValue: "t"}, nil
	})
	l, url := serve(t, mototest.Endpoint(t), Config{Exec: backend})
	e := ecs.NewFromConfig(sdk(url))
	run, err := e.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String(w.ClusterName), TaskDefinition: aws.String(w.FargateTaskDef),
		LaunchType: ecstypes.LaunchTypeFargate, EnableExecuteCommand: true, NetworkConfiguration: &ecstypes.NetworkConfiguration{
			AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{w.SubnetID}, SecurityGroups: []string{w.AppSG}}}})
	if err != nil || len(run.Tasks) != 1 {
		t.Fatalf("RunTask: %v", err)
	}
	task := aws.ToString(run.Tasks[0].TaskArn)
	if !run.Tasks[0].EnableExecuteCommand {
		t.Error("RunTask's answer lacks enableExecuteCommand")
	}
	d, err := e.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(w.ClusterName), Tasks: []string{task, w.FargateTaskArn}})
	if err != nil || len(d.Tasks) != 2 {
		t.Fatalf("DescribeTasks: %v", err)
	}
	for _, tk := range d.Tasks {
		if on := aws.ToString(tk.TaskArn) == task; tk.EnableExecuteCommand != on || (len(tk.Containers[0].ManagedAgents) == 1) != on {
			t.Errorf("%s: enableExecuteCommand %v, agents %+v", aws.ToString(tk.TaskArn), tk.EnableExecuteCommand, tk.Containers[0].ManagedAgents)
		}
	}
	execIn := func(task string) *ecs.ExecuteCommandInput {
		return &ecs.ExecuteCommandInput{Cluster: aws.String(w.ClusterName), Task: aws.String(task), Command: aws.String("/bin/sh"), Interactive: true}
	}
	out, err := e.ExecuteCommand(ctx, execIn(task))
	if err != nil || aws.ToString(out.Session.SessionId) != "s-api" || aws.ToString(out.ContainerName) != "api" {
		t.Errorf("ExecuteCommand: %+v %v", out, err)
	}
	_, err = e.ExecuteCommand(ctx, execIn(w.FargateTaskArn))
	wantRefused(t, l, err, http.StatusBadRequest, "InvalidParameterException", ruleExecNotEnabled.id)
	if _, err := e.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String(w.ClusterName), Task: aws.String(task)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.ExecuteCommand(ctx, execIn(task))
	wantRefused(t, l, err, http.StatusBadRequest, "InvalidParameterException", ruleExecNotEnabled.id)
	_, err = e.ExecuteCommand(ctx, &ecs.ExecuteCommandInput{Cluster: aws.String("no-such-cluster"), Task: aws.String(task), Command: aws.String("id"), Interactive: true})
	var cnf *ecstypes.ClusterNotFoundException
	if !errors.As(err, &cnf) {
		t.Errorf("unknown cluster: %v; want moto's ClusterNotFoundException", err)
	}
}

// TestMotoConditionalWrites: concurrent attribute_not_exists puts of one
// audit record through the layer: exactly one wins per key. moto alone
// lets several win now and then, under load (the run logs how often; on an
// idle machine the window is too short to hit, which is why
// TestConditionalPutsAtomic proves the lock against a backend that always
// races).
func TestMotoConditionalWrites(t *testing.T) {
	w := mototest.Seed(t)
	_, url := serve(t, mototest.Endpoint(t), Config{})
	race := func(cfg aws.Config, prefix string) (doubled int) {
		c := dynamodb.NewFromConfig(cfg)
		for k := range 15 {
			var wins sync.WaitGroup
			var mu sync.Mutex
			n := 0
			for range 8 {
				wins.Add(1)
				go func() {
					defer wins.Done()
					_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(w.Env.AuditTable),
						Item: map[string]ddbtypes.AttributeValue{"caseId": &ddbtypes.AttributeValueMemberS{Value: fmt.Sprint(prefix, k)},
							"seq": &ddbtypes.AttributeValueMemberN{Value: "1"}},
						ConditionExpression: aws.String("attribute_not_exists(caseId)")})
					var ccf *ddbtypes.ConditionalCheckFailedException
					if err == nil {
						mu.Lock()
						n++
						mu.Unlock()
					} else if !errors.As(err, &ccf) {
						t.Errorf("PutItem: %v", err)
					}
				}()
			}
			wins.Wait()
			if n == 0 {
				t.Errorf("%s%d: no put won", prefix, k)
			}
			if n > 1 {
				doubled++
			}
		}
		return doubled
	}
	t.Logf("moto alone: %d of 15 keys written twice by attribute_not_exists puts", race(w.Cfg, "direct-"))
	if doubled := race(sdk(url), "strict-"); doubled != 0 {
		t.Errorf("through the layer %d keys were written by more than one conditional put", doubled)
	}
}

// TestMotoNetworkACLQuota: moto takes a 20th inbound rule and rule number
// 32767; through the layer the 20th (the default deny being the 20th rule)
// is NetworkAclEntryLimitExceeded and 32767 InvalidParameterValue, while
// outbound rules have their own quota.
func TestMotoNetworkACLQuota(t *testing.T) {
	w := mototest.Seed(t)
	l, url := serve(t, mototest.Endpoint(t), Config{})
	strict, direct := ec2.NewFromConfig(sdk(url)), ec2.NewFromConfig(w.Cfg)
	acl := func() string {
		a, err := direct.CreateNetworkAcl(ctx, &ec2.CreateNetworkAclInput{VpcId: aws.String(w.VpcID)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(a.NetworkAcl.NetworkAclId)
	}
	entry := func(c *ec2.Client, acl string, n int32, egress bool) error {
		_, err := c.CreateNetworkAclEntry(ctx, &ec2.CreateNetworkAclEntryInput{NetworkAclId: aws.String(acl), RuleNumber: aws.Int32(n),
			Protocol: aws.String("-1"), RuleAction: ec2types.RuleActionDeny, Egress: aws.Bool(egress), CidrBlock: aws.String(fmt.Sprintf("10.9.%d.0/24", n))})
		return err
	}
	strictACL, motoACL := acl(), acl()
	for n := int32(1); n <= 19; n++ {
		if err := entry(strict, strictACL, n*10, false); err != nil {
			t.Fatalf("rule %d: %v", n*10, err)
		}
		if err := entry(direct, motoACL, n*10, false); err != nil {
			t.Fatal(err)
		}
	}
	wantRefused(t, l, entry(strict, strictACL, 200, false), http.StatusBadRequest, "NetworkAclEntryLimitExceeded", ruleNACLQuota.id)
	if err := entry(direct, motoACL, 200, false); err != nil {
		t.Errorf("moto refused the 20th rule too (%v): the rule would be moot", err)
	}
	if err := entry(strict, strictACL, 100, true); err != nil {
		t.Errorf("the first outbound rule: %v", err)
	}
	wantRefused(t, l, entry(strict, strictACL, 32767, true), http.StatusBadRequest, "InvalidParameterValue", ruleNACLRuleNumber.id)
	if err := entry(direct, motoACL, 32767, true); err != nil {
		t.Errorf("moto refused rule 32767 (%v): the rule would be moot", err)
	}
	var dup interface{ ErrorCode() string }
	if err := entry(strict, strictACL, 100, true); !errors.As(err, &dup) || dup.ErrorCode() != "NetworkAclEntryAlreadyExists" {
		t.Errorf("a duplicate rule number: %v; want moto's NetworkAclEntryAlreadyExists", err)
	}
}
