package handler

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	gdtypes "github.com/aws/aws-sdk-go-v2/service/guardduty/types"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
)

// The host finding of tasks/incident/testdata: instance hostID in cluster
// batch, where it is container instance hostCI next to another (otherCI).
const (
	hostFindingID = "e4f5a6b7c8d94e0fa1b2c3d4e5f6a7b8"
	hostID        = "i-0b1c2d3e4f5a69788"
	batchArn      = "arn:aws:ecs:us-east-1:111122223333:cluster/batch"
	hostCI        = "arn:aws:ecs:us-east-1:111122223333:container-instance/batch/hostci"
	otherCI       = "arn:aws:ecs:us-east-1:111122223333:container-instance/batch/otherci"
	hostTaskA     = "arn:aws:ecs:us-east-1:111122223333:task/batch/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	hostTaskB     = "arn:aws:ecs:us-east-1:111122223333:task/batch/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	hostTaskC     = "arn:aws:ecs:us-east-1:111122223333:task/batch/cccccccccccccccccccccccccccccccc"
)

// hostFakeECS adds the listing calls to the fake world's ECS. Like moto,
// ListContainerInstances ignores the filter (the handler checks each
// instance's ec2InstanceId); ListTasks answers in pages of two.
type hostFakeECS struct {
	*fakeECS
	clusters  []string
	instances map[string][]ecstypes.ContainerInstance // cluster ARN → its container instances
	tasksOn   map[string][]string                     // container instance ARN → running tasks
	listErr   error
	filters   []string
	listed    []string // ListTasks inputs: cluster containerInstance desiredStatus
}

var _ hostECS = (*hostFakeECS)(nil)

func (f *hostFakeECS) ListClusters(_ context.Context, in *ecs.ListClustersInput, _ ...func(*ecs.Options)) (*ecs.ListClustersOutput, error) {
	if in.NextToken == nil && len(f.clusters) > 1 {
		return &ecs.ListClustersOutput{ClusterArns: f.clusters[:1], NextToken: aws.String("1")}, nil
	}
	if in.NextToken == nil {
		return &ecs.ListClustersOutput{ClusterArns: f.clusters}, nil
	}
	return &ecs.ListClustersOutput{ClusterArns: f.clusters[1:]}, nil
}

func (f *hostFakeECS) ListContainerInstances(_ context.Context, in *ecs.ListContainerInstancesInput, _ ...func(*ecs.Options)) (*ecs.ListContainerInstancesOutput, error) {
	if f.listErr != nil {
		return nil, f.listErr
	}
	f.filters = append(f.filters, aws.ToString(in.Filter))
	out := &ecs.ListContainerInstancesOutput{ContainerInstanceArns: []string{}}
	for _, ci := range f.instances[aws.ToString(in.Cluster)] {
		out.ContainerInstanceArns = append(out.ContainerInstanceArns, aws.ToString(ci.ContainerInstanceArn))
	}
	return out, nil
}

func (f *hostFakeECS) DescribeContainerInstances(_ context.Context, in *ecs.DescribeContainerInstancesInput, _ ...func(*ecs.Options)) (*ecs.DescribeContainerInstancesOutput, error) {
	out := &ecs.DescribeContainerInstancesOutput{}
	for _, ci := range f.instances[aws.ToString(in.Cluster)] {
		for _, want := range in.ContainerInstances {
			if aws.ToString(ci.ContainerInstanceArn) == want {
				out.ContainerInstances = append(out.ContainerInstances, ci)
			}
		}
	}
	return out, nil
}

func (f *hostFakeECS) ListTasks(_ context.Context, in *ecs.ListTasksInput, _ ...func(*ecs.Options)) (*ecs.ListTasksOutput, error) {
	f.listed = append(f.listed, aws.ToString(in.Cluster)+" "+aws.ToString(in.ContainerInstance)+" "+string(in.DesiredStatus))
	all := f.tasksOn[aws.ToString(in.ContainerInstance)]
	if in.NextToken == nil && len(all) > 2 {
		return &ecs.ListTasksOutput{TaskArns: all[:2], NextToken: aws.String("2")}, nil
	}
	if in.NextToken == nil {
		return &ecs.ListTasksOutput{TaskArns: all}, nil
	}
	return &ecs.ListTasksOutput{TaskArns: all[2:]}, nil
}

// newHostWorld is the fake world with the host finding's instance: EC2
// describes whichever instance is asked for, and GuardDuty holds the
// finding on hostID.
func newHostWorld() (*Handler, *fakeDB, *hostFakeECS) {
	h, db := newWorld()
	base := h.EC2.(*fakeEC2).instances
	h.EC2.(*fakeEC2).instances = func(in *ec2.DescribeInstancesInput) (*ec2.DescribeInstancesOutput, error) {
		out, err := base(in)
		out.Reservations[0].Instances[0].InstanceId = aws.String(in.InstanceIds[0])
		return out, err
	}
	ci := func(arn, id string) ecstypes.ContainerInstance {
		return ecstypes.ContainerInstance{ContainerInstanceArn: aws.String(arn), Ec2InstanceId: aws.String(id), Status: aws.String("ACTIVE")}
	}
	f := &hostFakeECS{fakeECS: h.ECS.(*fakeECS), clusters: []string{"arn:aws:ecs:us-east-1:111122223333:cluster/payments", batchArn},
		instances: map[string][]ecstypes.ContainerInstance{
			"arn:aws:ecs:us-east-1:111122223333:cluster/payments": {ci(ciArn, "i-1")},
			batchArn: {ci(otherCI, "i-0fffffffffffffff0"), ci(hostCI, hostID)},
		},
		tasksOn: map[string][]string{hostCI: {hostTaskC, hostTaskA, hostTaskB}, otherCI: {ec2Arn}}}
	h.ECS = f
	h.GuardDuty = &fakeGuardDuty{findings: map[string][]gdtypes.Finding{sampleDetector: {{
		Id: aws.String(hostFindingID), AccountId: aws.String("111122223333"), Type: aws.String("PrivilegeEscalation:Runtime/ContainerMountsHostDirectory"),
		Resource: &gdtypes.Resource{ResourceType: aws.String("Instance"), InstanceDetails: &gdtypes.InstanceDetails{InstanceId: aws.String(hostID)},
			EcsClusterDetails: &gdtypes.EcsClusterDetails{Arn: aws.String(batchArn), Name: aws.String("batch")}},
	}}}}
	return h, db, f
}

// hostInput is the testdata host finding, edited by edit.
func hostInput(t *testing.T, edit func(res map[string]any)) string {
	t.Helper()
	b, err := os.ReadFile("../../incident/testdata/guardduty-ec2-host-mount.json")
	if err != nil {
		t.Fatal(err)
	}
	if edit == nil {
		return string(b)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m["detail"].(map[string]any)["resource"].(map[string]any))
	b, _ = json.Marshal(m)
	return string(b)
}

func TestResolveHostFinding(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(map[string]any)
		clusters int // ListContainerInstances calls: the finding's cluster, or each cluster up to the host's
	}{
		{name: "the finding names the cluster", clusters: 1},
		{name: "no cluster in the finding: every cluster", edit: func(r map[string]any) { delete(r, "ecsClusterDetails") }, clusters: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, db, f := newHostWorld()
			r, err := h.Handle(context.Background(), payloadFor(hostInput(t, tt.edit), hostsOn))
			if err != nil {
				t.Fatal(err)
			}
			inc, tg := outputs(t, r)
			if !inc.IsHost() || inc.InstanceID != hostID || inc.TaskArn != "" || inc.Requester == nil || !inc.Requester.Verified || inc.LaunchType != "EC2" {
				t.Errorf("incident %+v", inc)
			}
			if tg.TaskArn != "" || tg.InstanceID != hostID || tg.ContainerInstanceArn != hostCI || tg.ClusterArn != batchArn || tg.LaunchType != "EC2" ||
				strings.Join(tg.HostTasks, ",") != strings.Join([]string{hostTaskA, hostTaskB, hostTaskC}, ",") ||
				tg.AutoScalingGroup != "ecs-asg" || len(tg.VolumeIDs) != 1 || len(tg.ENIs) != 2 || tg.ENIs[0].ID != "eni-1" {
				t.Errorf("target %+v", tg)
			}
			b, _ := json.Marshal(tg)
			if strings.Contains(string(b), "null") {
				t.Errorf("target has a null list: %s", b)
			}
			if len(f.filters) != tt.clusters || f.filters[0] != "ec2InstanceId == "+hostID {
				t.Errorf("ListContainerInstances filters %v", f.filters)
			}
			if len(f.listed) != 2 || f.listed[0] != batchArn+" "+hostCI+" RUNNING" {
				t.Errorf("ListTasks %v; want the host's running tasks, two pages", f.listed)
			}
			lockKey := "host#arn:aws:ec2:us-east-1:111122223333:instance/" + hostID
			found := false
			for _, p := range db.puts {
				found = found || pkOf(p.Item) == lockKey
			}
			if !found || len(db.taskPuts()) != 0 {
				t.Errorf("no lock on the host (%s) or a task lock taken", lockKey)
			}
			if !strings.Contains(r.Summary, "container instance "+hostID) || !strings.Contains(r.Summary, "3 task(s) on it") {
				t.Errorf("summary %q", r.Summary)
			}
		})
	}
}

func TestResolveHostFindingRefusals(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(*Handler, *hostFakeECS)
		edit    func(map[string]any)
		wantErr string
		want    string
	}{
		{name: "no ECS agent on the instance", setup: func(_ *Handler, f *hostFakeECS) { f.instances[batchArn] = f.instances[batchArn][:1] },
			wantErr: "TargetNotFoundError", want: "no ECS agent registered it"},
		{name: "not in any cluster", edit: func(r map[string]any) { delete(r, "ecsClusterDetails") },
			setup:   func(_ *Handler, f *hostFakeECS) { f.instances[batchArn] = nil },
			wantErr: "TargetNotFoundError", want: "any of the 2 clusters"},
		{name: "a deregistered container instance", setup: func(_ *Handler, f *hostFakeECS) { f.instances[batchArn][1].Status = aws.String("INACTIVE") },
			wantErr: "TargetNotFoundError", want: hostID},
		{name: "GuardDuty's finding names another instance", setup: func(h *Handler, _ *hostFakeECS) {
			h.GuardDuty.(*fakeGuardDuty).findings[sampleDetector][0].Resource.InstanceDetails.InstanceId = aws.String("i-0aaaaaaaaaaaaaaaa")
		}, wantErr: "InvalidInputError", want: "names instance"},
		{name: "ListContainerInstances throttled", setup: func(_ *Handler, f *hostFakeECS) { f.listErr = apiErr{"ThrottlingException"} },
			wantErr: "RetryableError", want: "ecs:ListContainerInstances"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, db, f := newHostWorld()
			tt.setup(h, f)
			_, err := h.Handle(context.Background(), payloadFor(hostInput(t, tt.edit), hostsOn))
			if contract.ErrorName(err) != tt.wantErr || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v (%s); want %s saying %q", err, contract.ErrorName(err), tt.wantErr, tt.want)
			}
			var tnf *contract.TargetNotFoundError
			if errors.As(err, &tnf) && !released(db) {
				t.Errorf("the host's lock was kept after the target was not found")
			}
		})
	}
}

// released reports whether a lock was given back (marked expired).
func released(db *fakeDB) bool {
	for _, p := range db.puts {
		if _, ok := p.Item["releasedAt"]; ok && strings.HasPrefix(pkOf(p.Item), "host#") {
			return true
		}
	}
	return false
}

// In a host case, a forEach over the host's tasks describes each with mode
// sibling: the case's account and region are the finding's (there is no
// task of its own), and the listed task is described, not the host.
func TestSiblingOfAHostCase(t *testing.T) {
	h, _, _ := newHostWorld()
	r, err := h.Handle(context.Background(), payloadFor(hostInput(t, nil), hostsOn))
	if err != nil {
		t.Fatal(err)
	}
	inc, _ := outputs(t, r)
	for _, tt := range []struct {
		name, task, wantErr string
	}{
		{name: "a task on the host", task: ec2Arn},
		{name: "a task of another account", task: strings.Replace(ec2Arn, "111122223333", "444455556666", 1), wantErr: "InvalidInputError"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := &contract.Payload{Action: "resolve-target", Mode: ModeSibling, With: json.RawMessage(`{}`), Incident: inc,
				Input: json.RawMessage(`{"taskArn":"` + tt.task + `"}`)}
			res, err := h.Handle(context.Background(), p)
			if contract.ErrorName(err) != tt.wantErr {
				t.Fatalf("error %v; want %q", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			_, tg := outputs(t, res)
			if tg.TaskArn != ec2Arn || tg.ContainerInstanceArn != ciArn || len(tg.HostTasks) != 0 || res.Outputs["incident"].(*incident.Incident).InstanceID != hostID {
				t.Errorf("target %+v", tg)
			}
		})
	}
}

// hostsOn is the with: of a playbook that takes host findings.
const hostsOn = `{"hostFindings":true}`

// TestHostFindingRefusedByDefault: a playbook that does not take host
// findings (with.hostFindings unset, every shipped one today) refuses one
// with InvalidInputError naming the resource type, before any call.
func TestHostFindingRefusedByDefault(t *testing.T) {
	h, db, _ := newHostWorld()
	_, err := h.Handle(context.Background(), payloadFor(hostInput(t, nil), `{}`))
	var inv *contract.InvalidInputError
	if !errors.As(err, &inv) || inv.Field != "detail.resource.resourceType" {
		t.Fatalf("host finding without hostFindings: %v; want InvalidInputError on detail.resource.resourceType", err)
	}
	if len(db.puts)+len(db.txs)+len(db.dels) != 0 {
		t.Errorf("a refused host finding wrote to the incidents table")
	}
}
