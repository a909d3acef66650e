package simulate

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/irflow/irflow/tasks/catalog"
	"github.com/irflow/irflow/tasks/incident"
)

// resolveTarget is the mock of resolve-target: the real validation and
// normalization, then a plausible description of the task.
func (m *mocker) resolveTarget(p *mockPayload) (*mockResult, error) {
	if p.Mode == "sibling" {
		return m.resolveSibling(p)
	}
	start, _ := time.Parse(time.RFC3339Nano, p.Execution.StartTime)
	inc, err := incident.Normalize(p.Input, incident.Execution{ID: p.Execution.ID, Name: p.Execution.Name, StartTime: start})
	if err == nil {
		err = m.requester(inc)
	}
	if err == nil {
		hosts, _ := p.with["hostFindings"].(bool)
		err = incident.AdmitHost(inc, hosts)
	}
	if err == nil {
		manual, set := p.with["manual"].(bool)
		err = incident.Admit(inc, !set || manual)
	}
	if err != nil {
		var fe *incident.FieldError
		if errors.As(err, &fe) {
			return nil, invalidInput(fe.Field, fe.Message)
		}
		return nil, err
	}
	if inc.IsHost() {
		t := mockHostTarget(inc)
		return result("OK", "case %s: container instance %s (EC2 instance %s) in cluster %s, %d running task(s) on it",
			inc.CaseID, t.ContainerInstanceArn, t.InstanceID, t.ClusterArn, len(t.HostTasks)).
			with("incident", inc, "target", t), nil
	}
	lt := inc.LaunchType
	if lt == "" {
		lt = m.launchType
	}
	if lt == "" {
		lt = catalog.Fargate
	}
	t := mockTarget(inc, lt, worldOf(p.Input))
	arn, _ := incident.ParseTaskARN(inc.TaskArn)
	return result("OK", "case %s: %s task %s in cluster %s (%s, %s network)", inc.CaseID, lt, arn.ID, arn.Cluster, arn.Account+"/"+arn.Region, t.NetworkMode).
		with("incident", inc, "target", t), nil
}

// resolveSibling is resolve-target in mode sibling: a task of a forEach's
// list, described as a task of the case's service (the definition and
// containers the execution input's finding names), on the case's launch
// type; the incident is handed back.
func (m *mocker) resolveSibling(p *mockPayload) (*mockResult, error) {
	if p.Incident == nil {
		return nil, invalidInput("incident", "is required in mode sibling")
	}
	var in struct {
		TaskArn string `json:"taskArn"`
	}
	if err := jsonUnmarshal(p.Input, &in); err != nil || in.TaskArn == "" {
		return nil, invalidInput("input.taskArn", "is required in mode sibling")
	}
	arn, err := incident.ParseTaskARN(in.TaskArn)
	if err != nil {
		return nil, invalidInput("input.taskArn", err.Error())
	}
	task := *p.Incident
	task.TaskArn, task.ClusterArn = in.TaskArn, arn.ClusterArn()
	lt := p.Incident.LaunchType
	if lt == "" {
		lt = catalog.Fargate
	}
	t := mockTarget(&task, lt, worldOf(p.Execution.Input))
	return result("OK", "case %s, task of the list: %s task %s (%s)", p.Incident.CaseID, lt, arn.ID, t.NetworkMode).
		with("incident", p.Incident, "target", t), nil
}

// requester is resolve-target's requester rule, simulated: the simulated
// GuardDuty confirms the input's finding (unless UnconfirmedFinding), and a
// console input's requestedBy is a claim. The simulator holds no MAC key,
// so a start API envelope (irflowStart) cannot be checked here: its
// requester stays claimed, as it would if its MAC did not verify.
func (m *mocker) requester(inc *incident.Incident) error {
	if inc.Source != incident.SourceGuardDuty {
		inc.Requester = incident.Claimed(inc)
		return nil
	}
	if m.unconfirmed {
		return &incident.FieldError{Field: "detail.id", Message: fmt.Sprintf(
			"GuardDuty does not confirm finding %s: the simulated GuardDuty does not know it (--unconfirmed-finding)", inc.Finding.ID)}
	}
	inc.Requester = &incident.Requester{ID: inc.RequestedBy, Verified: true, Via: incident.ViaGuardDuty}
	return nil
}

// mockTarget describes a plausible task of the launch type: on EC2 a bridge
// task on a container instance in an Auto Scaling group with two volumes; on
// Fargate an awsvpc task with its own ENI; on ECS Anywhere (EXTERNAL) a
// bridge task on a managed instance. What the input says about the task
// (a finding's group, tags, task definition and containers) wins; a console
// input gets a service's task without tags.
func mockTarget(inc *incident.Incident, lt string, w inputWorld) *incident.Target {
	arn, _ := incident.ParseTaskARN(inc.TaskArn)
	id := func(prefix string, n int, what string) string { return prefix + mockID(n, inc.TaskArn, what) }
	acctRegion := fmt.Sprintf("%s:%s", arn.Region, arn.Account)
	service := arn.Cluster + "-api"
	family := service
	if f := w.family(); f != "" {
		family = f
	}
	group := "service:" + service
	if name, said := w.service(); said {
		service, group = name, w.group
		if name != "" {
			family = name
		}
	}
	vpc := id("vpc-", 17, "vpc")
	eni := incident.ENI{ID: id("eni-", 17, "eni"), PrivateIP: fmt.Sprintf("10.0.%d.%d", 1+int(mockID(2, inc.TaskArn, "ip3")[0])%250, 10+int(mockID(2, inc.TaskArn, "ip4")[1])%240),
		SubnetID: id("subnet-", 17, "subnet"), VpcID: vpc, SecurityGroups: []string{id("sg-", 17, "sg")}}
	t := &incident.Target{
		LaunchType: lt, TaskArn: inc.TaskArn, ClusterArn: inc.ClusterArn,
		TaskDefinitionArn: fmt.Sprintf("arn:%s:ecs:%s:task-definition/%s:7", arn.Partition, acctRegion, family),
		Group:             group, Service: service, StartedBy: "ecs-svc/" + mockID(19, inc.TaskArn, "deployment"),
		LastStatus: "RUNNING", ENIs: []incident.ENI{}, SubnetIDs: []string{}, SecurityGroups: []string{}, VolumeIDs: []string{},
		TaskRoleArn:      fmt.Sprintf("arn:%s:iam::%s:role/%s-task", arn.Partition, arn.Account, family),
		ExecutionRoleArn: fmt.Sprintf("arn:%s:iam::%s:role/%s-execution", arn.Partition, arn.Account, family),
		Containers: []incident.Container{{
			Name: "app", Image: fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s:1.0.0", arn.Account, arn.Region, family),
			ImageDigest: "sha256:" + mockID(64, inc.TaskArn, "image"), RuntimeID: arn.ID + "-" + mockID(10, inc.TaskArn, "runtime"),
			LogDriver: "awslogs", LogGroup: "/ecs/" + family, LogStreamPrefix: "ecs",
		}},
	}
	if w.definitionArn != "" {
		t.TaskDefinitionArn = w.definitionArn
	}
	if w.tags != nil {
		t.Tags = w.tags
	}
	if len(w.containers) > 0 {
		t.Containers = nil
		for _, c := range w.containers {
			c.ImageDigest = "sha256:" + mockID(64, inc.TaskArn, "image", c.Name)
			c.RuntimeID = arn.ID + "-" + mockID(10, inc.TaskArn, "runtime", c.Name)
			c.LogDriver, c.LogGroup, c.LogStreamPrefix = "awslogs", "/ecs/"+family, "ecs"
			t.Containers = append(t.Containers, c)
		}
	}
	containerInstance := fmt.Sprintf("arn:%s:ecs:%s:container-instance/%s/%s", arn.Partition, acctRegion, arn.Cluster, mockID(32, inc.TaskArn, "ci"))
	switch lt {
	case catalog.Fargate, "MANAGED_INSTANCES":
		t.NetworkMode, t.ENIs, t.VpcID = "awsvpc", []incident.ENI{eni}, vpc
		t.SubnetIDs, t.SecurityGroups = []string{eni.SubnetID}, eni.SecurityGroups
		if lt == "MANAGED_INSTANCES" {
			t.ContainerInstanceArn, t.InstanceID = containerInstance, id("i-", 17, "instance")
		}
	case catalog.EC2:
		t.NetworkMode, t.ENIs, t.VpcID = "bridge", []incident.ENI{eni}, vpc
		t.SubnetIDs, t.SecurityGroups = []string{eni.SubnetID}, eni.SecurityGroups
		t.ContainerInstanceArn, t.InstanceID = containerInstance, id("i-", 17, "instance")
		t.AutoScalingGroup = arn.Cluster + "-capacity"
		t.VolumeIDs = []string{id("vol-", 17, "root"), id("vol-", 17, "data")}
	default: // EXTERNAL: ECS Anywhere, a managed instance outside AWS
		t.NetworkMode = "bridge"
		t.ContainerInstanceArn, t.InstanceID = containerInstance, id("mi-", 17, "managed-instance")
	}
	return t
}

// mockHostTarget describes a host finding's target as resolve-target does:
// the container instance of the finding's EC2 instance (in the cluster the
// finding names, else "default"), its ENI, volumes and Auto Scaling group
// as for an EC2 task, no task (taskArn "", no containers), and the three
// tasks running on it, sorted (hostTasks).
func mockHostTarget(inc *incident.Incident) *incident.Target {
	seed := inc.InstanceID
	id := func(prefix string, n int, what string) string { return prefix + mockID(n, seed, what) }
	cluster := "default"
	if i := strings.LastIndexByte(inc.ClusterArn, '/'); i >= 0 {
		cluster = inc.ClusterArn[i+1:]
	}
	acctRegion := inc.Region + ":" + inc.Account
	vpc := id("vpc-", 17, "vpc")
	eni := incident.ENI{ID: id("eni-", 17, "eni"), PrivateIP: "10.0.12.34", SubnetID: id("subnet-", 17, "subnet"), VpcID: vpc,
		SecurityGroups: []string{id("sg-", 17, "sg")}}
	var tasks []string
	for i := 1; i <= 3; i++ {
		tasks = append(tasks, fmt.Sprintf("arn:%s:ecs:%s:task/%s/%s", inc.Partition, acctRegion, cluster, mockID(32, seed, "host-task", fmt.Sprint(i))))
	}
	sort.Strings(tasks)
	return &incident.Target{
		LaunchType: catalog.EC2, ClusterArn: fmt.Sprintf("arn:%s:ecs:%s:cluster/%s", inc.Partition, acctRegion, cluster),
		ENIs: []incident.ENI{eni}, VpcID: vpc, SubnetIDs: []string{eni.SubnetID}, SecurityGroups: eni.SecurityGroups,
		ContainerInstanceArn: fmt.Sprintf("arn:%s:ecs:%s:container-instance/%s/%s", inc.Partition, acctRegion, cluster, mockID(32, seed, "ci")),
		InstanceID:           inc.InstanceID, AutoScalingGroup: cluster + "-capacity",
		VolumeIDs:  []string{id("vol-", 17, "root"), id("vol-", 17, "data")},
		Containers: []incident.Container{}, HostTasks: tasks,
	}
}
