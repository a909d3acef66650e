package handler

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
)

// describe builds the target: the task, its task definition, its ENIs and,
// for the EC2 launch type, the container instance, its EC2 instance,
// volumes and Auto Scaling group.
// seen, when set, is given the task's cluster and service as soon as
// DescribeTasks answered ("" for a standalone task) and the rest is asked
// for.
func (h *Handler) describe(ctx context.Context, inc *incident.Incident, seen func(cluster, service string)) (*incident.Target, error) {
	if inc.IsHost() {
		return h.describeHost(ctx, inc)
	}
	task, err := h.task(ctx, inc)
	if err != nil {
		return nil, err
	}
	t := &incident.Target{
		LaunchType:           launchType(task),
		TaskArn:              aws.ToString(task.TaskArn),
		ClusterArn:           aws.ToString(task.ClusterArn),
		TaskDefinitionArn:    aws.ToString(task.TaskDefinitionArn),
		Group:                aws.ToString(task.Group),
		StartedBy:            aws.ToString(task.StartedBy),
		LastStatus:           aws.ToString(task.LastStatus),
		ContainerInstanceArn: aws.ToString(task.ContainerInstanceArn),
		EnableExecuteCommand: task.EnableExecuteCommand,
		Tags:                 taskTags(task.Tags),
	}
	if t.ClusterArn == "" {
		t.ClusterArn = inc.ClusterArn
	}
	if name, ok := strings.CutPrefix(t.Group, "service:"); ok {
		t.Service = name
	}
	// The task definition, the task's ENIs and the container instance each
	// need only DescribeTasks' answer: ask for them at once, one round trip
	// on the way to containment instead of up to four one after another.
	// Errors are reported in this order whatever order they came in.
	var (
		wg                      sync.WaitGroup
		def                     *ecs.DescribeTaskDefinitionOutput
		enis                    []incident.ENI
		inst                    *hostInfo
		defErr, eniErr, instErr error
	)
	wg.Add(2)
	go func() {
		defer wg.Done()
		def, defErr = h.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: task.TaskDefinitionArn})
	}()
	go func() {
		defer wg.Done()
		enis, eniErr = h.taskENIs(ctx, task)
	}()
	if t.LaunchType == "EC2" && t.ContainerInstanceArn != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			inst, instErr = h.host(ctx, t.ClusterArn, t.ContainerInstanceArn)
		}()
	}
	// The case and the lock are taken (seen) once these reads are on
	// their way, not before.
	if seen != nil {
		seen(t.ClusterArn, t.Service)
	}
	wg.Wait()
	if defErr != nil {
		return nil, contract.AWSError("ecs:DescribeTaskDefinition "+t.TaskDefinitionArn, defErr)
	}
	applyDefinition(t, task, def.TaskDefinition)
	if eniErr != nil {
		return nil, eniErr
	}
	t.ENIs = enis
	if instErr != nil {
		return nil, instErr
	}
	if inst != nil {
		inst.apply(t)
	}
	summarizeNetwork(t)
	return t, nil
}

func (h *Handler) task(ctx context.Context, inc *incident.Incident) (ecstypes.Task, error) {
	out, err := h.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{
		Cluster: aws.String(inc.ClusterArn), Tasks: []string{inc.TaskArn},
		Include: []ecstypes.TaskField{ecstypes.TaskFieldTags},
	})
	if err != nil {
		return ecstypes.Task{}, contract.AWSError("ecs:DescribeTasks "+inc.TaskArn, err)
	}
	for _, task := range out.Tasks {
		if aws.ToString(task.TaskArn) == inc.TaskArn {
			return task, nil
		}
	}
	reason := "ECS does not know the task (stopped more than an hour ago?)"
	for _, f := range out.Failures {
		reason = fmt.Sprintf("ECS reports %s", aws.ToString(f.Reason))
	}
	return ecstypes.Task{}, &contract.TargetNotFoundError{Resource: inc.TaskArn, Reason: reason}
}

// taskTags are the task's tags (DescribeTasks with include TAGS): the
// generated Choice states test $.target.tags['key'].
func taskTags(tags []ecstypes.Tag) map[string]string {
	out := make(map[string]string, len(tags))
	for _, t := range tags {
		out[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return out
}

// launchType is the task's launch type; tasks placed by a capacity provider
// strategy may not report one, so it is inferred from where they run.
func launchType(task ecstypes.Task) string {
	if lt := string(task.LaunchType); lt != "" {
		return lt
	}
	switch cp := aws.ToString(task.CapacityProviderName); {
	case strings.HasPrefix(cp, "FARGATE"):
		return "FARGATE"
	case task.ContainerInstanceArn != nil:
		return "EC2"
	}
	return ""
}

// applyDefinition takes the network mode, the roles (task overrides win) and
// each container's log configuration from the task definition.
func applyDefinition(t *incident.Target, task ecstypes.Task, def *ecstypes.TaskDefinition) {
	if def == nil {
		def = &ecstypes.TaskDefinition{}
	}
	t.NetworkMode = string(def.NetworkMode)
	if t.NetworkMode == "" {
		// ECS's default: bridge on Linux container instances; Fargate allows only awsvpc.
		t.NetworkMode = "bridge"
		if t.LaunchType == "FARGATE" {
			t.NetworkMode = "awsvpc"
		}
	}
	t.TaskRoleArn, t.ExecutionRoleArn = aws.ToString(def.TaskRoleArn), aws.ToString(def.ExecutionRoleArn)
	if o := task.Overrides; o != nil {
		if r := aws.ToString(o.TaskRoleArn); r != "" {
			t.TaskRoleArn = r
		}
		if r := aws.ToString(o.ExecutionRoleArn); r != "" {
			t.ExecutionRoleArn = r
		}
	}
	defs := map[string]ecstypes.ContainerDefinition{}
	for _, cd := range def.ContainerDefinitions {
		defs[aws.ToString(cd.Name)] = cd
	}
	for _, c := range task.Containers {
		tc := incident.Container{Name: aws.ToString(c.Name), Image: aws.ToString(c.Image),
			ImageDigest: aws.ToString(c.ImageDigest), RuntimeID: aws.ToString(c.RuntimeId)}
		if cd, ok := defs[tc.Name]; ok {
			if tc.Image == "" {
				tc.Image = aws.ToString(cd.Image)
			}
			setLogging(&tc, cd)
			delete(defs, tc.Name)
		}
		t.Containers = append(t.Containers, tc)
	}
	// A task that reports no containers (still provisioning, or an emulator)
	// still has the definition's.
	if len(task.Containers) == 0 {
		for _, cd := range def.ContainerDefinitions {
			tc := incident.Container{Name: aws.ToString(cd.Name), Image: aws.ToString(cd.Image)}
			setLogging(&tc, cd)
			t.Containers = append(t.Containers, tc)
		}
	}
}

func setLogging(c *incident.Container, cd ecstypes.ContainerDefinition) {
	if cd.LogConfiguration == nil {
		return
	}
	c.LogDriver = string(cd.LogConfiguration.LogDriver)
	if c.LogDriver == string(ecstypes.LogDriverAwslogs) {
		c.LogGroup = cd.LogConfiguration.Options["awslogs-group"]
		c.LogStreamPrefix = cd.LogConfiguration.Options["awslogs-stream-prefix"]
	}
}

// taskENIs describes the ENIs attached to the task (awsvpc). An ENI that is
// already gone (the task stopped) is kept with what the attachment says.
func (h *Handler) taskENIs(ctx context.Context, task ecstypes.Task) ([]incident.ENI, error) {
	var enis []incident.ENI
	for _, a := range task.Attachments {
		if aws.ToString(a.Type) != "ElasticNetworkInterface" {
			continue
		}
		e := incident.ENI{}
		for _, d := range a.Details {
			switch aws.ToString(d.Name) {
			case "networkInterfaceId":
				e.ID = aws.ToString(d.Value)
			case "privateIPv4Address":
				e.PrivateIP = aws.ToString(d.Value)
			case "subnetId":
				e.SubnetID = aws.ToString(d.Value)
			}
		}
		if e.ID != "" {
			enis = append(enis, e)
		}
	}
	if len(enis) == 0 {
		return nil, nil
	}
	ids := make([]string, len(enis))
	for i, e := range enis {
		ids[i] = e.ID
	}
	// A filter, not NetworkInterfaceIds: a deleted ENI is then simply absent
	// instead of failing the whole call.
	out, err := h.EC2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{
		Filters: []ec2types.Filter{{Name: aws.String("network-interface-id"), Values: ids}},
	})
	if err != nil {
		return nil, contract.AWSError("ec2:DescribeNetworkInterfaces "+strings.Join(ids, ","), err)
	}
	byID := map[string]ec2types.NetworkInterface{}
	for _, ni := range out.NetworkInterfaces {
		byID[aws.ToString(ni.NetworkInterfaceId)] = ni
	}
	for i := range enis {
		if ni, ok := byID[enis[i].ID]; ok {
			enis[i] = eniOf(aws.ToString(ni.NetworkInterfaceId), ni.PrivateIpAddress, ni.SubnetId, ni.VpcId, ni.Groups, enis[i])
		}
	}
	return enis, nil
}

func eniOf(id string, ip, subnet, vpc *string, groups []ec2types.GroupIdentifier, base incident.ENI) incident.ENI {
	e := base
	e.ID = id
	if v := aws.ToString(ip); v != "" {
		e.PrivateIP = v
	}
	if v := aws.ToString(subnet); v != "" {
		e.SubnetID = v
	}
	e.VpcID = aws.ToString(vpc)
	e.SecurityGroups = nil
	for _, g := range groups {
		e.SecurityGroups = append(e.SecurityGroups, aws.ToString(g.GroupId))
	}
	return e
}

// hostInfo is the EC2 side of a task: its container instance's EC2
// instance and Auto Scaling group.
type hostInfo struct {
	id   string
	inst *ec2types.Instance
	asg  string
}

// host describes the container instance, then its EC2 instance and its
// Auto Scaling membership at once (both need only the instance id).
func (h *Handler) host(ctx context.Context, cluster, containerInstance string) (*hostInfo, error) {
	ci, err := h.ECS.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{
		Cluster: aws.String(cluster), ContainerInstances: []string{containerInstance},
	})
	if err != nil {
		return nil, contract.AWSError("ecs:DescribeContainerInstances "+containerInstance, err)
	}
	if len(ci.ContainerInstances) == 0 || aws.ToString(ci.ContainerInstances[0].Ec2InstanceId) == "" {
		return nil, &contract.TargetNotFoundError{Resource: containerInstance, Reason: "ECS does not know the container instance or its EC2 instance"}
	}
	hi := &hostInfo{id: aws.ToString(ci.ContainerInstances[0].Ec2InstanceId)}
	var (
		wg             sync.WaitGroup
		out            *ec2.DescribeInstancesOutput
		asg            *autoscaling.DescribeAutoScalingInstancesOutput
		outErr, asgErr error
	)
	wg.Add(2)
	go func() {
		defer wg.Done()
		out, outErr = h.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{hi.id}})
	}()
	go func() {
		defer wg.Done()
		asg, asgErr = h.ASG.DescribeAutoScalingInstances(ctx, &autoscaling.DescribeAutoScalingInstancesInput{InstanceIds: []string{hi.id}})
	}()
	wg.Wait()
	if outErr != nil {
		return nil, contract.AWSError("ec2:DescribeInstances "+hi.id, outErr)
	}
	for _, r := range out.Reservations {
		for i := range r.Instances {
			if aws.ToString(r.Instances[i].InstanceId) == hi.id {
				hi.inst = &r.Instances[i]
			}
		}
	}
	if hi.inst == nil {
		return nil, &contract.TargetNotFoundError{Resource: hi.id, Reason: "EC2 does not know the container instance's instance"}
	}
	if asgErr != nil {
		return nil, contract.AWSError("autoscaling:DescribeAutoScalingInstances "+hi.id, asgErr)
	}
	for _, a := range asg.AutoScalingInstances {
		hi.asg = aws.ToString(a.AutoScalingGroupName)
	}
	return hi, nil
}

// apply fills the EC2 side of t: instance id, volumes, the instance's ENIs
// (the task's network for bridge and host mode) and the Auto Scaling group.
// t's network mode must be known.
func (hi *hostInfo) apply(t *incident.Target) {
	t.InstanceID = hi.id
	t.VpcID = aws.ToString(hi.inst.VpcId)
	for _, bdm := range hi.inst.BlockDeviceMappings {
		if bdm.Ebs != nil && aws.ToString(bdm.Ebs.VolumeId) != "" {
			t.VolumeIDs = append(t.VolumeIDs, aws.ToString(bdm.Ebs.VolumeId))
		}
	}
	if t.NetworkMode != "awsvpc" {
		nis := append([]ec2types.InstanceNetworkInterface(nil), hi.inst.NetworkInterfaces...)
		sort.SliceStable(nis, func(i, j int) bool { return deviceIndex(nis[i]) < deviceIndex(nis[j]) })
		t.ENIs = nil
		for _, ni := range nis {
			t.ENIs = append(t.ENIs, eniOf(aws.ToString(ni.NetworkInterfaceId), ni.PrivateIpAddress, ni.SubnetId, ni.VpcId, ni.Groups, incident.ENI{}))
		}
	}
	t.AutoScalingGroup = hi.asg
}

func deviceIndex(ni ec2types.InstanceNetworkInterface) int32 {
	if ni.Attachment == nil {
		return 0
	}
	return aws.ToInt32(ni.Attachment.DeviceIndex)
}

// summarizeNetwork fills the VPC, subnets and security groups from the ENIs
// and makes every list an array (never null): later payloads are checked
// against task-payload.v1, which wants arrays.
func summarizeNetwork(t *incident.Target) {
	subnets, groups := map[string]bool{}, map[string]bool{}
	for i, e := range t.ENIs {
		if t.VpcID == "" {
			t.VpcID = e.VpcID
		}
		if e.SubnetID != "" {
			subnets[e.SubnetID] = true
		}
		for _, g := range e.SecurityGroups {
			groups[g] = true
		}
		if e.SecurityGroups == nil {
			t.ENIs[i].SecurityGroups = []string{}
		}
	}
	t.SubnetIDs, t.SecurityGroups = slices.Sorted(maps.Keys(subnets)), slices.Sorted(maps.Keys(groups))
	if t.ENIs == nil {
		t.ENIs = []incident.ENI{}
	}
	if t.VolumeIDs == nil {
		t.VolumeIDs = []string{}
	}
	if t.Containers == nil {
		t.Containers = []incident.Container{}
	}
}
