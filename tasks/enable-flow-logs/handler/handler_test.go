package handler

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
)

func apiErr(code string) error {
	return &smithy.GenericAPIError{Code: code, Message: code + " message"}
}

type fakeEC2 struct {
	flowLogs []ec2types.FlowLog
	create   func(*ec2.CreateFlowLogsInput) (*ec2.CreateFlowLogsOutput, error)
	descErr  error
	creates  []*ec2.CreateFlowLogsInput
}

var _ ec2API = (*fakeEC2)(nil)

func (f *fakeEC2) DescribeFlowLogs(_ context.Context, in *ec2.DescribeFlowLogsInput, _ ...func(*ec2.Options)) (*ec2.DescribeFlowLogsOutput, error) {
	if f.descErr != nil {
		return nil, f.descErr
	}
	// Two pages: the first flow log, then the rest.
	if in.NextToken == nil && len(f.flowLogs) > 1 {
		return &ec2.DescribeFlowLogsOutput{FlowLogs: f.flowLogs[:1], NextToken: aws.String("p2")}, nil
	}
	if in.NextToken != nil {
		return &ec2.DescribeFlowLogsOutput{FlowLogs: f.flowLogs[1:]}, nil
	}
	return &ec2.DescribeFlowLogsOutput{FlowLogs: f.flowLogs}, nil
}

func (f *fakeEC2) CreateFlowLogs(_ context.Context, in *ec2.CreateFlowLogsInput, _ ...func(*ec2.Options)) (*ec2.CreateFlowLogsOutput, error) {
	f.creates = append(f.creates, in)
	if f.create != nil {
		return f.create(in)
	}
	out := &ec2.CreateFlowLogsOutput{}
	for _, id := range in.ResourceIds {
		out.FlowLogIds = append(out.FlowLogIds, "fl-"+id)
	}
	return out, nil
}

func payload(dryRun bool, with string, enis ...string) *contract.Payload {
	tg := &incident.Target{LaunchType: "EC2", TaskArn: "arn:task"}
	for _, id := range enis {
		tg.ENIs = append(tg.ENIs, incident.ENI{ID: id})
	}
	return &contract.Payload{Action: "enable-flow-logs", Step: "flows", With: json.RawMessage(with), Target: tg,
		Incident: &incident.Incident{CaseID: "case-1", Partition: "aws", DryRun: dryRun}}
}

const dest = "arn:aws:s3:::ev/cases/case-1/flow-logs/"

func tagged(eni, caseID string) ec2types.FlowLog {
	return ec2types.FlowLog{FlowLogId: aws.String("fl-old-" + eni), ResourceId: aws.String(eni),
		Tags: []ec2types.Tag{{Key: aws.String(TagCaseID), Value: aws.String(caseID)}}}
}

func TestCreate(t *testing.T) {
	f := &fakeEC2{flowLogs: []ec2types.FlowLog{
		tagged("eni-1", "case-1"),
		tagged("eni-2", "other-case"), // another case's: not ours
		{FlowLogId: aws.String("fl-customer"), ResourceId: aws.String("eni-2"), LogDestination: aws.String("arn:aws:s3:::customer-logs")},
		{FlowLogId: aws.String("fl-dest"), ResourceId: aws.String("eni-3"), LogDestination: aws.String(strings.TrimSuffix(dest, "/"))},
	}}
	h := &Handler{EC2: f, Bucket: "ev"}
	r, err := h.Handle(context.Background(), payload(false, `{"trafficType":"REJECT","maxAggregationIntervalSeconds":600}`, "eni-1", "eni-2", "eni-3", "eni-4"))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.creates) != 1 {
		t.Fatalf("%d CreateFlowLogs calls", len(f.creates))
	}
	in := f.creates[0]
	if strings.Join(in.ResourceIds, ",") != "eni-2,eni-4" || in.ResourceType != ec2types.FlowLogsResourceTypeNetworkInterface ||
		in.TrafficType != ec2types.TrafficTypeReject || aws.ToInt32(in.MaxAggregationInterval) != 600 ||
		in.LogDestinationType != ec2types.LogDestinationTypeS3 || aws.ToString(in.LogDestination) != dest {
		t.Errorf("CreateFlowLogs input %+v", in)
	}
	if tags := in.TagSpecifications[0]; tags.ResourceType != ec2types.ResourceTypeVpcFlowLog || aws.ToString(tags.Tags[0].Value) != "case-1" {
		t.Errorf("tag specification %+v", tags)
	}
	if tok := aws.ToString(in.ClientToken); tok == "" || tok != clientToken(payload(false, `{}`, "eni-4", "eni-2"), []string{"eni-4", "eni-2"}) {
		t.Errorf("client token %q is not stable", tok)
	}
	if got := r.Outputs["created"].([]string); strings.Join(got, ",") != "fl-eni-2,fl-eni-4" || len(r.Outputs["existing"].(map[string]string)) != 2 {
		t.Errorf("outputs %+v", r.Outputs)
	}
}

func TestAlreadyOn(t *testing.T) {
	f := &fakeEC2{flowLogs: []ec2types.FlowLog{tagged("eni-1", "case-1")}}
	r, err := (&Handler{EC2: f, Bucket: "ev"}).Handle(context.Background(), payload(false, `{}`, "eni-1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.creates) != 0 || r.Status != contract.StatusOK || !strings.Contains(r.Summary, "already") {
		t.Errorf("result %+v after %d creates", r, len(f.creates))
	}
}

func TestDryRun(t *testing.T) {
	f := &fakeEC2{flowLogs: []ec2types.FlowLog{tagged("eni-1", "case-1")}}
	p := payload(true, `{}`, "eni-1", "eni-2")
	p.Incident.Partition = "aws-cn"
	r, err := (&Handler{EC2: f, Bucket: "ev"}).Handle(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.creates) != 0 {
		t.Fatal("dry run created flow logs")
	}
	if r.Status != contract.StatusDryRun || strings.Join(r.Outputs["wouldCreate"].([]string), ",") != "eni-2" ||
		r.Outputs["destination"] != "arn:aws-cn:s3:::ev/cases/case-1/flow-logs/" {
		t.Errorf("result %+v", r)
	}
}

func TestUnsuccessful(t *testing.T) {
	unsuccessful := func(codes ...string) func(*ec2.CreateFlowLogsInput) (*ec2.CreateFlowLogsOutput, error) {
		return func(in *ec2.CreateFlowLogsInput) (*ec2.CreateFlowLogsOutput, error) {
			out := &ec2.CreateFlowLogsOutput{}
			for i, id := range in.ResourceIds {
				out.Unsuccessful = append(out.Unsuccessful, ec2types.UnsuccessfulItem{ResourceId: aws.String(id),
					Error: &ec2types.UnsuccessfulItemError{Code: aws.String(codes[i]), Message: aws.String("m")}})
			}
			return out, nil
		}
	}
	tests := []struct {
		name  string
		codes []string
		want  string
	}{
		{"equivalent exists", []string{"FlowLogAlreadyExists", "FlowLogAlreadyExists"}, ""},
		{"one gone", []string{"InvalidNetworkInterfaceId.NotFound", "FlowLogAlreadyExists"}, ""},
		{"all gone", []string{"InvalidNetworkInterfaceId.NotFound", "InvalidNetworkInterfaceId.NotFound"}, "TargetNotFoundError"},
		{"bucket refuses", []string{"400", "FlowLogAlreadyExists"}, "PreconditionFailedError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &Handler{EC2: &fakeEC2{create: unsuccessful(tt.codes...)}, Bucket: "ev"}
			_, err := h.Handle(context.Background(), payload(false, `{}`, "eni-1", "eni-2"))
			if got := contract.ErrorName(err); got != tt.want {
				t.Errorf("error %v; want %q", err, tt.want)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name  string
		p     *contract.Payload
		h     *Handler
		want  string
		field string
	}{
		{"no target", &contract.Payload{Action: "enable-flow-logs"}, &Handler{EC2: &fakeEC2{}, Bucket: "ev"}, "InvalidInputError", "target"},
		{"bad traffic type", payload(false, `{"trafficType":"SOME"}`, "eni-1"), &Handler{EC2: &fakeEC2{}, Bucket: "ev"}, "InvalidInputError", "with.trafficType"},
		{"bad interval", payload(false, `{"maxAggregationIntervalSeconds":30}`, "eni-1"), &Handler{EC2: &fakeEC2{}, Bucket: "ev"}, "InvalidInputError", "with.maxAggregationIntervalSeconds"},
		{"no bucket", payload(false, `{}`, "eni-1"), &Handler{EC2: &fakeEC2{}}, "PreconditionFailedError", ""},
		{"throttled", payload(false, `{}`, "eni-1"), &Handler{EC2: &fakeEC2{descErr: apiErr("RequestLimitExceeded")}, Bucket: "ev"}, "RetryableError", ""},
		{"create denied", payload(false, `{}`, "eni-1"), &Handler{EC2: &fakeEC2{create: func(*ec2.CreateFlowLogsInput) (*ec2.CreateFlowLogsOutput, error) {
			return nil, apiErr("UnauthorizedOperation")
		}}, Bucket: "ev"}, "PreconditionFailedError", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.h.Handle(context.Background(), tt.p)
			if got := contract.ErrorName(err); got != tt.want {
				t.Fatalf("error %v (%s); want %s", err, got, tt.want)
			}
			if ii, ok := err.(*contract.InvalidInputError); tt.field != "" && (!ok || ii.Field != tt.field) {
				t.Errorf("error %v; want field %s", err, tt.field)
			}
		})
	}
}

func TestNoENI(t *testing.T) {
	r, err := (&Handler{EC2: &fakeEC2{}, Bucket: "ev"}).Handle(context.Background(), payload(false, `{}`))
	if err != nil || r.Status != contract.StatusSkipped {
		t.Errorf("got %+v, %v; want SKIPPED", r, err)
	}
}

// TestLostReply: the SDK resent a CreateFlowLogs whose reply was lost; the
// first request created the flow logs, the resend is refused as a whole
// with FlowLogAlreadyExists (as moto does). The step succeeds with the flow
// logs that now exist; if one is missing, it fails naming the ENI.
func TestLostReply(t *testing.T) {
	for _, tt := range []struct {
		name    string
		landed  []string
		wantErr bool
	}{{"both landed", []string{"eni-1", "eni-2"}, false}, {"one missing", []string{"eni-1"}, true}} {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeEC2{}
			f.create = func(in *ec2.CreateFlowLogsInput) (*ec2.CreateFlowLogsOutput, error) {
				for _, id := range tt.landed {
					f.flowLogs = append(f.flowLogs, tagged(id, "case-1"))
				}
				return nil, apiErr("FlowLogAlreadyExists")
			}
			h := &Handler{EC2: f, Bucket: "ev"}
			r, err := h.Handle(context.Background(), payload(false, `{}`, "eni-1", "eni-2"))
			if tt.wantErr {
				if contract.ErrorName(err) != "PreconditionFailedError" || !strings.Contains(err.Error(), "eni-2") {
					t.Fatalf("error %v; want PreconditionFailedError naming eni-2", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Outputs["created"].([]string); strings.Join(got, ",") != "fl-old-eni-1,fl-old-eni-2" {
				t.Errorf("created %v", got)
			}
		})
	}
}
