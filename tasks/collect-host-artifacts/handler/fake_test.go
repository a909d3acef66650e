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
	get  func(in *ssm.GetCommandInvocationInput) (*ssm.GetCommandInvocationOutput, error)
	sent []*ssm.SendCommandInput
}

var _ hostcmd.SSMAPI = (*fakeSSM)(nil)

func (f *fakeSSM) SendCommand(_ context.Context, in *ssm.SendCommandInput, _ ...func(*ssm.Options)) (*ssm.SendCommandOutput, error) {
	f.sent = append(f.sent, in)
	return &ssm.SendCommandOutput{Command: &ssmtypes.Command{CommandId: aws.String(cmdID)}}, nil
}

func (f *fakeSSM) GetCommandInvocation(_ context.Context, in *ssm.GetCommandInvocationInput, _ ...func(*ssm.Options)) (*ssm.GetCommandInvocationOutput, error) {
	return f.get(in)
}

// fakePresign returns base/<key> for each PUT.
type fakePresign struct {
	base string
	puts int
}

var _ taskrt.S3PresignAPI = (*fakePresign)(nil)

func (f *fakePresign) PresignPutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error) {
	f.puts++
	return &v4.PresignedHTTPRequest{URL: f.base + "/" + aws.ToString(in.Key) + "?X-Amz-Signature=abc", Method: http.MethodPut}, nil
}
