package ecsservice

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/ecsservice/ecsservicetest"
	"github.com/irflow/irflow/tasks/incident"
)

type fakeECS = ecsservicetest.FakeService

var _ API = (*fakeECS)(nil)

func apiErr(code string) error { return &smithy.GenericAPIError{Code: code, Message: code + " (fake)"} }

func TestName(t *testing.T) {
	tests := []struct {
		target *incident.Target
		want   string
	}{
		{&incident.Target{Service: "api", Group: "service:other"}, "api"},
		{&incident.Target{Group: "service:api"}, "api"},
		{&incident.Target{Group: "family:api"}, ""},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := Name(tt.target); got != tt.want {
			t.Errorf("Name(%+v) = %q; want %q", tt.target, got, tt.want)
		}
	}
	p := &contract.Payload{Incident: &incident.Incident{ClusterArn: "c-incident"}, Target: &incident.Target{}}
	if Cluster(p) != "c-incident" {
		t.Errorf("cluster from the incident: %q", Cluster(p))
	}
	p.Target.ClusterArn = "c-target"
	if Cluster(p) != "c-target" {
		t.Errorf("cluster from the target: %q", Cluster(p))
	}
}

func TestRecord(t *testing.T) {
	tests := []struct {
		fault   error
		want    bool
		wantErr string
	}{
		{nil, true, ""},
		{apiErr("AccessDeniedException"), false, ""},
		{apiErr("InvalidParameterException"), false, ""},
		{apiErr("ThrottlingException"), false, "RetryableError"},
		{apiErr("ClientException"), false, "wrapError"},
	}
	for _, tt := range tests {
		f := &fakeECS{Tag: func(*ecs.TagResourceInput) (*ecs.TagResourceOutput, error) { return &ecs.TagResourceOutput{}, tt.fault }}
		got, err := Record(context.Background(), f, "arn:svc", map[string]string{"irflow:b": "2", "irflow:a": "1"})
		if got != tt.want || contract.ErrorName(err) != tt.wantErr {
			t.Errorf("%v: got %v %v; want %v %s", tt.fault, got, err, tt.want, tt.wantErr)
		}
		if f.Calls[0] != "TagResource" || f.Tagged[0] != "irflow:a=1 irflow:b=2" {
			t.Errorf("tags in key order: %v %v", f.Calls, f.Tagged)
		}
	}
}

func TestDescribe(t *testing.T) {
	svc := func(name, status string) ecstypes.Service {
		return ecstypes.Service{ServiceName: aws.String(name), ServiceArn: aws.String("arn:aws:ecs:us-east-1:1:service/c/" + name), Status: aws.String(status)}
	}
	tests := []struct {
		name    string
		out     *ecs.DescribeServicesOutput
		err     error
		wantErr string
	}{
		{"active", &ecs.DescribeServicesOutput{Services: []ecstypes.Service{svc("other", "ACTIVE"), svc("api", "ACTIVE")}}, nil, ""},
		{"draining", &ecs.DescribeServicesOutput{Services: []ecstypes.Service{svc("api", "DRAINING")}}, nil, "TargetNotFoundError"},
		{"missing", &ecs.DescribeServicesOutput{Failures: []ecstypes.Failure{{Reason: aws.String("MISSING")}}}, nil, "TargetNotFoundError"},
		{"throttled", nil, apiErr("ThrottlingException"), "RetryableError"},
	}
	for _, tt := range tests {
		f := &fakeECS{Describe: func(in *ecs.DescribeServicesInput) (*ecs.DescribeServicesOutput, error) {
			if aws.ToString(in.Cluster) != "c" || len(in.Include) != 1 {
				t.Errorf("%s: input %+v", tt.name, in)
			}
			return tt.out, tt.err
		}}
		got, err := Describe(context.Background(), f, "c", "api")
		if contract.ErrorName(err) != tt.wantErr || err == nil && aws.ToString(got.ServiceName) != "api" {
			t.Errorf("%s: got %v, %v; want %s", tt.name, got, err, tt.wantErr)
		}
	}
	if err := UpdateError("api", apiErr("ServiceNotActiveException")); contract.ErrorName(err) != "TargetNotFoundError" {
		t.Errorf("ServiceNotActiveException: %v", err)
	}
}
