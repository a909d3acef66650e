package ops

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/irflow/irflow/tasks/approval-api/approval"
)

func TestStateMachineOutput(t *testing.T) {
	tests := map[string]string{
		"crypto-mining":    "StateMachineCryptoMiningArn",
		"reverse-shell-c2": "StateMachineReverseShellC2Arn",
		"x1":               "StateMachineX1Arn",
	}
	for in, want := range tests {
		if got := StateMachineOutput(in); got != want {
			t.Errorf("StateMachineOutput(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestFunctionURLRegion(t *testing.T) {
	tests := map[string]string{
		"abcdef.lambda-url.eu-west-1.on.aws":         "eu-west-1",
		"abcdef.lambda-url.us-gov-west-1.on.aws:443": "us-gov-west-1",
		"127.0.0.1:8080":                             "",
		"approvals.example.com":                      "",
	}
	for in, want := range tests {
		if got := FunctionURLRegion(in); got != want {
			t.Errorf("FunctionURLRegion(%q) = %q; want %q", in, got, want)
		}
	}
}

var sigRE = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/\d{8}/us-east-1/lambda/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$`)

func TestApprovalClient(t *testing.T) {
	id := approval.ID("arn:aws:states:us-east-1:123456789012:execution:irflow-x:c", "gate")
	tests := []struct {
		name    string
		status  int
		body    string
		refused string
	}{
		{"recorded", 200, `{"approvalId":"` + id + `","status":"APPROVED","approver":"arn:aws:sts::123456789012:assumed-role/IC/alice","delivered":true}`, ""},
		{"already decided", 409, `{"error":"already-decided","message":"approval was already approved by bob"}`, "409 already-decided: approval was already approved by bob"},
		{"function URL auth", 403, `{"Message":"Forbidden"}`, `403 Forbidden: {"Message":"Forbidden"} (the Function URL refused`},
		{"gateway", 502, ``, "502 Bad Gateway: (empty body)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				var req approval.DecisionRequest
				if r.Method != http.MethodPost || r.URL.Path != "/approvals/"+id || json.Unmarshal(body, &req) != nil ||
					req.Decision != "reject" || req.Reason != "not now" {
					t.Errorf("request %s %s %s", r.Method, r.URL.Path, body)
				}
				if !sigRE.MatchString(r.Header.Get("Authorization")) || r.Header.Get("X-Amz-Date") == "" ||
					r.Header.Get("X-Amz-Security-Token") != "SESSION" {
					t.Errorf("not signed: %v", r.Header)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			c := &ApprovalClient{Endpoint: srv.URL + "/", Region: "us-east-1",
				Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "SECRET", "SESSION")}
			res, err := c.Decide(context.Background(), id, "reject", "not now")
			var ref *RefusedError
			switch {
			case tt.refused == "" && (err != nil || res.Status != "APPROVED"):
				t.Errorf("res %+v err %v", res, err)
			case tt.refused != "" && (!errors.As(err, &ref) || ref.Status != tt.status || !strings.HasPrefix(err.Error(), tt.refused)):
				t.Errorf("error %v; want %s", err, tt.refused)
			}
		})
	}
}

func TestApprovalClientRefusesBadInput(t *testing.T) {
	c := &ApprovalClient{Endpoint: "https://x.lambda-url.us-east-1.on.aws/", Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")}
	if _, err := c.Decide(context.Background(), "apr-nope", "approve", "r"); err == nil {
		t.Error("a malformed id was sent")
	}
	c.Endpoint = "ftp://x"
	if _, err := c.Decide(context.Background(), approval.ID("e", "s"), "approve", "r"); err == nil || !strings.Contains(err.Error(), "not an http(s) URL") {
		t.Errorf("error %v", err)
	}
}

func TestStartRequestValidate(t *testing.T) {
	good := StartRequest{TaskArn: "arn:aws:ecs:us-east-1:111122223333:task/payments/0f8e7d6c5b4a39281706f5e4d3c2b1a0",
		Reason: "miner", RequestedBy: "arn:aws:iam::111122223333:role/SecurityAnalyst", CaseID: "case-1"}
	if err := good.Validate(); err != nil {
		t.Fatalf("good input refused: %v", err)
	}
	tests := []struct {
		name  string
		edit  func(*StartRequest)
		field string
	}{
		{"task is not an ARN", func(r *StartRequest) { r.TaskArn = "payments/0f8e" }, "taskArn"},
		{"task is a cluster", func(r *StartRequest) { r.TaskArn = "arn:aws:ecs:us-east-1:111122223333:cluster/payments" }, "taskArn"},
		{"no reason", func(r *StartRequest) { r.Reason = "" }, "reason"},
		{"requester with spaces", func(r *StartRequest) { r.RequestedBy = "Alice Smith" }, "requestedBy"},
		{"case id with a space", func(r *StartRequest) { r.CaseID = "case 1" }, "caseId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := good
			tt.edit(&r)
			var ie *InputError
			if err := r.Validate(); !errors.As(err, &ie) || ie.Field != tt.field {
				t.Errorf("error %v; want InputError on %s", err, tt.field)
			}
		})
	}
}

func TestNewCaseID(t *testing.T) {
	id := NewCaseID(time.Date(2026, 11, 25, 9, 8, 7, 0, time.UTC))
	if !regexp.MustCompile(`^case-20261125-090807-[0-9a-f]{4}$`).MatchString(id) {
		t.Errorf("case id %q", id)
	}
}

// TestStartClient: the start API gets a SigV4-signed POST /start whose
// body names no requester; its answers come back as a response or a
// RefusedError with the field at fault.
func TestStartClient(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		ok     bool
		code   string
		field  string
	}{
		{"started", 200, `{"caseId":"case-1","executionArn":"arn:aws:states:us-east-1:123456789012:execution:irflow-crypto-mining:case-1",` +
			`"stateMachineArn":"arn:aws:states:us-east-1:123456789012:stateMachine:irflow-crypto-mining","requestedBy":"arn:aws:sts::123456789012:assumed-role/R/alice"}`,
			true, "", ""},
		{"duplicate", 409, `{"error":"duplicate-case","message":"case case-1 already has an execution","field":"caseId"}`, false, "duplicate-case", "caseId"},
		{"function URL auth", 403, `{"Message":"Forbidden"}`, false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *http.Request
			var body map[string]any
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r
				b, _ := io.ReadAll(r.Body)
				_ = json.Unmarshal(b, &body)
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			c := &StartClient{Endpoint: srv.URL + "/", Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", "tok")}
			res, err := c.Start(context.Background(), "crypto-mining", StartRequest{TaskArn: "arn:aws:ecs:us-east-1:123456789012:task/c/0f8e7d6c5b4a39281706f5e4d3c2b1a0",
				Reason: "r", RequestedBy: "someone-else@example.com", CaseID: "case-1", DryRun: true})
			if got.Method != http.MethodPost || got.URL.Path != "/start" || !strings.HasPrefix(got.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") ||
				!strings.Contains(got.Header.Get("Authorization"), "/lambda/aws4_request") {
				t.Errorf("request %s %s, Authorization %q", got.Method, got.URL.Path, got.Header.Get("Authorization"))
			}
			if _, typed := body["requestedBy"]; typed || body["playbook"] != "crypto-mining" || body["dryRun"] != true {
				t.Errorf("body %v; want the playbook and no requester", body)
			}
			var refused *RefusedError
			switch {
			case tt.ok && (err != nil || res.CaseID != "case-1"):
				t.Errorf("got %+v, %v", res, err)
			case !tt.ok && (!errors.As(err, &refused) || refused.Code != tt.code || refused.Field != tt.field || refused.Status != tt.status):
				t.Errorf("got %+v, %v; want a refusal %d %s", res, err, tt.status, tt.code)
			}
		})
	}
}

type fakeCFN struct {
	calls   int
	outputs map[string]string
}

var _ cfnAPI = (*fakeCFN)(nil)

func (f *fakeCFN) DescribeStacks(_ context.Context, in *cloudformation.DescribeStacksInput, _ ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error) {
	f.calls++
	st := cfntypes.Stack{StackName: in.StackName}
	for k, v := range f.outputs {
		st.Outputs = append(st.Outputs, cfntypes.Output{OutputKey: aws.String(k), OutputValue: aws.String(v)})
	}
	return &cloudformation.DescribeStacksOutput{Stacks: []cfntypes.Stack{st}}, nil
}

func TestLazyOutputs(t *testing.T) {
	cfn := &fakeCFN{outputs: map[string]string{OutputApprovalURL: "https://u/", "StateMachineCryptoMiningArn": "arn:sm"}}
	l := &Lazy{CFN: cfn, Stack: "Irflow"}
	if v, err := l.Get(context.Background(), OutputApprovalURL, "--endpoint"); err != nil || v != "https://u/" {
		t.Errorf("%q %v", v, err)
	}
	if _, err := l.Get(context.Background(), OutputAuditTable, "--table"); err == nil || !strings.Contains(err.Error(), "pass --table") {
		t.Errorf("missing output: %v", err)
	}
	all, _ := l.Outputs(context.Background())
	if cfn.calls != 1 || strings.Join(all.StateMachines(), ",") != "StateMachineCryptoMiningArn" {
		t.Errorf("%d calls, %v", cfn.calls, all.StateMachines())
	}
}
