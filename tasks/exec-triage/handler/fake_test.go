package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
	"github.com/google/shlex"

	"github.com/irflow/irflow/internal/s3fake"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/ecsexec"
	"github.com/irflow/irflow/tasks/ecsexec/triage/triagetest"
	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/taskrt"
)

const (
	taskArn    = "arn:aws:ecs:us-east-1:111122223333:task/payments/0f8e7d6c5b4a39281706f5e4d3c2b1a0"
	clusterArn = "arn:aws:ecs:us-east-1:111122223333:cluster/payments"
	defArn     = "arn:aws:ecs:us-east-1:111122223333:task-definition/payments-api:42"
)

func apiErr(code, msg string) error { return &smithy.GenericAPIError{Code: code, Message: msg} }

// fakeECS answers from function fields and records every call.
type fakeECS struct {
	mu    sync.Mutex
	tasks func(*ecs.DescribeTasksInput) (*ecs.DescribeTasksOutput, error)
	def   func(*ecs.DescribeTaskDefinitionInput) (*ecs.DescribeTaskDefinitionOutput, error)
	exec  func(*ecs.ExecuteCommandInput) (*ecs.ExecuteCommandOutput, error)
	calls []string
	execs []*ecs.ExecuteCommandInput
}

var _ ecsAPI = (*fakeECS)(nil)

func (f *fakeECS) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

func (f *fakeECS) DescribeTasks(_ context.Context, in *ecs.DescribeTasksInput, _ ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error) {
	f.record("DescribeTasks")
	return f.tasks(in)
}

func (f *fakeECS) DescribeTaskDefinition(_ context.Context, in *ecs.DescribeTaskDefinitionInput, _ ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error) {
	f.record("DescribeTaskDefinition")
	return f.def(in)
}

func (f *fakeECS) ExecuteCommand(_ context.Context, in *ecs.ExecuteCommandInput, _ ...func(*ecs.Options)) (*ecs.ExecuteCommandOutput, error) {
	f.record("ExecuteCommand " + aws.ToString(in.Container))
	f.mu.Lock()
	f.execs = append(f.execs, in)
	f.mu.Unlock()
	return f.exec(in)
}

// shellOf is the shell word of an ExecuteCommand's command.
func shellOf(in *ecs.ExecuteCommandInput) string {
	w, _ := shlex.Split(aws.ToString(in.Command))
	if len(w) == 0 {
		return ""
	}
	return w[0]
}

// container is one container of a described task.
type container struct {
	name      string
	essential bool
	agent     string // the ExecuteCommandAgent's lastStatus; "" for none
}

// world is a task as the fake ECS describes it.
type world struct {
	status     string
	exec       bool
	containers []container
	gone       bool
}

func runningTask(cs ...container) world {
	if len(cs) == 0 {
		cs = []container{{name: "api", essential: true, agent: "RUNNING"}}
	}
	return world{status: "RUNNING", exec: true, containers: cs}
}

// ecsFor describes w; ExecuteCommand answers session (or its error).
func ecsFor(w world, session func(*ecs.ExecuteCommandInput) (*ecs.ExecuteCommandOutput, error)) *fakeECS {
	return &fakeECS{
		tasks: func(in *ecs.DescribeTasksInput) (*ecs.DescribeTasksOutput, error) {
			if w.gone {
				return &ecs.DescribeTasksOutput{Failures: []ecstypes.Failure{{Arn: aws.String(taskArn), Reason: aws.String("MISSING")}}}, nil
			}
			t := ecstypes.Task{TaskArn: aws.String(taskArn), ClusterArn: aws.String(clusterArn), TaskDefinitionArn: aws.String(defArn),
				LastStatus: aws.String(w.status), EnableExecuteCommand: w.exec}
			for _, c := range w.containers {
				ct := ecstypes.Container{Name: aws.String(c.name)}
				if c.agent != "" {
					ct.ManagedAgents = []ecstypes.ManagedAgent{{Name: ecstypes.ManagedAgentNameExecuteCommandAgent, LastStatus: aws.String(c.agent)}}
				}
				t.Containers = append(t.Containers, ct)
			}
			return &ecs.DescribeTasksOutput{Tasks: []ecstypes.Task{t}}, nil
		},
		def: func(*ecs.DescribeTaskDefinitionInput) (*ecs.DescribeTaskDefinitionOutput, error) {
			td := &ecstypes.TaskDefinition{TaskDefinitionArn: aws.String(defArn)}
			for _, c := range w.containers {
				td.ContainerDefinitions = append(td.ContainerDefinitions, ecstypes.ContainerDefinition{Name: aws.String(c.name), Essential: aws.Bool(c.essential)})
			}
			return &ecs.DescribeTaskDefinitionOutput{TaskDefinition: td}, nil
		},
		exec: session,
	}
}

// opened answers ExecuteCommand with a session named after the container.
func opened(in *ecs.ExecuteCommandInput) (*ecs.ExecuteCommandOutput, error) {
	id := "ecs-execute-command-" + aws.ToString(in.Container)
	return &ecs.ExecuteCommandOutput{Session: &ecstypes.Session{SessionId: aws.String(id),
		StreamUrl: aws.String("wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/" + id), TokenValue: aws.String("token")}}, nil
}

func refusedWith(code, msg string) func(*ecs.ExecuteCommandInput) (*ecs.ExecuteCommandOutput, error) {
	return func(*ecs.ExecuteCommandInput) (*ecs.ExecuteCommandOutput, error) { return nil, apiErr(code, msg) }
}

// collectorRunner is a session runner without a data channel: it runs the
// last command ExecuteCommand received in the fake container, as the agent
// would, and writes its output through a pty-like "\r\n" translation; then
// it returns err (nil for a clean close).
func collectorRunner(t *testing.T, f *fakeECS, root *triagetest.Root, err error) SessionRunner {
	return func(ctx context.Context, _ ecsexec.Session, _ io.Reader, stdout io.Writer, l ecsexec.Limits) (ecsexec.Result, error) {
		f.mu.Lock()
		in := f.execs[len(f.execs)-1]
		f.mu.Unlock()
		argv, serr := shlex.Split(aws.ToString(in.Command))
		if serr != nil {
			t.Fatalf("the agent cannot split the command: %v", serr)
		}
		var out bytes.Buffer
		root.Container()(ctx, argv, bytes.NewReader(nil), &out)
		b := out.Bytes()
		if l.MaxOutputBytes > 0 && int64(len(b)) > l.MaxOutputBytes {
			stdout.Write(b[:l.MaxOutputBytes])
			return ecsexec.Result{OutputBytes: l.MaxOutputBytes}, &ecsexec.OutputLimitError{Limit: l.MaxOutputBytes}
		}
		stdout.Write(b)
		return ecsexec.Result{OutputBytes: int64(len(b))}, err
	}
}

// failingRunner writes output, then fails with err.
func failingRunner(output string, err error) SessionRunner {
	return func(_ context.Context, _ ecsexec.Session, _ io.Reader, stdout io.Writer, _ ecsexec.Limits) (ecsexec.Result, error) {
		io.WriteString(stdout, output)
		return ecsexec.Result{}, err
	}
}

func newHandler(f *fakeECS, run SessionRunner) (*Handler, *s3fake.Bucket) {
	s3c := &s3fake.Bucket{}
	return &Handler{ECS: f, Run: run, Evidence: &taskrt.EvidenceWriter{S3: s3c, Bucket: "evidence"},
		Now: func() time.Time { return time.Date(2026, 11, 20, 14, 2, 30, 0, time.UTC) }}, s3c
}

// payload is a FARGATE step payload for the example finding's task; with
// is the step's `with:` JSON.
func payload(t *testing.T, with string, dryRun bool, finding *incident.Finding) *contract.Payload {
	t.Helper()
	if with == "" {
		with = "{}"
	}
	return &contract.Payload{Action: "exec-triage", Step: "triage", With: json.RawMessage(with),
		Incident:  &incident.Incident{CaseID: "case-1", TaskArn: taskArn, ClusterArn: clusterArn, DryRun: dryRun, Finding: finding},
		Target:    &incident.Target{LaunchType: "FARGATE", TaskArn: taskArn, ClusterArn: clusterArn},
		Execution: contract.Execution{ID: "arn:aws:states:us-east-1:111122223333:execution:irflow-crypto-mining:case-1"}}
}

// minerFinding names the fake container's miner the way GuardDuty would.
func minerFinding(containers ...string) *incident.Finding {
	return &incident.Finding{ID: "f1", Type: "Impact:Runtime/CryptoMinerExecuted", Containers: containers,
		Process: &incident.Process{Name: "xmrig", ExecutablePath: triagetest.MinerPath, Pid: 4242, NamespacePid: triagetest.MinerPID,
			ExecutableSha256: strings.Repeat("3d", 32)}}
}

func fakeRoot(t *testing.T, image triagetest.Image) *triagetest.Root {
	t.Helper()
	r, err := triagetest.Write(t.TempDir(), triagetest.Options{Image: image})
	if err != nil {
		t.Skip(err)
	}
	return r
}

func outputs[T any](t *testing.T, res *contract.Result, key string) T {
	t.Helper()
	var v T
	b, _ := json.Marshal(res.Outputs[key])
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("outputs.%s: %v", key, err)
	}
	return v
}

func keysOf(s *s3fake.Bucket) string {
	ks := s.Keys()
	return fmt.Sprint(len(ks), ks)
}
