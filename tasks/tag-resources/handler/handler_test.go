package handler

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
)

func apiErr(code string) error {
	return &smithy.GenericAPIError{Code: code, Message: code + " message"}
}

type fakeECS struct {
	tag   func(*ecs.TagResourceInput) error
	calls []string
}

var _ ecsAPI = (*fakeECS)(nil)

func (f *fakeECS) TagResource(_ context.Context, in *ecs.TagResourceInput, _ ...func(*ecs.Options)) (*ecs.TagResourceOutput, error) {
	f.calls = append(f.calls, aws.ToString(in.ResourceArn))
	if f.tag != nil {
		if err := f.tag(in); err != nil {
			return nil, err
		}
	}
	return &ecs.TagResourceOutput{}, nil
}

type fakeEC2 struct {
	create func(*ec2.CreateTagsInput) error
	calls  [][]string
	tags   []string
}

var _ ec2API = (*fakeEC2)(nil)

func (f *fakeEC2) CreateTags(_ context.Context, in *ec2.CreateTagsInput, _ ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error) {
	f.calls = append(f.calls, in.Resources)
	f.tags = nil
	for _, t := range in.Tags {
		f.tags = append(f.tags, aws.ToString(t.Key)+"="+aws.ToString(t.Value))
	}
	if f.create != nil {
		if err := f.create(in); err != nil {
			return nil, err
		}
	}
	return &ec2.CreateTagsOutput{}, nil
}

func ec2Target() *incident.Target {
	return &incident.Target{LaunchType: "EC2", TaskArn: "arn:task", ContainerInstanceArn: "arn:ci", InstanceID: "i-1",
		ENIs: []incident.ENI{{ID: "eni-1"}, {ID: "eni-2"}}, VolumeIDs: []string{"vol-1"}}
}

func payload(target *incident.Target, dryRun bool, with string) *contract.Payload {
	return &contract.Payload{Action: "tag-resources", Step: "tag", With: json.RawMessage(with), Target: target,
		Incident: &incident.Incident{CaseID: "case-1", DryRun: dryRun}}
}

func TestTagEC2(t *testing.T) {
	e, x := &fakeECS{}, &fakeEC2{}
	h := &Handler{ECS: e, EC2: x}
	r, err := h.Handle(context.Background(), payload(ec2Target(), false, `{"extraTags":{"ticket":"SEC-1"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(e.calls, ","); got != "arn:task,arn:ci" {
		t.Errorf("ecs:TagResource on %s; want the task and its container instance", got)
	}
	if len(x.calls) != 1 || strings.Join(x.calls[0], ",") != "eni-1,eni-2,i-1,vol-1" {
		t.Errorf("ec2:CreateTags on %v", x.calls)
	}
	if got := strings.Join(x.tags, ","); got != "irflow:case-id=case-1,irflow:status=UNDER_INVESTIGATION,ticket=SEC-1" {
		t.Errorf("tags %s", got)
	}
	if r.Status != contract.StatusOK || !strings.Contains(r.Summary, "tagged 6 resources") {
		t.Errorf("result %+v", r)
	}
}

func TestTagFargate(t *testing.T) {
	e, x := &fakeECS{}, &fakeEC2{}
	h := &Handler{ECS: e, EC2: x}
	tg := &incident.Target{LaunchType: "FARGATE", TaskArn: "arn:task", ENIs: []incident.ENI{{ID: "eni-f"}}}
	if _, err := h.Handle(context.Background(), payload(tg, false, `{"status":"CONTAINED"}`)); err != nil {
		t.Fatal(err)
	}
	if strings.Join(e.calls, ",") != "arn:task" || len(x.calls) != 1 || strings.Join(x.calls[0], ",") != "eni-f" {
		t.Errorf("calls ecs %v ec2 %v", e.calls, x.calls)
	}
	if !strings.Contains(strings.Join(x.tags, ","), "irflow:status=CONTAINED") {
		t.Errorf("tags %v", x.tags)
	}
}

func TestTagDryRun(t *testing.T) {
	e, x := &fakeECS{}, &fakeEC2{}
	h := &Handler{ECS: e, EC2: x}
	r, err := h.Handle(context.Background(), payload(ec2Target(), true, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(e.calls)+len(x.calls) != 0 {
		t.Errorf("dry run tagged: ecs %v ec2 %v", e.calls, x.calls)
	}
	pl := r.Outputs["resources"].(plan)
	if r.Status != contract.StatusDryRun || pl.count() != 6 || r.Outputs["tags"].(map[string]string)[TagCaseID] != "case-1" {
		t.Errorf("result %+v", r)
	}
}

func TestTagMissingResources(t *testing.T) {
	x := &fakeEC2{create: func(in *ec2.CreateTagsInput) error {
		for _, id := range in.Resources {
			if id == "eni-2" {
				return apiErr("InvalidNetworkInterfaceID.NotFound")
			}
		}
		return nil
	}}
	h := &Handler{ECS: &fakeECS{}, EC2: x}
	r, err := h.Handle(context.Background(), payload(ec2Target(), false, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.Outputs["missing"].([]string), ","); got != "eni-2" {
		t.Errorf("missing %s; want eni-2", got)
	}
	if got := strings.Join(r.Outputs["resources"].(plan).EC2, ","); got != "eni-1,i-1,vol-1" {
		t.Errorf("tagged %s", got)
	}
}

func TestTagErrors(t *testing.T) {
	gone := func(*ecs.TagResourceInput) error { return apiErr("ResourceNotFoundException") }
	tests := []struct {
		name   string
		target *incident.Target
		with   string
		ecs    func(*ecs.TagResourceInput) error
		ec2    func(*ec2.CreateTagsInput) error
		want   string
		field  string
	}{
		{name: "no target", want: "InvalidInputError", field: "target"},
		{name: "bad status", target: ec2Target(), with: `{"status":"bad\nvalue"}`, want: "InvalidInputError", field: "with.status"},
		{name: "reserved key", target: ec2Target(), with: `{"extraTags":{"irflow:case-id":"x"}}`, want: "InvalidInputError", field: "with.extraTags.irflow:case-id"},
		{name: "aws prefix", target: ec2Target(), with: `{"extraTags":{"aws:x":"y"}}`, want: "InvalidInputError", field: "with.extraTags"},
		{name: "unknown param", target: ec2Target(), with: `{"colour":"red"}`, want: "InvalidInputError", field: "with.colour"},
		{name: "throttled", target: ec2Target(), ec2: func(*ec2.CreateTagsInput) error { return apiErr("RequestLimitExceeded") }, want: "RetryableError"},
		{name: "access denied", target: ec2Target(), ecs: func(*ecs.TagResourceInput) error { return apiErr("AccessDeniedException") }, want: "PreconditionFailedError"},
		{name: "everything gone", target: ec2Target(), ecs: gone, ec2: func(*ec2.CreateTagsInput) error { return apiErr("InvalidID.NotFound") }, want: "TargetNotFoundError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &Handler{ECS: &fakeECS{tag: tt.ecs}, EC2: &fakeEC2{create: tt.ec2}}
			with := tt.with
			if with == "" {
				with = `{}`
			}
			p := payload(tt.target, false, with)
			if tt.target == nil {
				p.Target = nil
			}
			_, err := h.Handle(context.Background(), p)
			if got := contract.ErrorName(err); got != tt.want {
				t.Fatalf("error %v (%s); want %s", err, got, tt.want)
			}
			if ii, ok := err.(*contract.InvalidInputError); tt.field != "" && (!ok || ii.Field != tt.field) {
				t.Errorf("error %v; want field %s", err, tt.field)
			}
		})
	}
}

func TestTagNothing(t *testing.T) {
	h := &Handler{ECS: &fakeECS{}, EC2: &fakeEC2{}}
	r, err := h.Handle(context.Background(), payload(&incident.Target{LaunchType: "FARGATE"}, false, `{}`))
	if err != nil || r.Status != contract.StatusSkipped {
		t.Errorf("got %+v, %v; want SKIPPED", r, err)
	}
}

// TestTagContinuesPastAFailure: a container instance that cannot be tagged
// does not leave the instance, its ENIs and volumes untagged; the error is
// still returned so Step Functions retries.
func TestTagContinuesPastAFailure(t *testing.T) {
	e := &fakeECS{tag: func(in *ecs.TagResourceInput) error {
		if aws.ToString(in.ResourceArn) == "arn:ci" {
			return apiErr("ThrottlingException")
		}
		return nil
	}}
	x := &fakeEC2{}
	h := &Handler{ECS: e, EC2: x}
	_, err := h.Handle(context.Background(), payload(ec2Target(), false, `{}`))
	if contract.ErrorName(err) != "RetryableError" {
		t.Fatalf("error %v; want the container instance's RetryableError", err)
	}
	if len(x.calls) != 1 || len(x.calls[0]) != 4 {
		t.Errorf("EC2 tagged %v; want the instance, both ENIs and the volume despite the ECS failure", x.calls)
	}
}
