package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/irflow/irflow/internal/s3fake"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/taskrt"
)

const (
	acct      = "111122223333"
	arnPrefix = "arn:aws:ecs:us-east-1:" + acct + ":"
)

func clusterArn(name string) string { return arnPrefix + "cluster/" + name }
func taskArn(cluster, id string) string {
	return arnPrefix + "task/" + cluster + "/" + id
}
func defArn(family string, rev int) string {
	return arnPrefix + "task-definition/" + family + ":" + strconv.Itoa(rev)
}
func digest(c byte) string { return "sha256:" + strings.Repeat(string(c), 64) }

func apiErr(code string) error { return &smithy.GenericAPIError{Code: code, Message: code + " (fake)"} }

// fakeECS is an account's clusters and tasks. Lists come back in pages of
// page items (AWS: at most 100), so pagination is exercised.
type fakeECS struct {
	clusters []string                   // names, in ListClusters order
	tasks    map[string][]ecstypes.Task // cluster name → tasks
	roles    map[string]string          // task definition ARN → task role
	page     int
	// leak adds these task ARNs to every ListTasks answer (moto's
	// substring match of cluster names).
	leak []string
	// sameToken makes ListTasks hand back its own token forever.
	sameToken bool
	fail      map[string]error // API name → error
	// delay holds every DescribeTaskDefinition call this long.
	delay time.Duration

	mu        sync.Mutex // the role look-ups call concurrently
	calls     []string
	batches   []int
	inFlight  int
	maxAtOnce int
}

func (f *fakeECS) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

var _ ecsAPI = (*fakeECS)(nil)

func (f *fakeECS) err(api string) error { return f.fail[api] }

func (f *fakeECS) pageOf(items []string, token *string) ([]string, *string) {
	start := 0
	if token != nil {
		start, _ = strconv.Atoi(*token)
	}
	end := min(start+f.page, len(items))
	var next *string
	if end < len(items) {
		next = aws.String(strconv.Itoa(end))
	}
	return items[start:end], next
}

func (f *fakeECS) ListClusters(_ context.Context, in *ecs.ListClustersInput, _ ...func(*ecs.Options)) (*ecs.ListClustersOutput, error) {
	f.record("ListClusters")
	if err := f.err("ListClusters"); err != nil {
		return nil, err
	}
	var arns []string
	for _, c := range f.clusters {
		arns = append(arns, clusterArn(c))
	}
	items, next := f.pageOf(arns, in.NextToken)
	return &ecs.ListClustersOutput{ClusterArns: items, NextToken: next}, nil
}

func clusterName(ref string) string { return ref[strings.LastIndexByte(ref, '/')+1:] }

func (f *fakeECS) ListTasks(_ context.Context, in *ecs.ListTasksInput, _ ...func(*ecs.Options)) (*ecs.ListTasksOutput, error) {
	name := clusterName(aws.ToString(in.Cluster))
	f.record("ListTasks " + name)
	if err := f.err("ListTasks"); err != nil {
		return nil, err
	}
	if in.DesiredStatus != ecstypes.DesiredStatusRunning || aws.ToInt32(in.MaxResults) != 100 {
		return nil, fmt.Errorf("ListTasks %+v: want desiredStatus RUNNING, maxResults 100", in)
	}
	var arns []string
	for _, t := range f.tasks[name] {
		arns = append(arns, aws.ToString(t.TaskArn))
	}
	if f.sameToken {
		return &ecs.ListTasksOutput{TaskArns: arns[:1], NextToken: aws.String("again")}, nil
	}
	items, next := f.pageOf(arns, in.NextToken)
	if in.NextToken == nil {
		items = append(append([]string{}, items...), f.leak...)
	}
	return &ecs.ListTasksOutput{TaskArns: items, NextToken: next}, nil
}

// DescribeTasks describes tasks of any cluster, as moto does; the handler
// must keep only the cluster's.
func (f *fakeECS) DescribeTasks(_ context.Context, in *ecs.DescribeTasksInput, _ ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error) {
	f.record("DescribeTasks")
	f.mu.Lock()
	f.batches = append(f.batches, len(in.Tasks))
	f.mu.Unlock()
	if err := f.err("DescribeTasks"); err != nil {
		return nil, err
	}
	if len(in.Tasks) > 100 {
		return nil, apiErr("InvalidParameterException")
	}
	out := &ecs.DescribeTasksOutput{}
	// As ECS: tags only with include TAGS (API_DescribeTasks, "include").
	tags := slices.Contains(in.Include, ecstypes.TaskFieldTags)
	for _, want := range in.Tasks {
		found := false
		for _, ts := range f.tasks {
			for _, t := range ts {
				if !tags {
					t.Tags = nil
				}
				if aws.ToString(t.TaskArn) == want {
					out.Tasks, found = append(out.Tasks, t), true
				}
			}
		}
		if !found {
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: aws.String(want), Reason: aws.String("MISSING")})
		}
	}
	return out, nil
}

func (f *fakeECS) DescribeTaskDefinition(ctx context.Context, in *ecs.DescribeTaskDefinitionInput, _ ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error) {
	f.record("DescribeTaskDefinition " + aws.ToString(in.TaskDefinition))
	f.mu.Lock()
	f.inFlight++
	f.maxAtOnce = max(f.maxAtOnce, f.inFlight)
	f.mu.Unlock()
	defer func() { f.mu.Lock(); f.inFlight--; f.mu.Unlock() }()
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err := f.err("DescribeTaskDefinition"); err != nil {
		return nil, err
	}
	return &ecs.DescribeTaskDefinitionOutput{TaskDefinition: &ecstypes.TaskDefinition{TaskDefinitionArn: in.TaskDefinition,
		TaskRoleArn: aws.String(f.roles[aws.ToString(in.TaskDefinition)])}}, nil
}

func (f *fakeECS) count(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

// container is a container of a fake task: its image and reported digest.
type container struct{ name, image, digest string }

// task builds a described task.
func task(cluster, id, def, ci string, cs ...container) ecstypes.Task {
	t := ecstypes.Task{TaskArn: aws.String(taskArn(cluster, id)), ClusterArn: aws.String(clusterArn(cluster)), TaskDefinitionArn: aws.String(def),
		DesiredStatus: aws.String("RUNNING"), LastStatus: aws.String("RUNNING"), Group: aws.String("family:x"), LaunchType: ecstypes.LaunchTypeFargate}
	if ci != "" {
		t.ContainerInstanceArn, t.LaunchType = aws.String(ci), ecstypes.LaunchTypeEc2
	}
	for _, c := range cs {
		ec := ecstypes.Container{Name: aws.String(c.name), Image: aws.String(c.image)}
		if c.digest != "" {
			ec.ImageDigest = aws.String(c.digest)
		}
		t.Containers = append(t.Containers, ec)
	}
	return t
}

func newHandler(f *fakeECS) (*Handler, *s3fake.Bucket) {
	s3 := &s3fake.Bucket{}
	return &Handler{ECS: f, Evidence: &taskrt.EvidenceWriter{S3: s3, Bucket: "evidence"}}, s3
}

func payload(target *incident.Target, with string) *contract.Payload {
	return &contract.Payload{Action: "find-siblings", Step: "siblings", With: json.RawMessage(with),
		Incident: &incident.Incident{CaseID: "case-1", ClusterArn: target.ClusterArn},
		Target:   target}
}

// lists returns the result's outputs.siblings as plain lists.
// wantLists fails the test for every list of the result whose task ids
// are not as wanted.
func wantLists(t *testing.T, res *contract.Result, want map[string]string) {
	t.Helper()
	got := listsOf(res)
	for k, w := range want {
		if ids(got[k]) != w {
			t.Errorf("%s: %s; want %s", k, ids(got[k]), w)
		}
	}
}

func listsOf(r *contract.Result) map[string][]string {
	b, _ := json.Marshal(r.Outputs["siblings"])
	var m map[string][]string
	json.Unmarshal(b, &m)
	for k := range m {
		sort.Strings(m[k])
	}
	return m
}

func countsOf(r *contract.Result) counts {
	b, _ := json.Marshal(r.Outputs["counts"])
	var c counts
	json.Unmarshal(b, &c)
	return c
}

func ids(arns []string) string {
	var out []string
	for _, a := range arns {
		out = append(out, a[strings.LastIndexByte(a, '/')+1:])
	}
	return strings.Join(out, ",")
}
