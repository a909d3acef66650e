package incident

import "time"

// Sources of an incident.
const (
	SourceGuardDuty = "guardduty"
	SourceManual    = "manual"
)

// Incident is the normalized execution input: what every task receives as
// `incident` (docs/internals.md).
type Incident struct {
	CaseID      string   `json:"caseId"`
	Source      string   `json:"source"`
	TaskArn     string   `json:"taskArn"`
	ClusterArn  string   `json:"clusterArn"`
	Region      string   `json:"region"`
	Account     string   `json:"account"`
	Partition   string   `json:"partition"`
	LaunchType  string   `json:"launchType"`
	Finding     *Finding `json:"finding"`
	Reason      string   `json:"reason"`
	RequestedBy string   `json:"requestedBy"`
	DryRun      bool     `json:"dryRun"`
	ReceivedAt  string   `json:"receivedAt"`
}

// Finding is what irflow keeps of a GuardDuty finding.
type Finding struct {
	ID          string   `json:"id"`
	Arn         string   `json:"arn"`
	Type        string   `json:"type"`
	Severity    float64  `json:"severity"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	CreatedAt   string   `json:"createdAt"`
	UpdatedAt   string   `json:"updatedAt"`
	Process     *Process `json:"process,omitempty"`
}

// Process is the runtime process GuardDuty saw.
type Process struct {
	Name             string `json:"name"`
	ExecutablePath   string `json:"executablePath"`
	ExecutableSha256 string `json:"executableSha256"`
	Pid              int64  `json:"pid"`
}

// Target is what resolve-target finds out about the task, its instance and
// its network (docs/internals.md). Fields that do not apply are empty.
type Target struct {
	LaunchType           string      `json:"launchType"`
	TaskArn              string      `json:"taskArn"`
	ClusterArn           string      `json:"clusterArn"`
	TaskDefinitionArn    string      `json:"taskDefinitionArn"`
	Group                string      `json:"group"`
	Service              string      `json:"service"`
	StartedBy            string      `json:"startedBy"`
	LastStatus           string      `json:"lastStatus"`
	NetworkMode          string      `json:"networkMode"`
	ENIs                 []ENI       `json:"enis"`
	VpcID                string      `json:"vpcId"`
	SubnetIDs            []string    `json:"subnetIds"`
	SecurityGroups       []string    `json:"securityGroups"`
	ContainerInstanceArn string      `json:"containerInstanceArn"`
	InstanceID           string      `json:"instanceId"`
	AutoScalingGroup     string      `json:"autoScalingGroup"`
	VolumeIDs            []string    `json:"volumeIds"`
	TaskRoleArn          string      `json:"taskRoleArn"`
	ExecutionRoleArn     string      `json:"executionRoleArn"`
	EnableExecuteCommand bool        `json:"enableExecuteCommand"`
	Containers           []Container `json:"containers"`
	// Tags are the task's ECS tags, left out when it has none: playbook
	// conditions (when: taskTags, exclude:) read them in Choice states,
	// which treat a missing tags object as no tags.
	Tags map[string]string `json:"tags,omitempty"`
}

// ENI is a network interface of the task (awsvpc) or of its instance.
type ENI struct {
	ID             string   `json:"id"`
	PrivateIP      string   `json:"privateIp"`
	SubnetID       string   `json:"subnetId"`
	VpcID          string   `json:"vpcId"`
	SecurityGroups []string `json:"securityGroups"`
}

// Container is one container of the task.
type Container struct {
	Name            string `json:"name"`
	Image           string `json:"image"`
	ImageDigest     string `json:"imageDigest"`
	RuntimeID       string `json:"runtimeId"`
	LogDriver       string `json:"logDriver"`
	LogGroup        string `json:"logGroup"`
	LogStreamPrefix string `json:"logStreamPrefix"`
}

// Execution is the part of the Step Functions context object ($$.Execution)
// that normalization uses.
type Execution struct {
	ID        string    `json:"Id"`
	Name      string    `json:"Name"`
	StartTime time.Time `json:"StartTime"`
}
