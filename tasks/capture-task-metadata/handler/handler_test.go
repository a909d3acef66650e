package handler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/irflow/irflow/internal/s3fake"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/taskrt"
)

func apiErr(code string) error {
	return &smithy.GenericAPIError{Code: code, Message: code + " message"}
}

type fakeECS struct {
	tasks    func(*ecs.DescribeTasksInput) (*ecs.DescribeTasksOutput, error)
	def      func(*ecs.DescribeTaskDefinitionInput) (*ecs.DescribeTaskDefinitionOutput, error)
	services func(*ecs.DescribeServicesInput) (*ecs.DescribeServicesOutput, error)
	calls    []string
}

var _ ecsAPI = (*fakeECS)(nil)

func (f *fakeECS) DescribeTasks(_ context.Context, in *ecs.DescribeTasksInput, _ ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error) {
	f.calls = append(f.calls, "DescribeTasks")
	return f.tasks(in)
}

func (f *fakeECS) DescribeTaskDefinition(_ context.Context, in *ecs.DescribeTaskDefinitionInput, _ ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error) {
	f.calls = append(f.calls, "DescribeTaskDefinition "+aws.ToString(in.TaskDefinition))
	return f.def(in)
}

func (f *fakeECS) DescribeServices(_ context.Context, in *ecs.DescribeServicesInput, _ ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	f.calls = append(f.calls, "DescribeServices")
	return f.services(in)
}

type fakeEC2 struct {
	enis func(*ec2.DescribeNetworkInterfacesInput) (*ec2.DescribeNetworkInterfacesOutput, error)
}

var _ ec2API = (*fakeEC2)(nil)

func (f *fakeEC2) DescribeNetworkInterfaces(_ context.Context, in *ec2.DescribeNetworkInterfacesInput, _ ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error) {
	return f.enis(in)
}

func world() (*Handler, *fakeECS, *s3fake.Bucket) {
	e := &fakeECS{
		tasks: func(in *ecs.DescribeTasksInput) (*ecs.DescribeTasksOutput, error) {
			return &ecs.DescribeTasksOutput{Tasks: []ecstypes.Task{{TaskArn: aws.String(in.Tasks[0]), TaskDefinitionArn: aws.String("td/api:3"), LastStatus: aws.String("RUNNING")}}}, nil
		},
		def: func(in *ecs.DescribeTaskDefinitionInput) (*ecs.DescribeTaskDefinitionOutput, error) {
			return &ecs.DescribeTaskDefinitionOutput{TaskDefinition: &ecstypes.TaskDefinition{TaskDefinitionArn: in.TaskDefinition, Family: aws.String("api")}}, nil
		},
		services: func(in *ecs.DescribeServicesInput) (*ecs.DescribeServicesOutput, error) {
			return &ecs.DescribeServicesOutput{Services: []ecstypes.Service{{ServiceName: aws.String(in.Services[0]), DesiredCount: 2}}}, nil
		},
	}
	x := &fakeEC2{enis: func(in *ec2.DescribeNetworkInterfacesInput) (*ec2.DescribeNetworkInterfacesOutput, error) {
		var out []ec2types.NetworkInterface
		for _, id := range in.Filters[0].Values {
			out = append(out, ec2types.NetworkInterface{NetworkInterfaceId: aws.String(id)})
		}
		return &ec2.DescribeNetworkInterfacesOutput{NetworkInterfaces: out}, nil
	}}
	s := &s3fake.Bucket{}
	return &Handler{ECS: e, EC2: x, Evidence: &taskrt.EvidenceWriter{S3: s, Bucket: "ev"}}, e, s
}

func payload(dryRun bool, with string) *contract.Payload {
	return &contract.Payload{Action: "capture-task-metadata", Step: "metadata", With: json.RawMessage(with),
		Incident: &incident.Incident{CaseID: "case-1", ClusterArn: "arn:cluster", DryRun: dryRun},
		Target: &incident.Target{LaunchType: "FARGATE", TaskArn: "arn:task", TaskDefinitionArn: "td/api:1", Service: "api",
			ENIs: []incident.ENI{{ID: "eni-1"}}}}
}

func TestCaptureFargate(t *testing.T) {
	for _, dryRun := range []bool{false, true} {
		h, e, s := world()
		r, err := h.Handle(context.Background(), payload(dryRun, `{}`))
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != contract.StatusOK || len(r.Evidence) != 4 || len(s.Objects) != 4 {
			t.Fatalf("dry run %v: result %+v, objects %d", dryRun, r, len(s.Objects))
		}
		if got := strings.Join(e.calls, ","); got != "DescribeTasks,DescribeTaskDefinition td/api:3,DescribeServices" {
			t.Errorf("calls %s; want the task's own definition", got)
		}
		for _, ev := range r.Evidence {
			key := strings.TrimPrefix(ev.URI, "s3://ev/")
			body := s.Objects[key]
			sum := sha256.Sum256(body)
			if hex.EncodeToString(sum[:]) != ev.SHA256 || !strings.HasPrefix(key, "cases/case-1/metadata/") {
				t.Errorf("%s: hash or key wrong", ev.URI)
			}
			var doc map[string]any
			if err := json.Unmarshal(body, &doc); err != nil || doc["source"] == "" {
				t.Errorf("%s is not a described document: %s", key, body)
			}
		}
		if !strings.Contains(string(s.Objects["cases/case-1/metadata/service.json"]), `"DesiredCount": 2`) {
			t.Errorf("service.json = %s", s.Objects["cases/case-1/metadata/service.json"])
		}
	}
}

func TestCaptureWithoutService(t *testing.T) {
	h, e, s := world()
	if _, err := h.Handle(context.Background(), payload(false, `{"includeService":false}`)); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.Join(e.calls, ","), "DescribeServices") || len(s.Objects) != 3 {
		t.Errorf("includeService false: calls %v, %d objects", e.calls, len(s.Objects))
	}
}

// TestCaptureStoppedTask: a task ECS forgot is recorded as such; the
// definition from the target is still stored.
func TestCaptureStoppedTask(t *testing.T) {
	h, e, s := world()
	e.tasks = func(in *ecs.DescribeTasksInput) (*ecs.DescribeTasksOutput, error) {
		return &ecs.DescribeTasksOutput{Failures: []ecstypes.Failure{{Arn: aws.String(in.Tasks[0]), Reason: aws.String("MISSING")}}}, nil
	}
	r, err := h.Handle(context.Background(), payload(false, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	if r.Outputs["taskFound"] != false || !strings.Contains(string(s.Objects["cases/case-1/metadata/task.json"]), "MISSING") ||
		!strings.Contains(strings.Join(e.calls, ","), "td/api:1") {
		t.Errorf("result %+v, calls %v", r, e.calls)
	}
}

func TestCaptureErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(h *Handler, e *fakeECS, s *s3fake.Bucket, p *contract.Payload)
		want  string
	}{
		{"no target", func(_ *Handler, _ *fakeECS, _ *s3fake.Bucket, p *contract.Payload) { p.Target = nil }, "InvalidInputError"},
		{"bad params", func(_ *Handler, _ *fakeECS, _ *s3fake.Bucket, p *contract.Payload) {
			p.With = json.RawMessage(`{"service":1}`)
		}, "InvalidInputError"},
		{"throttled", func(_ *Handler, e *fakeECS, _ *s3fake.Bucket, _ *contract.Payload) {
			e.tasks = func(*ecs.DescribeTasksInput) (*ecs.DescribeTasksOutput, error) {
				return nil, apiErr("ThrottlingException")
			}
		}, "RetryableError"},
		{"cluster gone", func(_ *Handler, e *fakeECS, _ *s3fake.Bucket, _ *contract.Payload) {
			e.tasks = func(*ecs.DescribeTasksInput) (*ecs.DescribeTasksOutput, error) {
				return nil, apiErr("ClusterNotFoundException")
			}
		}, "TargetNotFoundError"},
		{"access denied", func(_ *Handler, e *fakeECS, _ *s3fake.Bucket, _ *contract.Payload) {
			e.services = func(*ecs.DescribeServicesInput) (*ecs.DescribeServicesOutput, error) {
				return nil, apiErr("AccessDeniedException")
			}
		}, "PreconditionFailedError"},
		{"no bucket", func(h *Handler, _ *fakeECS, _ *s3fake.Bucket, _ *contract.Payload) { h.Evidence.Bucket = "" }, "PreconditionFailedError"},
		{"s3 slow down", func(_ *Handler, _ *fakeECS, s *s3fake.Bucket, _ *contract.Payload) { s.Err = apiErr("SlowDown") }, "RetryableError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, e, s := world()
			p := payload(false, `{}`)
			tt.setup(h, e, s, p)
			_, err := h.Handle(context.Background(), p)
			if got := contract.ErrorName(err); got != tt.want {
				t.Errorf("error %v (%s); want %s", err, got, tt.want)
			}
		})
	}
}
