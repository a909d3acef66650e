package handler

import (
	"context"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/irflow/irflow/tasks/hostcmd"
	"github.com/irflow/irflow/tasks/internal/taskrt"
)

type fakeSSM struct {
	send func(in *ssm.SendCommandInput) (*ssm.SendCommandOutput, error)
	get  func(in *ssm.GetCommandInvocationInput) (*ssm.GetCommandInvocationOutput, error)
	sent []*ssm.SendCommandInput
}

var _ hostcmd.SSMAPI = (*fakeSSM)(nil)

func (f *fakeSSM) SendCommand(_ context.Context, in *ssm.SendCommandInput, _ ...func(*ssm.Options)) (*ssm.SendCommandOutput, error) {
	f.sent = append(f.sent, in)
	if f.send != nil {
		return f.send(in)
	}
	return &ssm.SendCommandOutput{Command: &ssmtypes.Command{CommandId: aws.String(cmdID)}}, nil
}

func (f *fakeSSM) GetCommandInvocation(_ context.Context, in *ssm.GetCommandInvocationInput, _ ...func(*ssm.Options)) (*ssm.GetCommandInvocationOutput, error) {
	return f.get(in)
}

// fakePresign returns URLs under base: the key for PUTs, get/<bucket>/<key> for GETs.
type fakePresign struct {
	base       string
	puts, gets int
}

var _ presignAPI = (*fakePresign)(nil)

func (f *fakePresign) PresignPutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error) {
	f.puts++
	return &v4.PresignedHTTPRequest{URL: f.base + "/" + aws.ToString(in.Key) + "?X-Amz-Signature=abc", Method: http.MethodPut}, nil
}

func (f *fakePresign) PresignGetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error) {
	f.gets++
	return &v4.PresignedHTTPRequest{URL: f.base + "/get/" + aws.ToString(in.Bucket) + "/" + aws.ToString(in.Key) + "?X-Amz-Signature=abc", Method: http.MethodGet}, nil
}

type fakeHistory struct {
	records []taskrt.Record
}

var _ hostcmd.History = (*fakeHistory)(nil)

func (f *fakeHistory) Read(context.Context, string) ([]taskrt.Record, error) { return f.records, nil }
