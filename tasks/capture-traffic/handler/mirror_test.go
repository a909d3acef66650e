package handler

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/irflow/irflow/tasks/contract"
)

func TestMirrorStartsOnceOnTheLowestFreeNumber(t *testing.T) {
	h, f, _, e := newTest()
	// Someone else's sessions hold numbers 1 and 2 on the ENI.
	for _, n := range []int32{1, 2} {
		e.sessions = append(e.sessions, ec2types.TrafficMirrorSession{TrafficMirrorSessionId: aws.String("tms-other"),
			NetworkInterfaceId: aws.String(eni), SessionNumber: aws.Int32(n)})
	}
	res, err := h.Handle(context.Background(), payload("start", false, mirrorWith, nil))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != contract.StatusOK || res.Outputs["done"] != true || len(e.creates) != 1 || len(f.Sent) != 0 {
		t.Fatalf("result %s %v; %d creates, %d SSM commands", res.Status, res.Outputs, len(e.creates), len(f.Sent))
	}
	in := e.creates[0]
	if aws.ToInt32(in.SessionNumber) != 3 || aws.ToString(in.NetworkInterfaceId) != eni || aws.ToString(in.TrafficMirrorTargetId) != "tmt-0123456789abcdef0" {
		t.Errorf("created session %d on %s to %s", aws.ToInt32(in.SessionNumber), aws.ToString(in.NetworkInterfaceId), aws.ToString(in.TrafficMirrorTargetId))
	}
	if tag(in.TagSpecifications[0].Tags, tagCase) != "case-5" || tag(in.TagSpecifications[0].Tags, tagStep) != "pcap" || !strings.HasPrefix(aws.ToString(in.ClientToken), "irflow-") {
		t.Errorf("tags %v, token %s", in.TagSpecifications[0].Tags, aws.ToString(in.ClientToken))
	}
	if !strings.HasPrefix(res.Outputs["scope"].(string), "instance") {
		t.Errorf("scope %v; want a warning that the instance ENI mirrors every task", res.Outputs["scope"])
	}

	again, err := h.Handle(context.Background(), payload("start", false, mirrorWith, nil))
	if err != nil {
		t.Fatal(err)
	}
	sessions := again.Outputs["sessions"].([]session)
	if len(e.creates) != 1 || len(sessions) != 1 || !sessions[0].Existing || sessions[0].SessionID != "tms-00000000000000003" {
		t.Errorf("second run: %d creates, sessions %+v; want the first session found", len(e.creates), sessions)
	}
}

func TestMirrorErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"unsupported instance type", apiErr("UnsupportedOperation"), "PreconditionFailedError"},
		{"target gone", apiErr("InvalidTrafficMirrorTargetId.NotFound"), "TargetNotFoundError"},
		{"throttled", apiErr("RequestLimitExceeded"), "RetryableError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _, _, e := newTest()
			e.err = tt.err
			_, err := h.Handle(context.Background(), payload("start", false, mirrorWith, nil))
			if contract.ErrorName(err) != tt.want {
				t.Errorf("err = %v (%s); want %s", err, contract.ErrorName(err), tt.want)
			}
		})
	}
}
