package handler

import (
	"context"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

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

// fakeEC2 keeps traffic-mirror sessions in memory.
type fakeEC2 struct {
	sessions []ec2types.TrafficMirrorSession
	creates  []*ec2.CreateTrafficMirrorSessionInput
	err      error
}

var _ mirrorAPI = (*fakeEC2)(nil)

func (f *fakeEC2) CreateTrafficMirrorSession(_ context.Context, in *ec2.CreateTrafficMirrorSessionInput, _ ...func(*ec2.Options)) (*ec2.CreateTrafficMirrorSessionOutput, error) {
	f.creates = append(f.creates, in)
	if f.err != nil {
		return nil, f.err
	}
	s := ec2types.TrafficMirrorSession{TrafficMirrorSessionId: aws.String(fmt.Sprintf("tms-%017d", len(f.sessions)+1)),
		NetworkInterfaceId: in.NetworkInterfaceId, SessionNumber: in.SessionNumber, Tags: in.TagSpecifications[0].Tags}
	f.sessions = append(f.sessions, s)
	return &ec2.CreateTrafficMirrorSessionOutput{TrafficMirrorSession: &s, ClientToken: in.ClientToken}, nil
}

func (f *fakeEC2) DescribeTrafficMirrorSessions(_ context.Context, in *ec2.DescribeTrafficMirrorSessionsInput, _ ...func(*ec2.Options)) (*ec2.DescribeTrafficMirrorSessionsOutput, error) {
	var out []ec2types.TrafficMirrorSession
	for _, s := range f.sessions {
		if aws.ToString(s.NetworkInterfaceId) == in.Filters[0].Values[0] {
			out = append(out, s)
		}
	}
	return &ec2.DescribeTrafficMirrorSessionsOutput{TrafficMirrorSessions: out}, nil
}

type apiErr struct{ code string }

func (e apiErr) Error() string                 { return e.code }
func (e apiErr) ErrorCode() string             { return e.code }
func (e apiErr) ErrorMessage() string          { return e.code + " message" }
func (e apiErr) ErrorFault() smithy.ErrorFault { return smithy.FaultClient }
