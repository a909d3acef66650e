package hostcmdtest

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/hostcmd"
)

// FakeSSM is the SSM API of the SSM actions' unit tests: SendCommand
// records each input and answers CommandID (or whatever Send returns);
// GetCommandInvocation asks Get.
type FakeSSM struct {
	CommandID string
	Send      func(in *ssm.SendCommandInput) (*ssm.SendCommandOutput, error)
	Get       func(in *ssm.GetCommandInvocationInput) (*ssm.GetCommandInvocationOutput, error)
	Sent      []*ssm.SendCommandInput
}

var _ hostcmd.SSMAPI = (*FakeSSM)(nil)

func (f *FakeSSM) SendCommand(_ context.Context, in *ssm.SendCommandInput, _ ...func(*ssm.Options)) (*ssm.SendCommandOutput, error) {
	f.Sent = append(f.Sent, in)
	if f.Send != nil {
		return f.Send(in)
	}
	return &ssm.SendCommandOutput{Command: &ssmtypes.Command{CommandId: aws.String(f.CommandID)}}, nil
}

func (f *FakeSSM) GetCommandInvocation(_ context.Context, in *ssm.GetCommandInvocationInput, _ ...func(*ssm.Options)) (*ssm.GetCommandInvocationOutput, error) {
	return f.Get(in)
}

// Answer makes every GetCommandInvocation report status with this output.
func (f *FakeSSM) Answer(status ssmtypes.CommandInvocationStatus, stdout, stderr string) {
	f.Get = func(*ssm.GetCommandInvocationInput) (*ssm.GetCommandInvocationOutput, error) {
		return &ssm.GetCommandInvocationOutput{Status: status, StandardOutputContent: aws.String(stdout), StandardErrorContent: aws.String(stderr)}, nil
	}
}

// FakePresign presigns URLs under Base: Base/<key> for a PUT,
// Base/get/<bucket>/<key> for a GET, counting each.
type FakePresign struct {
	Base       string
	Puts, Gets int
}

func (f *FakePresign) PresignPutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error) {
	f.Puts++
	return &v4.PresignedHTTPRequest{URL: f.Base + "/" + aws.ToString(in.Key) + "?X-Amz-Signature=abc", Method: http.MethodPut}, nil
}

func (f *FakePresign) PresignGetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error) {
	f.Gets++
	return &v4.PresignedHTTPRequest{URL: f.Base + "/get/" + aws.ToString(in.Bucket) + "/" + aws.ToString(in.Key) + "?X-Amz-Signature=abc", Method: http.MethodGet}, nil
}

// RoundTrip passes a result through JSON, as Step Functions does between a
// start and its check.
func RoundTrip(t testing.TB, r *contract.Result) *contract.Result {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var out contract.Result
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}
