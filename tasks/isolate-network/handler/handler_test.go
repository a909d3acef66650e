package handler

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/ledger"
)

const taskArn = "arn:aws:ecs:us-east-1:111122223333:task/c/0f8e7d6c5b4a39281706f5e4d3c2b1a0"

func payload(mode string, dry bool, with string) *contract.Payload {
	t := &incident.Target{LaunchType: "FARGATE", NetworkMode: mode, TaskArn: taskArn,
		VpcID: "vpc-1", ENIs: []incident.ENI{{ID: "eni-task", VpcID: "vpc-1", SecurityGroups: []string{"sg-app"}}}}
	if mode == "bridge" || mode == "host" {
		t.LaunchType, t.InstanceID = "EC2", "i-1"
		t.ENIs = []incident.ENI{{ID: "eni-inst0", VpcID: "vpc-1"}}
	}
	return &contract.Payload{Action: "isolate-network", Step: "isolate", With: json.RawMessage(with),
		Incident: &incident.Incident{CaseID: "case-1", Region: "us-east-1", DryRun: dry}, Target: t}
}

func handler(f *fakeEC2) *Handler {
	return &Handler{ENIs: f, Groups: f, Endpoints: f, NACLs: f, Ledger: f,
		Now: func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }}
}

func enisOf(t *testing.T, r *contract.Result) []*eniPlan {
	t.Helper()
	e, ok := r.Outputs["enis"].([]*eniPlan)
	if !ok {
		t.Fatalf("outputs.enis = %T", r.Outputs["enis"])
	}
	return e
}

func eniNamed(t *testing.T, r *contract.Result, id string) *eniPlan {
	t.Helper()
	for _, e := range enisOf(t, r) {
		if e.ID == id {
			return e
		}
	}
	t.Fatalf("no ENI %s in outputs", id)
	return nil
}

func classes(r *contract.Result) []string {
	var out []string
	for _, res := range r.Outputs["residuals"].([]residual) {
		out = append(out, res.FlowClass)
	}
	return out
}

func TestIsolateDryRunChangesNothing(t *testing.T) {
	tests := []struct {
		name, mode, with string
		state            func() *vpcState
		wantENIs         int
		wantLevel        string
	}{
		{"awsvpc", "awsvpc", `{}`, newVPC, 1, isolationPartial},
		{"bridge", "bridge", `{}`, newVPC, 2, isolationPartial},
		{"allowSsm", "bridge", `{"allowSsm":true}`, func() *vpcState { return newVPC().withEndpoints(ssmAndS3...) }, 2, isolationPartial},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.state()
			f := newFake(s)
			res, err := handler(f).Handle(context.Background(), payload(tt.mode, true, tt.with))
			if err != nil {
				t.Fatal(err)
			}
			if m := f.mutations(); len(m) != 0 {
				t.Fatalf("dry run called %v", m)
			}
			e := enisOf(t, res)
			if res.Status != contract.StatusDryRun || len(e) != tt.wantENIs || !strings.HasPrefix(res.Summary, "would "+tt.wantLevel+" isolation") ||
				res.Outputs["isolation"] != tt.wantLevel {
				t.Fatalf("dry run: %s %q %d ENIs %v", res.Status, res.Summary, len(e), res.Outputs["isolation"])
			}
			if tt.mode == "bridge" {
				if !e[0].Changed || len(e[0].Previous) == 0 || !strings.HasPrefix(e[0].Groups[0], "irflow-quarantine") {
					t.Errorf("dry run ENI plan %+v", e[0])
				}
				if gs := res.Outputs["quarantineGroups"].([]*groupPlan); len(gs) != 1 || !gs[0].Created || gs[0].GroupID != "" {
					t.Errorf("dry run group plan %+v", gs[0])
				}
			} else if n := len(res.Outputs["naclEntries"].([]*naclEntry)); n != 4 {
				t.Errorf("dry run plans %d network ACL entries; want 4 (2 ACLs x in/out)", n)
			}
		})
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
		{name: "foreign group of that name", state: func() *vpcState {
			s := newVPC()
			s.groups["sg-theirs"] = &ec2types.SecurityGroup{GroupId: aws.String("sg-theirs"), GroupName: aws.String("irflow-quarantine"), VpcId: aws.String("vpc-1")}
			return s
		}, with: `{}`, mode: "bridge", wantErr: "PreconditionFailedError", contains: "not irflow's"},
		{name: "eni gone", state: func() *vpcState { s := newVPC(); delete(s.enis, "eni-task"); return s },
			with: `{}`, wantErr: "TargetNotFoundError"},
		{name: "instance has no ENI", state: func() *vpcState { s := newVPC(); s.enis = map[string]*ec2types.NetworkInterface{}; return s },
			with: `{}`, mode: "bridge", wantErr: "TargetNotFoundError"},
		{name: "throttled swap", state: newVPC, with: `{}`, mode: "bridge", wantErr: "RetryableError", fault: func(f *fakeEC2) {
			f.modifyNI = func(*ec2.ModifyNetworkInterfaceAttributeInput) (*ec2.ModifyNetworkInterfaceAttributeOutput, error) {
				return nil, apiErr("RequestLimitExceeded")
			}
		}},
		{name: "rule number taken meanwhile", state: newVPC, with: `{}`, wantErr: "RetryableError", fault: func(f *fakeEC2) {
			f.createACLEntry = func(*ec2.CreateNetworkAclEntryInput) (*ec2.CreateNetworkAclEntryOutput, error) {
				return nil, apiErr("NetworkAclEntryAlreadyExists")
			}
		}},
		{name: "quota lower than said", state: newVPC, with: `{}`, wantErr: "PreconditionFailedError", contains: "naclRuleQuota", fault: func(f *fakeEC2) {
			f.createACLEntry = func(*ec2.CreateNetworkAclEntryInput) (*ec2.CreateNetworkAclEntryOutput, error) {
				return nil, apiErr("NetworkAclEntryLimitExceeded")
			}
		}},
		{name: "ledger unavailable", state: newVPC, with: `{}`, wantErr: "RetryableError", fault: func(f *fakeEC2) {
			f.appendLedger = func([]ledger.Entry) error {
				return &contract.RetryableError{Op: "dynamodb:PutItem", Err: errors.New("throttled")}
			}
		}},
		{name: "unknown parameter", state: newVPC, with: `{"allow_ssm":true}`, wantErr: "InvalidInputError"},
		{name: "wrong type", state: newVPC, with: `{"allowSsm":"yes"}`, wantErr: "InvalidInputError"},
		{name: "bad group name", state: newVPC, with: `{"quarantineGroupName":"sg-evil"}`, wantErr: "InvalidInputError"},
		{name: "group name with space", state: newVPC, with: `{"quarantineGroupName":"a b"}`, wantErr: "InvalidInputError"},
		{name: "quota out of range", state: newVPC, with: `{"naclRuleQuota":41}`, wantErr: "InvalidInputError"},
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
			if tt.fault == nil {
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
	if err != nil || res.Status != contract.StatusSkipped || len(f.calls) != 0 || res.Outputs["isolation"] != isolationNone {
		t.Errorf("none: %v %+v calls %v", err, res, f.calls)
	}
}
