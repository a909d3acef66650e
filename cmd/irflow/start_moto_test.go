package main

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/irflow/irflow/ops"
)

const startTask = "arn:aws:ecs:us-east-1:123456789012:task/payments/0f8e7d6c5b4a39281706f5e4d3c2b1a0"

// opsStack creates a CloudFormation stack in moto whose outputs are the
// given values, as the CDK app's would be.
func opsStack(t *testing.T, ep string, outputs map[string]string) string {
	t.Helper()
	tpl := map[string]any{"Resources": map[string]any{"Handle": map[string]any{"Type": "AWS::CloudFormation::WaitConditionHandle"}}}
	outs := map[string]any{}
	for k, v := range outputs {
		outs[k] = map[string]any{"Value": v}
	}
	tpl["Outputs"] = outs
	body, _ := json.Marshal(tpl)
	name := opsUnique("Irflow")
	if _, err := cloudformation.NewFromConfig(opsMotoConfig(ep)).CreateStack(context.Background(), &cloudformation.CreateStackInput{
		StackName: aws.String(name), TemplateBody: aws.String(string(body))}); err != nil {
		t.Fatal(err)
	}
	return name
}

// TestStartMoto starts executions on a state machine in moto's Step
// Functions, found through the stack's outputs, and refuses a repeat.
func TestStartMoto(t *testing.T) {
	ep := opsMoto(t)
	opsAWSEnv(t)
	ctx := context.Background()
	c := sfn.NewFromConfig(opsMotoConfig(ep))
	sm, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(opsUnique("irflow-crypto-mining")),
		Definition: aws.String(`{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`),
		RoleArn:    aws.String("arn:aws:iam::123456789012:role/irflow-states")})
	if err != nil {
		t.Fatal(err)
	}
	smArn := aws.ToString(sm.StateMachineArn)
	stack := opsStack(t, ep, map[string]string{ops.StateMachineOutput("crypto-mining"): smArn})
	common := []string{"--endpoint-url", ep, "--region", "us-east-1", "--stack", stack}
	caseID := opsUnique("case")

	// A playbook file gives its name; the stack gives its state machine.
	args := append([]string{"start", "../../workflows/crypto-mining.yaml", "--task", startTask, "--reason", "miner seen",
		"--case-id", caseID, "--dry-run"}, common...)
	code, out, errOut := runCLI(args...)
	if code != exitOK || !strings.Contains(out, "started case "+caseID+" (dry run)") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	d, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(ops.ExecutionARN(smArn, caseID))})
	if err != nil {
		t.Fatal(err)
	}
	var input ops.StartRequest
	if err := json.Unmarshal([]byte(aws.ToString(d.Input)), &input); err != nil {
		t.Fatal(err)
	}
	// moto's STS answers GetCallerIdentity with its own user.
	if input.TaskArn != startTask || input.CaseID != caseID || !input.DryRun || !strings.HasPrefix(input.RequestedBy, "arn:aws:") {
		t.Errorf("execution input %+v", input)
	}

	// The same case again is refused, however it is started.
	for _, pb := range []string{"crypto-mining", "../../workflows/crypto-mining.yaml"} {
		code, _, errOut = runCLI(append([]string{"start", pb, "--task", startTask, "--reason", "again", "--case-id", caseID,
			"--requested-by", "arn:aws:iam::123456789012:role/Responder"}, common...)...)
		if code != exitError || !strings.Contains(errOut, "refused: case "+caseID+" already has an execution") {
			t.Errorf("repeat via %s: exit %d\n%s", pb, code, errOut)
		}
	}

	// Without --case-id a fresh one is made; --state-machine skips the stack.
	code, out, errOut = runCLI("start", "crypto-mining", "--task", startTask, "--reason", "r", "--requested-by", "alice@example.com",
		"--state-machine", smArn, "--format", "json", "--endpoint-url", ep, "--region", "us-east-1", "--stack", "NoSuchStack")
	var res struct{ CaseID, ExecutionArn string }
	if err := json.Unmarshal([]byte(out), &res); code != exitOK || err != nil ||
		!regexp.MustCompile(`^case-\d{8}-\d{6}-[0-9a-f]{4}$`).MatchString(res.CaseID) || !strings.HasSuffix(res.ExecutionArn, ":"+res.CaseID) {
		t.Errorf("default case id: exit %d %v\n%s\n%s", code, err, out, errOut)
	}

	// A playbook the stack does not deploy is named with what it does deploy.
	code, _, errOut = runCLI(append([]string{"start", "credential-abuse", "--task", startTask, "--reason", "r",
		"--requested-by", "alice@example.com"}, common...)...)
	if code != exitError || !strings.Contains(errOut, "StateMachineCredentialAbuseArn") || !strings.Contains(errOut, "StateMachineCryptoMiningArn") {
		t.Errorf("undeployed playbook: exit %d %s", code, errOut)
	}
}

// TestStartInvalidInput: bad input is a usage error naming the field, and
// no AWS call is made (no endpoint, no credentials needed).
func TestStartInvalidInput(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	tests := []struct {
		name  string
		args  []string
		field string
	}{
		{"task is not an ARN", []string{"--task", "payments/0f8e", "--reason", "r"}, "taskArn (--task)"},
		{"task is a service", []string{"--task", "arn:aws:ecs:us-east-1:123456789012:service/payments/api", "--reason", "r"}, "taskArn (--task)"},
		{"empty reason", []string{"--task", startTask, "--reason", " "}, "reason (--reason)"},
		{"bad requester", []string{"--task", startTask, "--reason", "r", "--requested-by", "Alice Smith"}, "requestedBy (--requested-by)"},
		{"bad case id", []string{"--task", startTask, "--reason", "r", "--case-id", "-x"}, "caseId (--case-id)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(append([]string{"start", "crypto-mining"}, tt.args...)...)
			if code != exitUsage || !strings.Contains(errOut, "invalid input: "+tt.field) || !strings.Contains(errOut, "InvalidInputError") {
				t.Errorf("exit %d\n%s", code, errOut)
			}
		})
	}
	for _, args := range [][]string{{"start"}, {"start", "Not A Name", "--task", startTask, "--reason", "r"},
		{"start", "testdata/nope.yaml", "--task", startTask, "--reason", "r"}} {
		if code, _, errOut := runCLI(args...); code != exitUsage {
			t.Errorf("%v: exit %d %s", args, code, errOut)
		}
	}
}
