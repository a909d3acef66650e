package mototest

import (
	"encoding/json"
	"time"

	"github.com/irflow/irflow/tasks/incident"
)

// Incident returns the incident of a case on the world's task of a launch type.
func (w *World) Incident(launchType, caseID string, dryRun bool) *incident.Incident {
	arn := w.FargateTaskArn
	if launchType == "EC2" {
		arn = w.EC2TaskArn
	}
	return &incident.Incident{CaseID: caseID, Source: incident.SourceManual, TaskArn: arn, ClusterArn: w.ClusterArn,
		Region: Region, Account: w.Account, Partition: "aws", LaunchType: launchType,
		Reason: "integration test", RequestedBy: "arn:aws:iam::" + w.Account + ":role/Responder", DryRun: dryRun,
		ReceivedAt: time.Now().UTC().Format(time.RFC3339)}
}

// Target returns what resolve-target finds for the world's task of a launch
// type (the Fargate task is awsvpc with its own ENI; the EC2 task is bridge
// mode on the container instance).
func (w *World) Target(launchType string) *incident.Target {
	if launchType == "EC2" {
		return &incident.Target{LaunchType: "EC2", TaskArn: w.EC2TaskArn, ClusterArn: w.ClusterArn, TaskDefinitionArn: w.EC2Def,
			LastStatus: "RUNNING", NetworkMode: "bridge", VpcID: w.VpcID, SubnetIDs: []string{w.SubnetID},
			ENIs:                 []incident.ENI{{ID: w.InstanceENI, SubnetID: w.SubnetID, VpcID: w.VpcID, SecurityGroups: []string{w.AppSG}}},
			SecurityGroups:       []string{w.AppSG},
			ContainerInstanceArn: w.ContainerInstanceArn, InstanceID: w.InstanceID, AutoScalingGroup: w.ASGName, VolumeIDs: w.VolumeIDs,
			TaskRoleArn: w.TaskRoleArn,
			Containers:  []incident.Container{{Name: "worker", Image: "111122223333.dkr.ecr.us-east-1.amazonaws.com/report-worker:2.0.1", LogDriver: "awslogs", LogGroup: w.LogGroup, LogStreamPrefix: "worker"}}}
	}
	return &incident.Target{LaunchType: "FARGATE", TaskArn: w.FargateTaskArn, ClusterArn: w.ClusterArn, TaskDefinitionArn: w.FargateTaskDef,
		Group: "service:" + w.ServiceName, Service: w.ServiceName, StartedBy: "ecs-svc/1234567890", LastStatus: "RUNNING",
		NetworkMode: "awsvpc", VpcID: w.VpcID, SubnetIDs: []string{w.SubnetID}, SecurityGroups: []string{w.AppSG},
		ENIs:        []incident.ENI{{ID: w.FargateENI, SubnetID: w.SubnetID, VpcID: w.VpcID, SecurityGroups: []string{w.AppSG}}},
		TaskRoleArn: w.TaskRoleArn,
		Containers:  []incident.Container{{Name: "api", Image: "111122223333.dkr.ecr.us-east-1.amazonaws.com/payments-api:1.4.2", LogDriver: "awslogs", LogGroup: w.LogGroup, LogStreamPrefix: "api"}}}
}

// Payload returns a task payload for action on the world's task of a launch
// type; extra keys (mode, previous, taskToken, ...) are merged in.
func (w *World) Payload(action, step, launchType, caseID string, dryRun bool, with map[string]any, extra map[string]any) []byte {
	if with == nil {
		with = map[string]any{}
	}
	p := map[string]any{
		"action": action, "step": step, "with": with,
		"incident": w.Incident(launchType, caseID, dryRun), "target": w.Target(launchType),
		"execution": map[string]any{"Id": "arn:aws:states:us-east-1:" + w.Account + ":execution:irflow-test:" + caseID,
			"Name": caseID, "StartTime": time.Now().UTC().Format(time.RFC3339)},
	}
	for k, v := range extra {
		p[k] = v
	}
	b, err := json.Marshal(p)
	if err != nil {
		panic(err)
	}
	return b
}
