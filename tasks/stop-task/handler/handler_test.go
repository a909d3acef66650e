package handler

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
)

type fakeECS struct {
	describe  func(*ecs.DescribeTasksInput) (*ecs.DescribeTasksOutput, error)
	stop      func(*ecs.StopTaskInput) (*ecs.StopTaskOutput, error)
	connected bool
	stops     []*ecs.StopTaskInput
}

var _ ecsAPI = (*fakeECS)(nil)

func (f *fakeECS) DescribeTasks(_ context.Context, in *ecs.DescribeTasksInput, _ ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error) {
	return f.describe(in)
}

func (f *fakeECS) StopTask(_ context.Context, in *ecs.StopTaskInput, _ ...func(*ecs.Options)) (*ecs.StopTaskOutput, error) {
	f.stops = append(f.stops, in)
	return f.stop(in)
}

func (f *fakeECS) DescribeContainerInstances(_ context.Context, in *ecs.DescribeContainerInstancesInput, _ ...func(*ecs.Options)) (*ecs.DescribeContainerInstancesOutput, error) {
	return &ecs.DescribeContainerInstancesOutput{ContainerInstances: []ecstypes.ContainerInstance{
		{ContainerInstanceArn: aws.String(in.ContainerInstances[0]), AgentConnected: f.connected}}}, nil
}

const (
	taskArn = "arn:aws:ecs:us-east-1:111122223333:task/prod/0123456789abcdef"
	ciArn   = "arn:aws:ecs:us-east-1:111122223333:container-instance/prod/ci-1"
)

// newECS serves one task in the given state. StopTask sets its desired
// status, and its last status to after (as ECS reports it at once: STOPPED
// for a Fargate task moto stops, RUNNING for one whose agent must act).
func newECS(last, desired, group string) *fakeECS {
	return newECSAfter(last, desired, group, "STOPPED")
}

func newECSAfter(last, desired, group, after string) *fakeECS {
	task := ecstypes.Task{TaskArn: aws.String(taskArn), LastStatus: aws.String(last), DesiredStatus: aws.String(desired), Group: aws.String(group)}
	f := &fakeECS{connected: true}
	f.describe = func(*ecs.DescribeTasksInput) (*ecs.DescribeTasksOutput, error) {
		return &ecs.DescribeTasksOutput{Tasks: []ecstypes.Task{task}}, nil
	}
	f.stop = func(in *ecs.StopTaskInput) (*ecs.StopTaskOutput, error) {
		task.DesiredStatus, task.StoppedReason, task.LastStatus = aws.String("STOPPED"), in.Reason, aws.String(after)
		return &ecs.StopTaskOutput{Task: &task}, nil
	}
	return f
}

func payload(dry bool, with string) *contract.Payload {
	return &contract.Payload{Action: "stop-task", Step: "stop", Mode: "start", With: json.RawMessage(with),
		Incident: &incident.Incident{CaseID: "case-7", TaskArn: taskArn, ClusterArn: "arn:aws:ecs:us-east-1:111122223333:cluster/prod", Reason: "miner seen", DryRun: dry},
		Target:   &incident.Target{TaskArn: taskArn, ClusterArn: "arn:aws:ecs:us-east-1:111122223333:cluster/prod"}}
}

func apiErr(code string) error { return &smithy.GenericAPIError{Code: code, Message: code + " (fake)"} }

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func clock(t time.Time) func() time.Time { return func() time.Time { return t } }

func TestStopTask(t *testing.T) {
	tests := []struct {
		name, last, desired, group, with string
		dry                              bool
		wantStatus, wantSummary          string
		wantStops                        int
		wantReason                       string
	}{
		{name: "running standalone", last: "RUNNING", desired: "RUNNING", with: `{"reason":"crypto-miner"}`,
			wantStatus: "OK", wantSummary: `stopped task 0123456789abcdef (was RUNNING) with reason "irflow case case-7: crypto-miner"`, wantStops: 1,
			wantReason: "irflow case case-7: crypto-miner"},
		{name: "service task", last: "RUNNING", desired: "RUNNING", group: "service:payments", with: `{}`,
			wantStatus: "OK", wantSummary: "service payments will start a replacement", wantStops: 1, wantReason: "irflow case case-7: miner seen"},
		{name: "pending", last: "PENDING", desired: "RUNNING", with: `{}`, wantStatus: "OK", wantSummary: "(was PENDING)", wantStops: 1},
		{name: "already stopped", last: "STOPPED", desired: "STOPPED", with: `{}`, wantStatus: "OK", wantSummary: "already stopped"},
		{name: "deactivating", last: "DEACTIVATING", desired: "STOPPED", with: `{}`, wantStatus: "OK", wantSummary: "already stopping"},
		{name: "deprovisioning", last: "DEPROVISIONING", desired: "STOPPED", with: `{}`, wantStatus: "OK", wantSummary: "already stopping"},
		{name: "stop requested", last: "RUNNING", desired: "STOPPED", with: `{}`, wantStatus: "OK", wantSummary: "already stopping"},
		{name: "dry run", last: "RUNNING", desired: "RUNNING", with: `{}`, dry: true, wantStatus: "DRY_RUN", wantSummary: `would stop task 0123456789abcdef (RUNNING) with reason "irflow case case-7: miner seen"`},
		{name: "dry run stopped", last: "STOPPED", desired: "STOPPED", with: `{}`, dry: true, wantStatus: "DRY_RUN", wantSummary: "would do nothing: already stopped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newECS(tt.last, tt.desired, tt.group)
			res, err := (&Handler{ECS: f, Now: clock(t0)}).Handle(context.Background(), payload(tt.dry, tt.with))
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tt.wantStatus || !strings.Contains(res.Summary, tt.wantSummary) || len(f.stops) != tt.wantStops {
				t.Fatalf("got %s %q with %d stops; want %s containing %q with %d", res.Status, res.Summary, len(f.stops), tt.wantStatus, tt.wantSummary, tt.wantStops)
			}
			if tt.wantReason != "" && aws.ToString(f.stops[0].Reason) != tt.wantReason {
				t.Errorf("reason %q; want %q", aws.ToString(f.stops[0].Reason), tt.wantReason)
			}
			if res.Outputs["taskArn"] != taskArn || res.Outputs["previousStatus"] != tt.last {
				t.Errorf("outputs %v", res.Outputs)
			}
			// Done when the task is gone (STOPPED at once, or a dry run that
			// started nothing); a task still on its way out is polled.
			wantDone := tt.dry || tt.wantStops > 0 || tt.last == "STOPPED"
			if res.Outputs["done"] != wantDone {
				t.Errorf("done %v; want %v", res.Outputs["done"], wantDone)
			}
		})
	}
}

func TestStopTaskErrors(t *testing.T) {
	tests := []struct {
		name    string
		fault   func(*fakeECS)
		with    string
		noTask  bool
		wantErr string
	}{
		{name: "task unknown", wantErr: "TargetNotFoundError", fault: func(f *fakeECS) {
			f.describe = func(*ecs.DescribeTasksInput) (*ecs.DescribeTasksOutput, error) {
				return &ecs.DescribeTasksOutput{Failures: []ecstypes.Failure{{Arn: aws.String(taskArn), Reason: aws.String("MISSING")}}}, nil
			}
		}},
		{name: "cluster gone", wantErr: "TargetNotFoundError", fault: func(f *fakeECS) {
			f.describe = func(*ecs.DescribeTasksInput) (*ecs.DescribeTasksOutput, error) {
				return nil, apiErr("ClusterNotFoundException")
			}
		}},
		{name: "throttled stop", wantErr: "RetryableError", fault: func(f *fakeECS) {
			f.stop = func(*ecs.StopTaskInput) (*ecs.StopTaskOutput, error) { return nil, apiErr("ThrottlingException") }
		}},
		{name: "denied stop", wantErr: "PreconditionFailedError", fault: func(f *fakeECS) {
			f.stop = func(*ecs.StopTaskInput) (*ecs.StopTaskOutput, error) { return nil, apiErr("AccessDeniedException") }
		}},
		{name: "reason too long", with: `{"reason":"` + strings.Repeat("x", 201) + `"}`, wantErr: "InvalidInputError"},
		{name: "unknown parameter", with: `{"why":"x"}`, wantErr: "InvalidInputError"},
		{name: "no task", noTask: true, wantErr: "InvalidInputError"},
		{name: "bad mode", wantErr: "InvalidInputError", fault: func(f *fakeECS) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newECS("RUNNING", "RUNNING", "")
			if tt.fault != nil {
				tt.fault(f)
			}
			with := tt.with
			if with == "" {
				with = `{}`
			}
			p := payload(false, with)
			if tt.name == "bad mode" {
				p.Mode = "Check"
			}
			if tt.noTask {
				p.Target.TaskArn, p.Incident.TaskArn = "", ""
			}
			_, err := (&Handler{ECS: f, Now: clock(t0)}).Handle(context.Background(), p)
			if got := contract.ErrorName(err); got != tt.wantErr {
				t.Errorf("error %v (%s); want %s", err, got, tt.wantErr)
			}
		})
	}
}

func TestStopReason(t *testing.T) {
	long := strings.Repeat("é", 250) // beyond the schema, as with an 80-character case id
	tests := []struct {
		name, with, incident, finding, want string
	}{
		{name: "control characters removed", with: "evil\x1b[31m\ttab\nline", want: "irflow case case-7: evil[31mtabline"},
		{name: "incident reason", incident: "responder said so", want: "irflow case case-7: responder said so"},
		{name: "finding type", finding: "CryptoCurrency:Runtime/BitcoinTool.B", want: "irflow case case-7: GuardDuty CryptoCurrency:Runtime/BitcoinTool.B"},
		{name: "fallback", want: "irflow case case-7: incident response containment"},
		{name: "cut to 255 characters", with: long, want: string([]rune("irflow case case-7: " + long)[:255])},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := payload(false, `{}`)
			p.Incident.Reason = tt.incident
			if tt.finding != "" {
				p.Incident.Finding = &incident.Finding{Type: tt.finding}
			}
			var with *string
			if tt.with != "" {
				with = &tt.with
			}
			got := stopReason(p, with)
			if got != tt.want || utf8.RuneCountInString(got) > 255 {
				t.Errorf("got %q; want %q", got, tt.want)
			}
		})
	}
}
