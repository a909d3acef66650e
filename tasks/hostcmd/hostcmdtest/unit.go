package hostcmdtest

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/hostcmd"
)

// The ids the SSM actions' unit tests share.
const (
	CommandID = "11111111-2222-3333-4444-555555555555"
	Instance  = "i-0123456789abcdef0"
	TaskArn   = "arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef"
	// SHA256 is the SHA-256 of "test".
	SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
)

// T0 is the clock of FakeRunner, when its commands start.
var T0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// FakeRunner is a hostcmd.Runner at T0 on a FakeSSM that answers
// CommandID and on FakeObjects, with a FakePresign for the evidence bucket.
func FakeRunner() (*hostcmd.Runner, *FakeSSM, *FakePresign) {
	f := &FakeSSM{CommandID: CommandID}
	ps := &FakePresign{Base: "https://bucket.s3.us-east-1.amazonaws.com"}
	return &hostcmd.Runner{SSM: f, Objects: &FakeObjects{}, Now: func() time.Time { return T0 }}, f, ps
}

// Started is a start's result that sent CommandID to Instance at T0 for
// keys: the previous result of a check.
func Started(keys ...string) *contract.Result {
	prev := contract.OK("started")
	prev.Outputs = hostcmd.State{CommandID: CommandID, InstanceID: Instance, StartedAt: T0.Format(time.RFC3339Nano), Keys: keys}.Outputs(false)
	return prev
}

// CheckFailure is one way an SSM action's check fails: what SSM answers,
// how long after T0, and the error the check must return.
type CheckFailure struct {
	Name   string
	Status ssmtypes.CommandInvocationStatus
	Stdout string
	After  time.Duration
	Want   string
}

// Handle is an SSM action's handler.
type Handle = func(context.Context, *contract.Payload) (*contract.Result, error)

// RunCheckFailures runs each case's check (a payload of mode check) on a
// fresh handler from setup, which returns the handler's runner, its
// FakeSSM and its Handle: the runner's clock is moved After past T0, SSM
// answers Status with Stdout and stderr, and the check must fail with Want.
// It adds the case every SSM action has: a command still running a minute
// past the step's timeout (check.TimeoutSeconds) is a StepTimeoutError.
func RunCheckFailures(t *testing.T, stderr string, cases []CheckFailure, check *contract.Payload, setup func() (*hostcmd.Runner, *FakeSSM, Handle)) {
	t.Helper()
	cases = append(cases[:len(cases):len(cases)], CheckFailure{Name: "past the step timeout", Status: ssmtypes.CommandInvocationStatusInProgress,
		After: time.Duration(check.TimeoutSeconds)*time.Second + time.Minute, Want: "StepTimeoutError"})
	for _, tt := range cases {
		t.Run(tt.Name, func(t *testing.T) {
			r, f, handle := setup()
			r.Now = func() time.Time { return T0.Add(tt.After) }
			f.Answer(tt.Status, tt.Stdout, stderr)
			p := *check
			if _, err := handle(context.Background(), &p); contract.ErrorName(err) != tt.Want {
				t.Errorf("err = %v (%s); want %s", err, contract.ErrorName(err), tt.Want)
			}
		})
	}
}

// PollToDone walks an SSM action's poll loop through handle on f: start,
// a check while SSM reports running, then a check once it reports Success
// with manifest as the command's output; the checks are start in mode
// check, each fed the previous result through JSON (RoundTrip), as Step
// Functions does. SSM must be asked about
// CommandID on Instance. It returns the first check's result, which must
// not be done and carry the running status, and the last check's.
func PollToDone(t *testing.T, f *FakeSSM, running ssmtypes.CommandInvocationStatus, manifest string,
	handle Handle, start *contract.Payload) (pending, done *contract.Result) {
	t.Helper()
	status := running
	f.Get = func(in *ssm.GetCommandInvocationInput) (*ssm.GetCommandInvocationOutput, error) {
		if aws.ToString(in.CommandId) != CommandID || aws.ToString(in.InstanceId) != Instance {
			t.Errorf("asked for %s on %s", aws.ToString(in.CommandId), aws.ToString(in.InstanceId))
		}
		out := &ssm.GetCommandInvocationOutput{Status: status}
		if status == ssmtypes.CommandInvocationStatusSuccess {
			out.StandardOutputContent = aws.String(manifest)
		}
		return out, nil
	}
	check := func(prev *contract.Result) (*contract.Result, error) {
		p := *start
		p.Mode, p.Previous = "check", RoundTrip(t, prev)
		return handle(context.Background(), &p)
	}
	res, err := handle(context.Background(), start)
	if err != nil {
		t.Fatal(err)
	}
	pending, err = check(res)
	if err != nil || pending.Outputs["done"] != false || pending.Outputs["ssmStatus"] != string(running) {
		t.Fatalf("first check: %v %v", pending, err)
	}
	status = ssmtypes.CommandInvocationStatusSuccess
	done, err = check(pending)
	if err != nil {
		t.Fatal(err)
	}
	return pending, done
}

// Refused fails the test unless err is named want (contract.ErrorName)
// and the handler neither sent a command nor presigned a download before
// failing: nothing reached the host.
func Refused(t *testing.T, err error, want string, f *FakeSSM, ps *FakePresign) {
	t.Helper()
	if contract.ErrorName(err) != want {
		t.Errorf("err = %v (%s); want %s", err, contract.ErrorName(err), want)
	}
	if len(f.Sent) != 0 || ps.Gets != 0 {
		t.Errorf("sent %d commands, presigned %d downloads before failing; want none", len(f.Sent), ps.Gets)
	}
}

// NothingSent fails the test if a command was sent or a URL presigned.
func NothingSent(t *testing.T, f *FakeSSM, ps *FakePresign) {
	t.Helper()
	if len(f.Sent) != 0 || ps.Puts != 0 || ps.Gets != 0 {
		t.Errorf("sent %d commands, presigned %d uploads and %d downloads; want none", len(f.Sent), ps.Puts, ps.Gets)
	}
}
