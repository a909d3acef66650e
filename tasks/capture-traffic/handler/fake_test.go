package handler

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

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

func apiErr(code string) error {
	return &smithy.GenericAPIError{Code: code, Message: code + " message"}
}
