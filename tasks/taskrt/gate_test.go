package taskrt

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/contract"
)

// recordingConfig is an AWS config whose requests never leave the process:
// each is answered 200 with an empty EC2 reply, and sent lists the actions
// in the order they arrived.
func recordingConfig() (aws.Config, func() []string) {
	var mu sync.Mutex
	var actions []string
	client := doerFunc(func(r *http.Request) (*http.Response, error) {
		b, _ := io.ReadAll(r.Body)
		q, _ := url.ParseQuery(string(b))
		mu.Lock()
		actions = append(actions, q.Get("Action"))
		mu.Unlock()
		return &http.Response{StatusCode: 200, Header: http.Header{}, Request: r,
			Body: io.NopCloser(strings.NewReader(`<Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><return>true</return></Response>`))}, nil
	})
	cfg := aws.Config{Region: "us-east-1", HTTPClient: client, BaseEndpoint: aws.String("http://127.0.0.1:1"),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""), Retryer: func() aws.Retryer { return aws.NopRetryer{} }}
	return cfg, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(actions)
	}
}

type doerFunc func(*http.Request) (*http.Response, error)

func (f doerFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

// heldAuditor holds every start record until release is closed, and
// notes what it was asked to write.
type heldAuditor struct {
	release chan struct{}
	mu      sync.Mutex
	events  []string
}

func (a *heldAuditor) Append(ctx context.Context, r audit.Record) (audit.Record, error) {
	if r.Event == "start" {
		select {
		case <-a.release:
		case <-ctx.Done():
			return r, ctx.Err()
		}
	}
	a.mu.Lock()
	a.events = append(a.events, r.Event)
	a.mu.Unlock()
	return r, nil
}

// TestStartGate: the handler's reads go while the start record is being
// written; its first change waits until the record is on the chain, and a
// request on an Ungated context does not wait.
func TestStartGate(t *testing.T) {
	cfg, sent := recordingConfig()
	ec2c := ec2.NewFromConfig(withStartGate(cfg))
	a := &heldAuditor{release: make(chan struct{})}
	var readBeforeStart, ungatedBeforeStart bool
	rt := &Runtime{Action: "stop-task", Log: NewLogger(io.Discard), Audit: a,
		Handle: func(ctx context.Context, _ *contract.Payload) (*contract.Result, error) {
			if _, err := ec2c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{}); err != nil {
				t.Errorf("describe: %v", err)
			}
			readBeforeStart = len(a.events) == 0
			if _, err := ec2c.CreateTags(Ungated(ctx), &ec2.CreateTagsInput{Resources: []string{"eni-1"}, Tags: []ec2types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}); err != nil {
				t.Errorf("create tags: %v", err)
			}
			ungatedBeforeStart = len(a.events) == 0
			time.AfterFunc(50*time.Millisecond, func() { close(a.release) })
			if _, err := ec2c.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String("eni-1")}); err != nil {
				return nil, err
			}
			a.mu.Lock()
			defer a.mu.Unlock()
			if !slices.Equal(a.events, []string{"start"}) {
				return nil, errors.New("the change was sent before the start record was written")
			}
			return &contract.Result{Status: contract.StatusOK, Summary: "done"}, nil
		}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := rt.Invoke(ctx, json.RawMessage(deadlinePayload)); err != nil {
		t.Fatal(err)
	}
	if !readBeforeStart || !ungatedBeforeStart {
		t.Errorf("read before start %v, ungated write before start %v; want both", readBeforeStart, ungatedBeforeStart)
	}
	if got := sent(); !slices.Equal(got, []string{"DescribeNetworkInterfaces", "CreateTags", "DeleteNetworkInterface"}) {
		t.Errorf("sent %v", got)
	}
	if !slices.Equal(a.events, []string{"start", "result"}) {
		t.Errorf("audit events %v; want start, result", a.events)
	}
}

func TestReadOnly(t *testing.T) {
	for op, want := range map[string]bool{
		"DescribeTasks": true, "ListTasks": true, "GetItem": true, "Query": true, "GenerateMac": true, "AssumeRole": true,
		"PutItem": false, "CreateNetworkAclEntry": false, "ModifyNetworkInterfaceAttribute": false, "SendCommand": false,
		"StopTask": false, "TagResource": false, "UpdateService": false, "PutObject": false, "": false,
	} {
		if readOnly(op) != want {
			t.Errorf("readOnly(%q) = %v; want %v", op, !want, want)
		}
	}
}
