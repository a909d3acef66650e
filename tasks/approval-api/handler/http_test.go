package handler

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"

	"github.com/irflow/irflow/tasks/approval-api/approval"
	"github.com/irflow/irflow/tasks/funcurl"
)

// urlRequest is what a Function URL with AWS_IAM auth hands the Lambda.
func urlRequest(method, path, body, caller string) events.LambdaFunctionURLRequest {
	return funcurl.Request(method, path, body, caller, "123456789012")
}

func TestHandleURL(t *testing.T) {
	f := newFixture(t)
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name   string
		req    events.LambdaFunctionURLRequest
		status int
		want   string
	}{
		{"unknown field", urlRequest("POST", "/approvals/"+f.id, `{"decison":"approve","reason":"x"}`, alice), 400, `unknown field`},
		{"not JSON", urlRequest("POST", "/approvals/"+f.id, `approve`, alice), 400, approval.CodeBadRequest},
		{"no IAM identity", urlRequest("POST", "/approvals/"+f.id, `{"decision":"approve","reason":"x"}`, ""), 403, approval.CodeUnauthorized},
		{"wrong method", urlRequest("DELETE", "/approvals/"+f.id, ``, alice), 405, approval.CodeMethod},
		{"no such route", urlRequest("GET", "/tokens", ``, alice), 404, approval.CodeNotFound},
		{"get one, no token", urlRequest("GET", "/approvals/"+f.id, ``, alice), 200, `"status":"PENDING"`},
		{"list pending, no token", urlRequest("GET", "/approvals", ``, alice), 200, f.id},
		{"list pending with a slash", urlRequest("GET", "/approvals/", ``, alice), 200, f.id},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := f.h.HandleURL(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status || !strings.Contains(resp.Body, tt.want) {
				t.Errorf("got %d %s; want %d containing %q", resp.StatusCode, resp.Body, tt.status, tt.want)
			}
			if resp.Headers["Content-Type"] != "application/json" {
				t.Errorf("content type %q", resp.Headers["Content-Type"])
			}
			if strings.Contains(resp.Body, token) || strings.Contains(resp.Body, "taskToken") {
				t.Errorf("the body carries the token: %s", resp.Body)
			}
		})
	}
	// A base64 body (as Function URLs deliver some) decides.
	req := urlRequest("POST", "/approvals/"+f.id, b64(`{"decision":"approve","reason":"confirmed"}`), alice)
	req.IsBase64Encoded = true
	resp, _ := f.h.HandleURL(context.Background(), req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("decision: %d %s", resp.StatusCode, resp.Body)
	}
	resp, _ = f.h.HandleURL(context.Background(), urlRequest("GET", "/approvals", ``, alice))
	var list struct{ Approvals []approval.Approval }
	if err := json.Unmarshal([]byte(resp.Body), &list); err != nil || len(list.Approvals) != 0 {
		t.Errorf("pending after the decision: %s", resp.Body)
	}
	req = urlRequest("GET", "/approvals", ``, alice)
	req.QueryStringParameters = map[string]string{"status": "all"}
	if resp, _ = f.h.HandleURL(context.Background(), req); !strings.Contains(resp.Body, f.id) {
		t.Errorf("list of all: %s", resp.Body)
	}
	req = urlRequest("GET", "/approvals", ``, alice)
	req.QueryStringParameters = map[string]string{"status": "approved"}
	resp, _ = f.h.HandleURL(context.Background(), req)
	if !strings.Contains(resp.Body, `"decidedBy":"`+alice) {
		t.Errorf("approved list: %s", resp.Body)
	}
	f.noTokenInLogs(t)
}

type fakeSFN struct {
	success func(*sfn.SendTaskSuccessInput) error
	failure func(*sfn.SendTaskFailureInput) error
}

var _ sfnAPI = (*fakeSFN)(nil)

func (f *fakeSFN) SendTaskSuccess(_ context.Context, in *sfn.SendTaskSuccessInput, _ ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error) {
	return &sfn.SendTaskSuccessOutput{}, f.success(in)
}

func (f *fakeSFN) SendTaskFailure(_ context.Context, in *sfn.SendTaskFailureInput, _ ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error) {
	return &sfn.SendTaskFailureOutput{}, f.failure(in)
}

func TestSFNResponder(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"accepted", nil, nil},
		{"timed out", &sfntypes.TaskTimedOut{Message: ptr("Task Timed Out")}, ErrTaskTimedOut},
		{"invalid token", &sfntypes.InvalidToken{Message: ptr("Invalid Token")}, ErrTaskGone},
		{"no such task", &sfntypes.TaskDoesNotExist{Message: ptr("gone")}, ErrTaskGone},
		{"generic code", &smithy.GenericAPIError{Code: "TaskTimedOut", Message: "late"}, ErrTaskTimedOut},
		{"throttled", &smithy.GenericAPIError{Code: "ThrottlingException"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotIn *sfn.SendTaskFailureInput
			r := &SFNResponder{Client: &fakeSFN{
				success: func(in *sfn.SendTaskSuccessInput) error {
					if *in.TaskToken != token || !strings.HasPrefix(*in.Output, "{") {
						t.Errorf("input %+v", in)
					}
					return tt.err
				},
				failure: func(in *sfn.SendTaskFailureInput) error { gotIn = in; return tt.err },
			}}
			for _, err := range []error{
				r.SendTaskSuccess(context.Background(), token, `{"status":"OK"}`),
				r.SendTaskFailure(context.Background(), token, "ApprovalRejectedError", "rejected by x: y"),
			} {
				switch {
				case tt.err == nil && err != nil:
					t.Errorf("error %v", err)
				case tt.want != nil && !errors.Is(err, tt.want):
					t.Errorf("error %v; want %v", err, tt.want)
				case tt.err != nil && tt.want == nil && (errors.Is(err, ErrTaskGone) || errors.Is(err, ErrTaskTimedOut)):
					t.Errorf("a transient error %v was taken as final", err)
				}
			}
			if *gotIn.Error != "ApprovalRejectedError" || *gotIn.Cause != "rejected by x: y" {
				t.Errorf("failure input %+v", gotIn)
			}
		})
	}
}
