package handler

import (
	"context"
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/irflow/irflow/internal/faketags"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
)

const (
	acct       = "111122223333"
	arnPrefix  = "arn:aws:ecs:us-east-1:" + acct + ":"
	serviceArn = arnPrefix + "service/prod/payments"
	cluster    = arnPrefix + "cluster/prod"
)

func rev(family string, n int) string {
	return arnPrefix + "task-definition/" + family + ":" + strconv.Itoa(n)
}
func digest(c byte) string { return "sha256:" + strings.Repeat(string(c), 64) }
func taskArn(id string) string {
	return arnPrefix + "task/prod/" + id
}

func apiErr(code string) error { return &smithy.GenericAPIError{Code: code, Message: code + " (fake)"} }

// fakeECS is one service, its family's revisions and its tasks.
type fakeECS struct {
	svc   *ecstypes.Service
	defs  map[string]*ecstypes.TaskDefinition // ARN → definition
	tasks []ecstypes.Task
	// page is ListTaskDefinitions' page size; the answer is unsorted (moto
	// ignores sort), so the handler must order the revisions itself.
	page int
	// taskPage is ListTasks' page size; 0 answers in one page, as moto does.
	taskPage int
	fail     map[string]error
	calls    []string
}

var _ ecsAPI = (*fakeECS)(nil)

func (f *fakeECS) call(name string) error {
	f.calls = append(f.calls, name)
	return f.fail[strings.Fields(name)[0]]
}

func (f *fakeECS) DescribeServices(_ context.Context, in *ecs.DescribeServicesInput, _ ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	if err := f.call("DescribeServices"); err != nil {
		return nil, err
	}
	svc := *f.svc
	svc.Tags = append([]ecstypes.Tag{}, f.svc.Tags...)
	return &ecs.DescribeServicesOutput{Services: []ecstypes.Service{svc}}, nil
}

func (f *fakeECS) TagResource(_ context.Context, in *ecs.TagResourceInput, _ ...func(*ecs.Options)) (*ecs.TagResourceOutput, error) {
	if err := f.call("TagResource"); err != nil {
		return nil, err
	}
	f.svc.Tags = faketags.Apply(f.svc.Tags, in.Tags, func(t ecstypes.Tag) *string { return t.Key })
	return &ecs.TagResourceOutput{}, nil
}

func (f *fakeECS) UpdateService(_ context.Context, in *ecs.UpdateServiceInput, _ ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error) {
	if err := f.call("UpdateService"); err != nil {
		return nil, err
	}
	if in.DesiredCount != nil {
		f.svc.DesiredCount = *in.DesiredCount
	}
	if in.TaskDefinition != nil {
		f.svc.TaskDefinition = in.TaskDefinition
	}
	return &ecs.UpdateServiceOutput{Service: f.svc}, nil
}

func (f *fakeECS) DescribeTasks(_ context.Context, in *ecs.DescribeTasksInput, _ ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error) {
	if err := f.call("DescribeTasks"); err != nil {
		return nil, err
	}
	out := &ecs.DescribeTasksOutput{}
	for _, want := range in.Tasks {
		for _, t := range f.tasks {
			if aws.ToString(t.TaskArn) == want {
				out.Tasks = append(out.Tasks, t)
			}
		}
	}
	return out, nil
}

// ListTasks ignores serviceName, as moto does.
func (f *fakeECS) ListTasks(_ context.Context, in *ecs.ListTasksInput, _ ...func(*ecs.Options)) (*ecs.ListTasksOutput, error) {
	if err := f.call("ListTasks"); err != nil {
		return nil, err
	}
	var arns []string
	for _, t := range f.tasks {
		arns = append(arns, aws.ToString(t.TaskArn))
	}
	if f.taskPage == 0 {
		return &ecs.ListTasksOutput{TaskArns: arns}, nil
	}
	start := 0
	if in.NextToken != nil {
		start, _ = strconv.Atoi(*in.NextToken)
	}
	end := min(start+f.taskPage, len(arns))
	out := &ecs.ListTasksOutput{TaskArns: arns[start:end]}
	if end < len(arns) {
		out.NextToken = aws.String(strconv.Itoa(end))
	}
	return out, nil
}

func (f *fakeECS) ListTaskDefinitions(_ context.Context, in *ecs.ListTaskDefinitionsInput, _ ...func(*ecs.Options)) (*ecs.ListTaskDefinitionsOutput, error) {
	if err := f.call("ListTaskDefinitions"); err != nil {
		return nil, err
	}
	var arns []string
	for arn, d := range f.defs {
		if aws.ToString(d.Family) == aws.ToString(in.FamilyPrefix) && d.Status == in.Status {
			arns = append(arns, arn)
		}
	}
	sort.Strings(arns) // lexical, not by revision: ":10" before ":9"
	start := 0
	if in.NextToken != nil {
		start, _ = strconv.Atoi(*in.NextToken)
	}
	page := f.page
	if page == 0 {
		page = 100
	}
	end := min(start+page, len(arns))
	out := &ecs.ListTaskDefinitionsOutput{TaskDefinitionArns: arns[start:end]}
	if end < len(arns) {
		out.NextToken = aws.String(strconv.Itoa(end))
	}
	return out, nil
}

func (f *fakeECS) DescribeTaskDefinition(_ context.Context, in *ecs.DescribeTaskDefinitionInput, _ ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error) {
	arn := aws.ToString(in.TaskDefinition)
	if err := f.call("DescribeTaskDefinition " + arn[strings.LastIndexByte(arn, '/')+1:]); err != nil {
		return nil, err
	}
	d, ok := f.defs[arn]
	if !ok {
		return nil, apiErr("ClientException")
	}
	return &ecs.DescribeTaskDefinitionOutput{TaskDefinition: d}, nil
}

// mutations are the calls that change something.
func (f *fakeECS) mutations() []string {
	var out []string
	for _, c := range f.calls {
		if c == "TagResource" || c == "UpdateService" {
			out = append(out, c)
		}
	}
	return out
}

// def registers a revision of family api whose containers have the images
// given as name=image.
func (f *fakeECS) def(n int, images ...string) string {
	arn := rev("api", n)
	d := &ecstypes.TaskDefinition{TaskDefinitionArn: aws.String(arn), Family: aws.String("api"), Revision: int32(n), Status: ecstypes.TaskDefinitionStatusActive}
	for _, im := range images {
		name, image, _ := strings.Cut(im, "=")
		d.ContainerDefinitions = append(d.ContainerDefinitions, ecstypes.ContainerDefinition{Name: aws.String(name), Image: aws.String(image)})
	}
	f.defs[arn] = d
	return arn
}

// serviceTask is a running task of the service (or of group) with one app
// container of the given reported digest.
func serviceTask(id, group, reported string) ecstypes.Task {
	c := ecstypes.Container{Name: aws.String("app"), Image: aws.String("api:1.4")}
	if reported != "" {
		c.ImageDigest = aws.String(reported)
	}
	return ecstypes.Task{TaskArn: aws.String(taskArn(id)), Group: aws.String(group), DesiredStatus: aws.String("RUNNING"), Containers: []ecstypes.Container{c},
		TaskDefinitionArn: aws.String(rev("api", 4))}
}

var (
	dBad   = digest('b')
	dClean = digest('c')
	dOld   = digest('d')
	dSide  = digest('e')
)

const repo = "111122223333.dkr.ecr.us-east-1.amazonaws.com/api"

// world is the payments service on revision 4 of family api, compromised:
// revision 3 pins the same digest, revision 2 names its image by tag,
// revision 1 pins an older, clean digest; revision 5 (newer) is clean.
func world() (*fakeECS, *incident.Target) {
	f := &fakeECS{defs: map[string]*ecstypes.TaskDefinition{}}
	f.def(1, "app="+repo+"@"+dOld)
	f.def(2, "app="+repo+":1.3")
	f.def(3, "app="+repo+"@"+dBad)
	f.def(4, "app="+repo+"@"+dBad)
	f.def(5, "app="+repo+"@"+dClean)
	f.svc = &ecstypes.Service{ServiceName: aws.String("payments"), ServiceArn: aws.String(serviceArn), Status: aws.String("ACTIVE"),
		DesiredCount: 3, TaskDefinition: aws.String(rev("api", 4)),
		Deployments: []ecstypes.Deployment{{Id: aws.String("ecs-svc/1"), Status: aws.String("PRIMARY"), TaskDefinition: aws.String(rev("api", 4)),
			DesiredCount: 3, RunningCount: 3, RolloutState: ecstypes.DeploymentRolloutStateCompleted}}}
	f.tasks = []ecstypes.Task{
		serviceTask("target", "service:payments", dBad),
		serviceTask("replacement", "service:payments", dBad),
		serviceTask("healthy", "service:payments", dClean),
		serviceTask("pulling", "service:payments", ""),
		serviceTask("other-service", "service:ledger", dBad),
	}
	target := &incident.Target{LaunchType: "FARGATE", TaskArn: taskArn("target"), ClusterArn: cluster, TaskDefinitionArn: rev("api", 4),
		Group: "service:payments", Service: "payments",
		Containers: []incident.Container{{Name: "app", Image: repo + "@" + dBad, ImageDigest: dBad}}}
	return f, target
}

func payload(target *incident.Target, caseID string, dry bool, with string) *contract.Payload {
	return &contract.Payload{Action: "pin-service", Step: "pin", With: json.RawMessage(with),
		Incident: &incident.Incident{CaseID: caseID, DryRun: dry, ClusterArn: cluster}, Target: target}
}

func tagOf(svc *ecstypes.Service, key string) string {
	for _, t := range svc.Tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

func tag(k, v string) ecstypes.Tag { return ecstypes.Tag{Key: aws.String(k), Value: aws.String(v)} }

// out reads an output through JSON, as the state machine sees it.
func out(r *contract.Result, key string) any {
	b, _ := json.Marshal(r.Outputs[key])
	var v any
	json.Unmarshal(b, &v)
	return v
}
