package hostcmd

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
)

type fakeSSM struct {
	send func(in *ssm.SendCommandInput) (*ssm.SendCommandOutput, error)
	get  func(in *ssm.GetCommandInvocationInput) (*ssm.GetCommandInvocationOutput, error)
	sent []*ssm.SendCommandInput
}

var _ SSMAPI = (*fakeSSM)(nil)

func (f *fakeSSM) SendCommand(_ context.Context, in *ssm.SendCommandInput, _ ...func(*ssm.Options)) (*ssm.SendCommandOutput, error) {
	f.sent = append(f.sent, in)
	if f.send == nil {
		return &ssm.SendCommandOutput{Command: &ssmtypes.Command{CommandId: aws.String(cmdB)}}, nil
	}
	return f.send(in)
}

func (f *fakeSSM) GetCommandInvocation(_ context.Context, in *ssm.GetCommandInvocationInput, _ ...func(*ssm.Options)) (*ssm.GetCommandInvocationOutput, error) {
	return f.get(in)
}

type fakeHistory struct {
	read func(caseID string) ([]audit.Record, error)
}

var _ History = (*fakeHistory)(nil)

func (f *fakeHistory) Read(_ context.Context, caseID string) ([]audit.Record, error) {
	return f.read(caseID)
}

func apiErr(code string) error {
	return &smithy.GenericAPIError{Code: code, Message: code + " message"}
}

const (
	cmdA = "11111111-2222-3333-4444-555555555555"
	cmdB = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
	inst = "i-0123456789abcdef0"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func payload(mode string, prev *contract.Result) *contract.Payload {
	return &contract.Payload{Action: "capture-memory", Step: "memory", Mode: mode, TimeoutSeconds: 600, Previous: prev,
		Incident: &incident.Incident{CaseID: "case-1"}, Target: &incident.Target{LaunchType: "EC2", InstanceID: inst}}
}

func status(s ssmtypes.CommandInvocationStatus) func(*ssm.GetCommandInvocationInput) (*ssm.GetCommandInvocationOutput, error) {
	return func(*ssm.GetCommandInvocationInput) (*ssm.GetCommandInvocationOutput, error) {
		return &ssm.GetCommandInvocationOutput{Status: s}, nil
	}
}

func history(commandID, instanceID string) *fakeHistory {
	d, _ := json.Marshal(map[string]any{"outputs": State{CommandID: commandID, InstanceID: instanceID, StartedAt: t0.Format(time.RFC3339Nano), Keys: []string{"cases/case-1/memory/a"}}})
	return &fakeHistory{read: func(string) ([]audit.Record, error) {
		return []audit.Record{
			{Seq: 1, Step: "memory", Action: "capture-memory", Event: "start"},
			{Seq: 2, Step: "memory", Action: "capture-memory", Event: "result", Detail: string(d)},
			{Seq: 3, Step: "other", Action: "capture-memory", Event: "result", Detail: `{"outputs":{"commandId":"` + cmdB + `"}}`},
		}, nil
	}}
}

func TestStart(t *testing.T) {
	tests := []struct {
		name       string
		history    *fakeHistory
		get        func(*ssm.GetCommandInvocationInput) (*ssm.GetCommandInvocationOutput, error)
		send       func(*ssm.SendCommandInput) (*ssm.SendCommandOutput, error)
		wantSent   int
		wantCmd    string
		wantReused bool
		wantErr    string
	}{
		{name: "first start sends", history: &fakeHistory{read: func(string) ([]audit.Record, error) { return nil, nil }}, wantSent: 1, wantCmd: cmdB},
		{name: "no history sends", wantSent: 1, wantCmd: cmdB},
		{name: "running command reused", history: history(cmdA, inst), get: status(ssmtypes.CommandInvocationStatusInProgress), wantCmd: cmdA, wantReused: true},
		{name: "finished command reused", history: history(cmdA, inst), get: status(ssmtypes.CommandInvocationStatusSuccess), wantCmd: cmdA, wantReused: true},
		{name: "failed command resent", history: history(cmdA, inst), get: status(ssmtypes.CommandInvocationStatusFailed), wantSent: 1, wantCmd: cmdB},
		{name: "expired command resent", history: history(cmdA, inst), get: func(*ssm.GetCommandInvocationInput) (*ssm.GetCommandInvocationOutput, error) {
			return nil, apiErr("InvocationDoesNotExist")
		}, wantSent: 1, wantCmd: cmdB},
		{name: "command on another instance ignored", history: history(cmdA, "i-99999999"), wantSent: 1, wantCmd: cmdB},
		{name: "history unreadable", history: &fakeHistory{read: func(string) ([]audit.Record, error) {
			return nil, &contract.RetryableError{Op: "dynamodb:Query", Err: errors.New("throttled")}
		}}, wantErr: "RetryableError"},
		{name: "unmanaged instance", send: func(*ssm.SendCommandInput) (*ssm.SendCommandOutput, error) { return nil, apiErr("InvalidInstanceId") },
			wantSent: 1, wantErr: "PreconditionFailedError"},
		{name: "throttled", send: func(*ssm.SendCommandInput) (*ssm.SendCommandOutput, error) { return nil, apiErr("ThrottlingException") },
			wantSent: 1, wantErr: "RetryableError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeSSM{send: tt.send, get: tt.get}
			r := &Runner{SSM: f, Now: func() time.Time { return t0.Add(time.Hour) }}
			if tt.history != nil {
				r.History = tt.history
			}
			got, err := r.Start(context.Background(), payload("start", nil), Command{InstanceID: inst, Script: "#!/bin/sh\necho hi\n", Keys: []string{"cases/case-1/memory/a"}, Timeout: 10 * time.Minute})
			if len(f.sent) != tt.wantSent {
				t.Errorf("sent %d commands; want %d", len(f.sent), tt.wantSent)
			}
			if tt.wantErr != "" {
				if contract.ErrorName(err) != tt.wantErr {
					t.Fatalf("err = %v (%s); want %s", err, contract.ErrorName(err), tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.CommandID != tt.wantCmd || got.Reused != tt.wantReused {
				t.Errorf("command %s reused %v; want %s %v", got.CommandID, got.Reused, tt.wantCmd, tt.wantReused)
			}
			if tt.wantReused && got.StartedAt != t0.Format(time.RFC3339Nano) {
				t.Errorf("reused startedAt %s; want the first start's", got.StartedAt)
			}
		})
	}
}

func TestStartSendsTheScript(t *testing.T) {
	f := &fakeSSM{}
	r := &Runner{SSM: f}
	_, err := r.Start(context.Background(), payload("start", nil), Command{InstanceID: inst, Script: "#!/bin/sh\necho hi\n", Keys: []string{"k"}, Timeout: 20 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	in := f.sent[0]
	if aws.ToString(in.DocumentName) != "AWS-RunShellScript" || in.InstanceIds[0] != inst || aws.ToString(in.Comment) != "irflow case-1 memory" {
		t.Errorf("sent %s to %v with comment %q", aws.ToString(in.DocumentName), in.InstanceIds, aws.ToString(in.Comment))
	}
	if got := strings.Join(in.Parameters["commands"], "|"); got != "#!/bin/sh|echo hi" {
		t.Errorf("commands = %q", got)
	}
	if in.Parameters["executionTimeout"][0] != "1200" || aws.ToInt32(in.TimeoutSeconds) != 1200 {
		t.Errorf("executionTimeout %v, delivery timeout %d; want 1200", in.Parameters["executionTimeout"], aws.ToInt32(in.TimeoutSeconds))
	}
}

func TestPoll(t *testing.T) {
	prev := &contract.Result{Status: "OK", Outputs: State{CommandID: cmdA, InstanceID: inst, StartedAt: t0.Format(time.RFC3339Nano),
		Keys: []string{"cases/case-1/memory/a.txt"}}.Outputs(false)}
	manifest := "IRFLOW-EVIDENCE a.txt " + sha + " 4\nIRFLOW-DONE 1\n"
	inv := func(s ssmtypes.CommandInvocationStatus, stdout, stderr string) func(*ssm.GetCommandInvocationInput) (*ssm.GetCommandInvocationOutput, error) {
		return func(*ssm.GetCommandInvocationInput) (*ssm.GetCommandInvocationOutput, error) {
			return &ssm.GetCommandInvocationOutput{Status: s, StatusDetails: aws.String(string(s)), ResponseCode: 1,
				StandardOutputContent: aws.String(stdout), StandardErrorContent: aws.String(stderr)}, nil
		}
	}
	tests := []struct {
		name     string
		get      func(*ssm.GetCommandInvocationInput) (*ssm.GetCommandInvocationOutput, error)
		after    time.Duration
		wantDone bool
		wantErr  string
		wantMsg  string
	}{
		{name: "pending", get: inv(ssmtypes.CommandInvocationStatusPending, "", ""), after: time.Minute},
		{name: "in progress", get: inv(ssmtypes.CommandInvocationStatusInProgress, "", ""), after: time.Minute},
		{name: "delayed", get: inv(ssmtypes.CommandInvocationStatusDelayed, "", ""), after: time.Minute},
		{name: "success", get: inv(ssmtypes.CommandInvocationStatusSuccess, manifest, ""), after: time.Minute, wantDone: true},
		{name: "success after the timeout still counts", get: inv(ssmtypes.CommandInvocationStatusSuccess, manifest, ""), after: time.Hour, wantDone: true},
		{name: "success without manifest (moto)", get: inv(ssmtypes.CommandInvocationStatusSuccess, "", ""), after: time.Minute,
			wantErr: "PreconditionFailedError", wantMsg: "no IRFLOW-DONE"},
		{name: "failed", get: inv(ssmtypes.CommandInvocationStatusFailed, "", "curl: (22) https://b/k?X-Amz-Signature=secret\nirflow: AVML hash mismatch"),
			after: time.Minute, wantErr: "PreconditionFailedError", wantMsg: "AVML hash mismatch"},
		{name: "timed out", get: inv(ssmtypes.CommandInvocationStatusTimedOut, "", ""), after: time.Minute, wantErr: "PreconditionFailedError", wantMsg: "TimedOut"},
		{name: "cancelled", get: inv(ssmtypes.CommandInvocationStatusCancelled, "", ""), after: time.Minute, wantErr: "PreconditionFailedError", wantMsg: "Cancelled"},
		{name: "running past the step timeout", get: inv(ssmtypes.CommandInvocationStatusInProgress, "", ""), after: 11 * time.Minute, wantErr: "StepTimeoutError"},
		{name: "not visible yet", get: func(*ssm.GetCommandInvocationInput) (*ssm.GetCommandInvocationOutput, error) {
			return nil, apiErr("InvocationDoesNotExist")
		}, after: 30 * time.Second},
		{name: "never visible", get: func(*ssm.GetCommandInvocationInput) (*ssm.GetCommandInvocationOutput, error) {
			return nil, apiErr("InvocationDoesNotExist")
		}, after: 5 * time.Minute, wantErr: "PreconditionFailedError", wantMsg: "unknown to SSM"},
		{name: "unknown status", get: inv("Exploded", "", ""), after: time.Minute, wantErr: "PreconditionFailedError", wantMsg: "unknown status"},
		{name: "throttled", get: func(*ssm.GetCommandInvocationInput) (*ssm.GetCommandInvocationOutput, error) {
			return nil, apiErr("ThrottlingException")
		}, after: time.Minute, wantErr: "RetryableError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Runner{SSM: &fakeSSM{get: tt.get}, Now: func() time.Time { return t0.Add(tt.after) }}
			got, err := r.Poll(context.Background(), payload("check", prev))
			if tt.wantErr != "" {
				if contract.ErrorName(err) != tt.wantErr || !strings.Contains(err.Error(), tt.wantMsg) {
					t.Fatalf("err = %v (%s); want %s containing %q", err, contract.ErrorName(err), tt.wantErr, tt.wantMsg)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error leaks a presigned signature: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Done != tt.wantDone || got.CommandID != cmdA {
				t.Errorf("done %v command %s; want %v %s", got.Done, got.CommandID, tt.wantDone, cmdA)
			}
			if tt.wantDone && len(got.Manifest.Files) != 1 {
				t.Errorf("manifest = %+v", got.Manifest)
			}
		})
	}
}

func TestPollNeedsPrevious(t *testing.T) {
	tests := []struct {
		name string
		prev *contract.Result
		want string
	}{
		{"none", nil, "previous"},
		{"no command", &contract.Result{Outputs: map[string]any{"done": false}}, "previous.outputs.commandId"},
		{"bad time", &contract.Result{Outputs: State{CommandID: cmdA, InstanceID: inst, StartedAt: "yesterday", Keys: []string{"k"}}.Outputs(false)}, "previous.outputs.startedAt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := (&Runner{SSM: &fakeSSM{}}).Poll(context.Background(), payload("check", tt.prev))
			var ii *contract.InvalidInputError
			if !errors.As(err, &ii) || ii.Field != tt.want {
				t.Errorf("err = %v; want InvalidInputError on %s", err, tt.want)
			}
		})
	}
}

func TestStepTimeoutDefaultsToCatalog(t *testing.T) {
	p := &contract.Payload{Action: "collect-host-artifacts"}
	if got := StepTimeout(p); got != 20*time.Minute {
		t.Errorf("StepTimeout = %s; want the catalog's 20m", got)
	}
	p.TimeoutSeconds = 90
	if got := StepTimeout(p); got != 90*time.Second {
		t.Errorf("StepTimeout = %s; want 90s from the payload", got)
	}
	// A URL lives as long as the step may use it: the step's timeout.
	if got := URLExpiry(time.Hour); got != time.Hour {
		t.Errorf("URLExpiry(1h) = %s; want the step's 1h", got)
	}
	if got := URLExpiry(30 * 24 * time.Hour); got != 7*24*time.Hour {
		t.Errorf("URLExpiry(30d) = %s; want SigV4's 7 days", got)
	}
}
