package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/ops"
	"github.com/irflow/irflow/tasks/funcurl"
	"github.com/irflow/irflow/tasks/incident"
	start "github.com/irflow/irflow/tasks/start-api/handler"
	"github.com/irflow/irflow/tasks/taskrt"
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
	name := mototest.Unique("Irflow")
	if _, err := cloudformation.NewFromConfig(opsMotoConfig(ep)).CreateStack(context.Background(), &cloudformation.CreateStackInput{
		StackName: aws.String(name), TemplateBody: aws.String(string(body))}); err != nil {
		t.Fatal(err)
	}
	return name
}

// startAPI is the start API's real handler behind an httptest server that
// plays the Function URL: it refuses unsigned requests and hands the
// handler the caller the signature names, as AWS_IAM auth does (here one
// caller for the test's credentials). Step Functions and KMS are moto's.
func startAPI(t *testing.T, ep, prefix, caller string) *httptest.Server {
	t.Helper()
	cfg := opsMotoConfig(ep)
	key, err := kms.NewFromConfig(cfg).CreateKey(context.Background(), &kms.CreateKeyInput{KeySpec: kmstypes.KeySpecHmac256,
		KeyUsage: kmstypes.KeyUsageTypeGenerateVerifyMac})
	if err != nil {
		t.Fatal(err)
	}
	return startAPIKey(t, ep, prefix, caller, aws.ToString(key.KeyMetadata.Arn))
}

// startAPIKey is startAPI sealing with the given HMAC key (the one the
// handlers that verify the seal know).
func startAPIKey(t *testing.T, ep, prefix, caller, keyArn string) *httptest.Server {
	t.Helper()
	cfg := opsMotoConfig(ep)
	h := start.New(cfg, taskrt.Env{MACKeyArn: keyArn, StateMachinePrefix: prefix})
	h.Log = taskrt.NewLogger(io.Discard)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") {
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `{"Message":"Forbidden"}`)
			return
		}
		body, _ := io.ReadAll(r.Body)
		resp, _ := h.HandleURL(r.Context(), funcurl.Request(r.Method, r.URL.Path, string(body), caller, "123456789012"))
		w.WriteHeader(resp.StatusCode)
		_, _ = io.WriteString(w, resp.Body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestStartMoto: irflow start calls the start API (found through the
// stack's outputs), which starts moto's state machine with the caller as
// the requester and the input sealed; a repeat of the case is refused.
func TestStartMoto(t *testing.T) {
	ep := opsMoto(t)
	opsAWSEnv(t)
	ctx := context.Background()
	c := sfn.NewFromConfig(opsMotoConfig(ep))
	base := mototest.Unique("irflow")
	sm, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(base + "-crypto-mining"),
		Definition: aws.String(`{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`),
		RoleArn:    aws.String("arn:aws:iam::123456789012:role/irflow-states")})
	if err != nil {
		t.Fatal(err)
	}
	smArn := aws.ToString(sm.StateMachineArn)
	const alice = "arn:aws:sts::123456789012:assumed-role/Responder/alice"
	api := startAPI(t, ep, strings.TrimSuffix(smArn, "crypto-mining"), alice)
	stack := opsStack(t, ep, map[string]string{ops.OutputStartURL: api.URL + "/"})
	common := []string{"--endpoint-url", ep, "--region", "us-east-1", "--stack", stack}
	caseID := mototest.Unique("case")

	// A playbook file gives its name; the stack gives the start API.
	args := append([]string{"start", "../../workflows/crypto-mining.yaml", "--task", startTask, "--reason", "miner seen",
		"--case-id", caseID, "--dry-run"}, common...)
	code, out, errOut := runCLI(args...)
	if code != exitOK || !strings.Contains(out, "started case "+caseID+" (dry run)") || !strings.Contains(out, "requested by: "+alice+" (verified") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	d, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(
		strings.Replace(smArn, ":stateMachine:", ":execution:", 1) + ":" + caseID)})
	if err != nil {
		t.Fatal(err)
	}
	raw := []byte(aws.ToString(d.Input))
	inc, err := incident.Normalize(raw, incident.Execution{Name: caseID})
	env, _, eerr := incident.StartEnvelopeOf(raw)
	if err != nil || eerr != nil || inc.TaskArn != startTask || inc.CaseID != caseID || !inc.DryRun || inc.RequestedBy != alice ||
		env == nil || env.Caller != alice || env.MAC == "" {
		t.Errorf("execution input %s: %+v %v %v", raw, inc, err, eerr)
	}

	// The same case again is refused, however it is named.
	for _, pb := range []string{"crypto-mining", "../../workflows/crypto-mining.yaml"} {
		code, _, errOut = runCLI(append([]string{"start", pb, "--task", startTask, "--reason", "again", "--case-id", caseID}, common...)...)
		if code != exitError || !strings.Contains(errOut, "refused (409 duplicate-case): case "+caseID+" already has an execution") {
			t.Errorf("repeat via %s: exit %d\n%s", pb, code, errOut)
		}
	}

	// Without --case-id a fresh one is made; --endpoint skips the stack.
	code, out, errOut = runCLI("start", "crypto-mining", "--task", startTask, "--reason", "r", "--endpoint", api.URL,
		"--format", "json", "--endpoint-url", ep, "--region", "us-east-1", "--stack", "NoSuchStack")
	var res struct{ CaseID, ExecutionArn, RequestedBy string }
	if err := json.Unmarshal([]byte(out), &res); code != exitOK || err != nil ||
		!regexp.MustCompile(`^case-\d{8}-\d{6}-[0-9a-f]{4}$`).MatchString(res.CaseID) || !strings.HasSuffix(res.ExecutionArn, ":"+res.CaseID) ||
		res.RequestedBy != alice {
		t.Errorf("default case id: exit %d %v\n%s\n%s", code, err, out, errOut)
	}

	// A playbook the deployment does not have is refused by the API.
	code, _, errOut = runCLI(append([]string{"start", "credential-abuse", "--task", startTask, "--reason", "r"}, common...)...)
	if code != exitError || !strings.Contains(errOut, "404 unknown-playbook") {
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
		// The requester is whoever signs the request: no flag names one.
		{"start", "crypto-mining", "--task", startTask, "--reason", "r", "--requested-by", "arn:aws:iam::123456789012:user/bob"},
		{"start", "testdata/nope.yaml", "--task", startTask, "--reason", "r"}} {
		if code, _, errOut := runCLI(args...); code != exitUsage {
			t.Errorf("%v: exit %d %s", args, code, errOut)
		}
	}
}
