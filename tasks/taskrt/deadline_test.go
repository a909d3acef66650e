package taskrt

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/contract"
)

// TestOutOfTimeIsRetryable: a handler still retrying AWS calls when the
// invocation's deadline (the Lambda timeout) nears is stopped early and its
// failure becomes a contract.RetryableError, which the generated Retry matches,
// instead of Lambda killing it (States.Timeout, which no Retry matches).
func TestOutOfTimeIsRetryable(t *testing.T) {
	var handlerDeadline time.Time
	rt := &Runtime{Action: "stop-task", Log: NewLogger(io.Discard),
		Handle: func(ctx context.Context, _ *contract.Payload) (*contract.Result, error) {
			handlerDeadline, _ = ctx.Deadline()
			<-ctx.Done() // an SDK call backing off through throttling
			return nil, contract.AWSError("ecs:StopTask", ctx.Err())
		}}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	_, err := rt.Invoke(ctx, json.RawMessage(deadlinePayload))
	var re *contract.RetryableError
	if !errors.As(err, &re) || contract.ErrorName(err) != "RetryableError" {
		t.Fatalf("error %T %v; want a RetryableError", err, err)
	}
	outer, _ := ctx.Deadline()
	if got := outer.Sub(handlerDeadline); got < MinTimeReserve {
		t.Errorf("the handler's deadline was %v before the invocation's; want at least %v", got, MinTimeReserve)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("returned after %v: the reserve was not kept", took)
	}
}

// TestNoDeadlineNoReserve: without a deadline (tests, irflow simulate
// without timeouts) the handler's context is the caller's, and a handler's
// own error is not rewritten.
func TestNoDeadlineNoReserve(t *testing.T) {
	var hasDeadline bool
	rt := &Runtime{Action: "stop-task", Log: NewLogger(io.Discard),
		Handle: func(ctx context.Context, _ *contract.Payload) (*contract.Result, error) {
			_, hasDeadline = ctx.Deadline()
			return nil, &contract.PreconditionFailedError{Reason: "no"}
		}}
	_, err := rt.Invoke(context.Background(), json.RawMessage(deadlinePayload))
	if contract.ErrorName(err) != "PreconditionFailedError" {
		t.Errorf("error %v; want the handler's PreconditionFailedError", err)
	}
	if hasDeadline {
		t.Error("the handler got a deadline the caller did not set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := rt.Invoke(ctx, json.RawMessage(deadlinePayload)); contract.ErrorName(err) != "PreconditionFailedError" {
		t.Errorf("with time to spare: error %v; want the handler's PreconditionFailedError", err)
	}
}

const deadlinePayload = `{"action":"stop-task","step":"stop","with":{},"execution":{"Id":"arn:aws:states:us-east-1:123456789012:execution:irflow-x:1"},
"incident":{"caseId":"case-1","source":"manual","taskArn":"arn:aws:ecs:us-east-1:123456789012:task/c/0f8e7d6c5b4a39281706f5e4d3c2b1a0","clusterArn":"arn:aws:ecs:us-east-1:123456789012:cluster/c","region":"us-east-1","account":"123456789012","partition":"aws","dryRun":false},
"target":{"launchType":"FARGATE","taskArn":"arn:aws:ecs:us-east-1:123456789012:task/c/0f8e7d6c5b4a39281706f5e4d3c2b1a0"}}`

// slowAuditor blocks every append until its context ends, as a chain whose
// DynamoDB calls are throttled and contended past the function's time.
type slowAuditor struct{}

func (slowAuditor) Append(ctx context.Context, r audit.Record) (audit.Record, error) {
	<-ctx.Done()
	return r, contract.AWSError("dynamodb:PutItem audit", ctx.Err())
}

// TestAuditOutOfTimeIsRetryable: when even the start record cannot be
// written before the reserve, the step is handed back to Step Functions'
// Retry (contract.RetryableError) and nothing the handler would change is
// sent (its reads may have been).
func TestAuditOutOfTimeIsRetryable(t *testing.T) {
	cfg, sent := recordingConfig()
	ec2c := ec2.NewFromConfig(withStartGate(cfg))
	rt := &Runtime{Action: "stop-task", Log: NewLogger(io.Discard), Audit: slowAuditor{},
		Handle: func(ctx context.Context, _ *contract.Payload) (*contract.Result, error) {
			_, _ = ec2c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{})
			if _, err := ec2c.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String("eni-1")}); err != nil {
				return nil, contract.AWSError("ec2:DeleteNetworkInterface", err)
			}
			return &contract.Result{Status: contract.StatusOK}, nil
		}}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, err := rt.Invoke(ctx, json.RawMessage(deadlinePayload))
	if contract.ErrorName(err) != "RetryableError" {
		t.Fatalf("error %T %v; want a RetryableError", err, err)
	}
	if got := sent(); !slices.Equal(got, []string{"DescribeNetworkInterfaces"}) {
		t.Errorf("sent %v; want only the read, nothing changed without a start record", got)
	}
}

// resultBlocker writes start records and blocks result records until the
// invocation's deadline.
type resultBlocker struct{}

func (resultBlocker) Append(ctx context.Context, r audit.Record) (audit.Record, error) {
	if r.Event == "result" {
		<-ctx.Done()
		return r, contract.AWSError("dynamodb:PutItem audit", ctx.Err())
	}
	return r, nil
}

// TestResultAuditOutOfTimeIsRetryable: an action done but not recorded
// before the deadline is retried (actions are idempotent), never reported
// as done without its record.
func TestResultAuditOutOfTimeIsRetryable(t *testing.T) {
	rt := &Runtime{Action: "stop-task", Log: NewLogger(io.Discard), Audit: resultBlocker{},
		Handle: func(ctx context.Context, _ *contract.Payload) (*contract.Result, error) {
			return &contract.Result{Status: contract.StatusOK, Summary: "stopped"}, nil
		}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	out, err := rt.Invoke(ctx, json.RawMessage(deadlinePayload))
	if contract.ErrorName(err) != "RetryableError" || out != nil {
		t.Fatalf("result %s, error %T %v; want no result and a RetryableError", out, err, err)
	}
}
