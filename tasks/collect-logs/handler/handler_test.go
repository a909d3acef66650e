package handler

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/irflow/irflow/internal/s3fake"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/taskrt"
)

func apiErr(code, msg string) error { return &smithy.GenericAPIError{Code: code, Message: msg} }

type fakeECS struct {
	def *ecstypes.TaskDefinition
	err error
}

var _ ecsAPI = (*fakeECS)(nil)

func (f *fakeECS) DescribeTaskDefinition(context.Context, *ecs.DescribeTaskDefinitionInput, ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error) {
	return &ecs.DescribeTaskDefinitionOutput{TaskDefinition: f.def}, f.err
}

type fakeLogs struct {
	filter func(*cloudwatchlogs.FilterLogEventsInput) (*cloudwatchlogs.FilterLogEventsOutput, error)
	calls  []cloudwatchlogs.FilterLogEventsInput
}

var _ logsAPI = (*fakeLogs)(nil)

func (f *fakeLogs) FilterLogEvents(_ context.Context, in *cloudwatchlogs.FilterLogEventsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error) {
	f.calls = append(f.calls, *in)
	return f.filter(in)
}

const taskArn = "arn:aws:ecs:us-east-1:111122223333:task/payments/0f8e7d6c5b4a39281706f5e4d3c2b1a0"

var now = time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)

func awslogs(opts map[string]string) *ecstypes.LogConfiguration {
	return &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs, Options: opts}
}

func container(name string, lc *ecstypes.LogConfiguration) ecstypes.ContainerDefinition {
	return ecstypes.ContainerDefinition{Name: aws.String(name), LogConfiguration: lc}
}

// pages serves n events per page over the given number of pages.
func pages(n, count int, msg string) func(*cloudwatchlogs.FilterLogEventsInput) (*cloudwatchlogs.FilterLogEventsOutput, error) {
	return func(in *cloudwatchlogs.FilterLogEventsInput) (*cloudwatchlogs.FilterLogEventsOutput, error) {
		page := 0
		if in.NextToken != nil {
			fmt.Sscan(*in.NextToken, &page)
		}
		out := &cloudwatchlogs.FilterLogEventsOutput{}
		for i := 0; i < n; i++ {
			out.Events = append(out.Events, cwltypes.FilteredLogEvent{Timestamp: aws.Int64(int64(page*n + i)), Message: aws.String(msg), EventId: aws.String(fmt.Sprint(page*n + i))})
		}
		if page+1 < count {
			out.NextToken = aws.String(fmt.Sprint(page + 1))
		}
		return out, nil
	}
}

func setup(def *ecstypes.TaskDefinition, logs *fakeLogs) (*Handler, *s3fake.Bucket) {
	s := &s3fake.Bucket{}
	return &Handler{ECS: &fakeECS{def: def}, Logs: logs, Region: "us-east-1", Evidence: &taskrt.EvidenceWriter{S3: s, Bucket: "ev"},
		Now: func() time.Time { return now }}, s
}

func payload(with string) *contract.Payload {
	return &contract.Payload{Action: "collect-logs", Step: "logs", With: json.RawMessage(with),
		Incident: &incident.Incident{CaseID: "case-1", ReceivedAt: "2026-11-20T14:30:00Z",
			Finding: &incident.Finding{CreatedAt: "2026-11-20T14:01:59Z"}},
		Target: &incident.Target{TaskArn: taskArn, TaskDefinitionArn: "td/api:1",
			Containers: []incident.Container{{Name: "sidecar", RuntimeID: "abc123"}}}}
}

func lines(t *testing.T, gz []byte) []line {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(r)
	var out []line
	for _, l := range strings.Split(strings.TrimSpace(string(text)), "\n") {
		if l == "" {
			continue
		}
		var x line
		if err := json.Unmarshal([]byte(l), &x); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		out = append(out, x)
	}
	return out
}

func TestCollect(t *testing.T) {
	def := &ecstypes.TaskDefinition{ContainerDefinitions: []ecstypes.ContainerDefinition{
		container("api", awslogs(map[string]string{"awslogs-group": "/ecs/app", "awslogs-stream-prefix": "web"})),
		container("sidecar", awslogs(map[string]string{"awslogs-group": "/ecs/side", "awslogs-region": "eu-west-1"})),
		container("router", &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwsfirelens}),
		container("quiet", nil),
	}}
	logs, eu := &fakeLogs{filter: pages(3, 2, "hello")}, &fakeLogs{filter: pages(1, 1, "side")}
	h, s := setup(def, logs)
	var regions []string
	h.LogsIn = func(r string) logsAPI { regions = append(regions, r); return eu }
	for _, dryRun := range []bool{false, true} { // read-only: a dry run collects too
		p := payload(`{"lookbackMinutes":30,"filterPattern":"ERROR"}`)
		p.Incident.DryRun = dryRun
		r, err := h.Handle(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != contract.StatusOK || len(r.Evidence) != 2 || len(r.Outputs["skipped"].([]skip)) != 2 {
			t.Fatalf("result %+v", r)
		}
	}
	in := logs.calls[0]
	if aws.ToString(in.LogGroupName) != "/ecs/app" || in.LogStreamNames[0] != "web/api/0f8e7d6c5b4a39281706f5e4d3c2b1a0" ||
		aws.ToInt64(in.StartTime) != time.Date(2026, 11, 20, 13, 31, 59, 0, time.UTC).UnixMilli() || aws.ToInt64(in.EndTime) != now.UnixMilli() ||
		aws.ToString(in.FilterPattern) != "ERROR" {
		t.Errorf("FilterLogEvents input %+v; want the finding time minus 30 minutes until now", in)
	}
	if got := lines(t, s.Objects["cases/case-1/logs/logs-api.jsonl.gz"]); len(got) != 6 || got[5].EventID != "5" {
		t.Errorf("api lines %+v; want both pages", got)
	}
	if eu.calls[0].LogStreamNames[0] != "abc123" || strings.Join(regions, ",") != "eu-west-1,eu-west-1" {
		t.Errorf("sidecar read stream %v in %v; want its runtime id in its awslogs-region", eu.calls[0].LogStreamNames, regions)
	}
}

func TestCollectTruncates(t *testing.T) {
	def := &ecstypes.TaskDefinition{ContainerDefinitions: []ecstypes.ContainerDefinition{
		container("api", awslogs(map[string]string{"awslogs-group": "/ecs/app", "awslogs-stream-prefix": "web"}))}}
	h, s := setup(def, &fakeLogs{filter: pages(10, 100, strings.Repeat("x", 200))})
	r, err := h.Handle(context.Background(), payload(`{"maxBytes":1024}`))
	if err != nil {
		t.Fatal(err)
	}
	c := r.Outputs["containers"].([]collected)[0]
	got := lines(t, s.Objects["cases/case-1/logs/logs-api.jsonl.gz"])
	if !c.Truncated || c.Bytes > 1024 || c.Events != len(got) || c.Events == 0 || c.Note == "" || !strings.Contains(r.Summary, "truncated") {
		t.Errorf("collected %+v with %d lines; want a truncated copy under 1024 bytes", c, len(got))
	}
}

func TestCollectSkips(t *testing.T) {
	firelens := &ecstypes.TaskDefinition{ContainerDefinitions: []ecstypes.ContainerDefinition{
		container("router", &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwsfirelens}),
		container("noprefix", awslogs(map[string]string{"awslogs-group": "/g"}))}}
	gone := &ecstypes.TaskDefinition{ContainerDefinitions: []ecstypes.ContainerDefinition{
		container("api", awslogs(map[string]string{"awslogs-group": "/deleted", "awslogs-stream-prefix": "web"}))}}
	notFound := func(*cloudwatchlogs.FilterLogEventsInput) (*cloudwatchlogs.FilterLogEventsOutput, error) {
		return nil, apiErr("ResourceNotFoundException", "The specified log group does not exist.")
	}
	for name, def := range map[string]*ecstypes.TaskDefinition{"no awslogs": firelens, "group deleted": gone} {
		h, s := setup(def, &fakeLogs{filter: notFound})
		r, err := h.Handle(context.Background(), payload(`{}`))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if r.Status != contract.StatusSkipped || len(s.Objects) != 0 || len(r.Outputs["skipped"].([]skip)) != len(def.ContainerDefinitions) {
			t.Errorf("%s: result %+v", name, r)
		}
	}
}

// TestCollectOtherRegionDenied: the role reads its own region's log groups;
// another region's denial skips that container instead of failing the step.
func TestCollectOtherRegionDenied(t *testing.T) {
	def := &ecstypes.TaskDefinition{ContainerDefinitions: []ecstypes.ContainerDefinition{
		container("api", awslogs(map[string]string{"awslogs-group": "/ecs/app", "awslogs-stream-prefix": "web"})),
		container("sidecar", awslogs(map[string]string{"awslogs-group": "/ecs/side", "awslogs-stream-prefix": "s", "awslogs-region": "eu-west-1"}))}}
	h, _ := setup(def, &fakeLogs{filter: pages(1, 1, "x")})
	h.LogsIn = func(string) logsAPI {
		return &fakeLogs{filter: func(*cloudwatchlogs.FilterLogEventsInput) (*cloudwatchlogs.FilterLogEventsOutput, error) {
			return nil, apiErr("AccessDeniedException", "not authorized")
		}}
	}
	r, err := h.Handle(context.Background(), payload(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if sk := r.Outputs["skipped"].([]skip); r.Status != contract.StatusOK || len(sk) != 1 || !strings.Contains(sk[0].Reason, "another region") {
		t.Errorf("result %+v", r)
	}
}

func TestCollectErrors(t *testing.T) {
	def := &ecstypes.TaskDefinition{ContainerDefinitions: []ecstypes.ContainerDefinition{
		container("api", awslogs(map[string]string{"awslogs-group": "/ecs/app", "awslogs-stream-prefix": "web"}))}}
	fail := func(err error) func(*cloudwatchlogs.FilterLogEventsInput) (*cloudwatchlogs.FilterLogEventsOutput, error) {
		return func(*cloudwatchlogs.FilterLogEventsInput) (*cloudwatchlogs.FilterLogEventsOutput, error) {
			return nil, err
		}
	}
	tests := []struct {
		name, with string
		filter     func(*cloudwatchlogs.FilterLogEventsInput) (*cloudwatchlogs.FilterLogEventsOutput, error)
		ecsErr     error
		noTarget   bool
		want       string
	}{
		{name: "no target", noTarget: true, want: "InvalidInputError"},
		{name: "lookback too long", with: `{"lookbackMinutes":20000}`, want: "InvalidInputError"},
		{name: "maxBytes too small", with: `{"maxBytes":10}`, want: "InvalidInputError"},
		{name: "unknown param", with: `{"since":"1h"}`, want: "InvalidInputError"},
		{name: "bad pattern", with: `{"filterPattern":"{ $.x = "}`, filter: fail(apiErr("InvalidParameterException", "Invalid filter pattern")), want: "InvalidInputError"},
		{name: "throttled", filter: fail(apiErr("ThrottlingException", "Rate exceeded")), want: "RetryableError"},
		{name: "denied", filter: fail(apiErr("AccessDeniedException", "no")), want: "PreconditionFailedError"},
		{name: "task definition gone", ecsErr: apiErr("ResourceNotFoundException", "gone"), want: "TargetNotFoundError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.filter
			if f == nil {
				f = pages(1, 1, "x")
			}
			h, _ := setup(def, &fakeLogs{filter: f})
			h.ECS.(*fakeECS).err = tt.ecsErr
			with := tt.with
			if with == "" {
				with = `{}`
			}
			p := payload(with)
			if tt.noTarget {
				p.Target = nil
			}
			_, err := h.Handle(context.Background(), p)
			if got := contract.ErrorName(err); got != tt.want {
				t.Errorf("error %v (%s); want %s", err, got, tt.want)
			}
		})
	}
}

func TestObjectName(t *testing.T) {
	long := strings.Repeat("c", 200)
	for _, name := range []string{"api", "_sidecar", long} {
		if _, err := taskrt.Key("case-1", "logs", objectName(name)); err != nil {
			t.Errorf("objectName(%.20q...) = %s: %v", name, objectName(name), err)
		}
	}
}
