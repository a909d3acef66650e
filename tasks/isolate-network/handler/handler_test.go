package handler

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
)

func payload(mode string, dry bool, with string) *contract.Payload {
	t := &incident.Target{LaunchType: "FARGATE", NetworkMode: mode, TaskArn: "arn:aws:ecs:us-east-1:111122223333:task/c/abc",
		VpcID: "vpc-1", ENIs: []incident.ENI{{ID: "eni-task", VpcID: "vpc-1", SecurityGroups: []string{"sg-app"}}}}
	if mode == "bridge" || mode == "host" {
		t.LaunchType, t.InstanceID = "EC2", "i-1"
		t.ENIs = []incident.ENI{{ID: "eni-inst0", VpcID: "vpc-1"}}
	}
	return &contract.Payload{Action: "isolate-network", Step: "isolate", With: json.RawMessage(with),
		Incident: &incident.Incident{CaseID: "case-1", Region: "us-east-1", DryRun: dry}, Target: t}
}

func handler(f *fakeEC2) *Handler { return &Handler{ENIs: f, Groups: f, Endpoints: f} }

func enisOf(t *testing.T, r *contract.Result) []*eniPlan {
	t.Helper()
	e, ok := r.Outputs["enis"].([]*eniPlan)
	if !ok {
		t.Fatalf("outputs.enis = %T", r.Outputs["enis"])
	}
	return e
}

func TestIsolateAwsvpcTwice(t *testing.T) {
	s := newVPC()
	f := newFake(s)
	h := handler(f)
	res, err := h.Handle(context.Background(), payload("awsvpc", false, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	q := s.named("irflow-quarantine")
	if len(q) != 1 {
		t.Fatalf("%d quarantine groups; want 1", len(q))
	}
	qid := aws.ToString(q[0].GroupId)
	if got := s.groupsOf("eni-task"); !reflect.DeepEqual(got, []string{qid}) {
		t.Errorf("task ENI groups %v; want [%s]", got, qid)
	}
	if len(q[0].IpPermissionsEgress) != 0 || len(q[0].IpPermissions) != 0 {
		t.Errorf("quarantine rules egress %v ingress %v; want none", q[0].IpPermissionsEgress, q[0].IpPermissions)
	}
	if tagValue(q[0].Tags, tagQuarantine) != "true" {
		t.Errorf("quarantine group tags %v", q[0].Tags)
	}
	if tagValue(s.enis["eni-task"].TagSet, tagPrevious) != "sg-app" {
		t.Errorf("ENI tags %v; want %s=sg-app", s.enis["eni-task"].TagSet, tagPrevious)
	}
	if s.enis["eni-inst0"].Groups[0].GroupId == q[0].GroupId {
		t.Error("awsvpc isolation touched the instance's ENI")
	}
	e := enisOf(t, res)
	if res.Status != contract.StatusOK || !e[0].Changed || !reflect.DeepEqual(e[0].Previous, []string{"sg-app"}) || !strings.HasPrefix(res.Summary, "isolated task") {
		t.Errorf("first run: %s %q %+v", res.Status, res.Summary, e[0])
	}

	f.calls = nil
	res, err = h.Handle(context.Background(), payload("awsvpc", false, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	if m := f.mutations(); len(m) != 0 {
		t.Errorf("second run mutated: %v", m)
	}
	e = enisOf(t, res)
	if res.Status != contract.StatusOK || e[0].Changed || !reflect.DeepEqual(e[0].Previous, []string{"sg-app"}) || !strings.HasPrefix(res.Summary, "already isolated") {
		t.Errorf("second run: %s %q %+v", res.Status, res.Summary, e[0])
	}
	if len(s.named("irflow-quarantine")) != 1 {
		t.Error("second run created another quarantine group")
	}
}

func TestIsolateBridgeActsOnInstance(t *testing.T) {
	for _, mode := range []string{"bridge", "host", ""} {
		t.Run("mode="+mode, func(t *testing.T) {
			s := newVPC()
			p := payload(mode, false, `{"quarantineGroupName":"ir-q"}`)
			if mode == "" {
				p.Target.LaunchType, p.Target.InstanceID = "EC2", "i-1"
			}
			res, err := handler(newFake(s)).Handle(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			qid := aws.ToString(s.named("ir-q")[0].GroupId)
			for _, id := range []string{"eni-inst0", "eni-inst1"} {
				if got := s.groupsOf(id); !reflect.DeepEqual(got, []string{qid}) {
					t.Errorf("%s groups %v; want [%s]", id, got, qid)
				}
			}
			if got := tagValue(s.enis["eni-inst0"].TagSet, tagPrevious); got != "sg-app,sg-ops" {
				t.Errorf("eni-inst0 previous tag %q", got)
			}
			if s.groupsOf("eni-task")[0] != "sg-app" {
				t.Error("instance isolation touched an unrelated ENI")
			}
			if !strings.Contains(res.Summary, "every task on the instance") || res.Outputs["instanceId"] != "i-1" || res.Outputs["scope"] != scopeInstance {
				t.Errorf("summary %q outputs %v", res.Summary, res.Outputs)
			}
		})
	}
}

func TestIsolateAllowSsm(t *testing.T) {
	s := newVPC().withEndpoints()
	f := newFake(s)
	res, err := handler(f).Handle(context.Background(), payload("awsvpc", false, `{"allowSsm":true}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.named("irflow-quarantine")) != 0 || len(s.named("irflow-quarantine-ssm")) != 1 {
		t.Fatal("allowSsm did not use the -ssm group")
	}
	q := s.named("irflow-quarantine-ssm")[0]
	got := ruleStrings(explode(q.IpPermissionsEgress))
	want := []string{"tcp/443 to 10.0.1.10/32", "tcp/443 to 10.0.1.11/32", "tcp/443 to 10.0.1.12/32", "tcp/443 to pl-63a5400a"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("egress %v; want %v", got, want)
	}
	if tagValue(q.Tags, tagVariant) != "allow-ssm" || !strings.Contains(res.Summary, "and S3") {
		t.Errorf("tags %v summary %q", q.Tags, res.Summary)
	}

	// Tightening after the SSM evidence: the deny-all run keeps the originals.
	res, err = handler(f).Handle(context.Background(), payload("awsvpc", false, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	if e := enisOf(t, res); !e[0].Changed || !reflect.DeepEqual(e[0].Previous, []string{"sg-app"}) {
		t.Errorf("deny-all after allow-ssm: %+v", e[0])
	}
	if tagValue(s.enis["eni-task"].TagSet, tagPrevious) != "sg-app" {
		t.Error("the previous-groups tag lost the originals")
	}
}

func TestIsolateAllowSsmWithoutS3(t *testing.T) {
	s := newVPC().withEndpoints("s3")
	res, err := handler(newFake(s)).Handle(context.Background(), payload("awsvpc", false, `{"allowSsm":true}`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Summary, "no S3 endpoint") {
		t.Errorf("summary %q does not warn about S3", res.Summary)
	}
}

func TestIsolateErrors(t *testing.T) {
	tests := []struct {
		name     string
		state    func() *vpcState
		with     string
		mode     string
		fault    func(*fakeEC2)
		wantErr  string
		contains string
	}{
		{name: "allowSsm without endpoints", state: func() *vpcState { return newVPC().withEndpoints("ssmmessages", "ec2messages") },
			with: `{"allowSsm":true}`, wantErr: "PreconditionFailedError", contains: "ssmmessages, ec2messages"},
		{name: "endpoint without private DNS", state: func() *vpcState {
			s := newVPC().withEndpoints()
			s.endpoints[0].PrivateDnsEnabled = aws.Bool(false)
			return s
		}, with: `{"allowSsm":true}`, wantErr: "PreconditionFailedError", contains: "for ssm;"},
		{name: "foreign group of that name", state: func() *vpcState {
			s := newVPC()
			s.groups["sg-theirs"] = &ec2types.SecurityGroup{GroupId: aws.String("sg-theirs"), GroupName: aws.String("irflow-quarantine"), VpcId: aws.String("vpc-1")}
			return s
		}, with: `{}`, wantErr: "PreconditionFailedError", contains: "not irflow's"},
		{name: "eni gone", state: func() *vpcState { s := newVPC(); delete(s.enis, "eni-task"); return s },
			with: `{}`, wantErr: "TargetNotFoundError"},
		{name: "instance has no ENI", state: func() *vpcState { s := newVPC(); s.enis = map[string]*ec2types.NetworkInterface{}; return s },
			with: `{}`, mode: "bridge", wantErr: "TargetNotFoundError"},
		{name: "throttled swap", state: newVPC, with: `{}`, wantErr: "RetryableError", fault: func(f *fakeEC2) {
			f.modifyNI = func(*ec2.ModifyNetworkInterfaceAttributeInput) (*ec2.ModifyNetworkInterfaceAttributeOutput, error) {
				return nil, apiErr("RequestLimitExceeded")
			}
		}},
		{name: "unknown parameter", state: newVPC, with: `{"allow_ssm":true}`, wantErr: "InvalidInputError"},
		{name: "wrong type", state: newVPC, with: `{"allowSsm":"yes"}`, wantErr: "InvalidInputError"},
		{name: "bad group name", state: newVPC, with: `{"quarantineGroupName":"sg-evil"}`, wantErr: "InvalidInputError"},
		{name: "group name with space", state: newVPC, with: `{"quarantineGroupName":"a b"}`, wantErr: "InvalidInputError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.state()
			f := newFake(s)
			if tt.fault != nil {
				tt.fault(f)
			}
			mode := tt.mode
			if mode == "" {
				mode = "awsvpc"
			}
			_, err := handler(f).Handle(context.Background(), payload(mode, false, tt.with))
			if got := contract.ErrorName(err); got != tt.wantErr {
				t.Fatalf("error %v (%s); want %s", err, got, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("error %q does not contain %q", err, tt.contains)
			}
			if tt.wantErr != "RetryableError" {
				if m := f.mutations(); len(m) != 0 {
					t.Errorf("failed precondition still mutated: %v", m)
				}
			}
		})
	}
}

func TestIsolateMissingTarget(t *testing.T) {
	p := payload("awsvpc", false, `{}`)
	p.Target = nil
	_, err := handler(newFake(newVPC())).Handle(context.Background(), p)
	var ii *contract.InvalidInputError
	if !errors.As(err, &ii) || ii.Field != "target" {
		t.Errorf("error %v; want InvalidInputError on target", err)
	}
}

func TestIsolateNetworkModeNone(t *testing.T) {
	f := newFake(newVPC())
	res, err := handler(f).Handle(context.Background(), payload("none", false, `{}`))
	if err != nil || res.Status != contract.StatusSkipped || len(f.calls) != 0 {
		t.Errorf("none: %v %+v calls %v", err, res, f.calls)
	}
}
