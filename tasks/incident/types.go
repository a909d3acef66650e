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
	CaseID     string   `json:"caseId"`
	Source     string   `json:"source"`
	TaskArn    string   `json:"taskArn"`
	ClusterArn string   `json:"clusterArn"`
	Region     string   `json:"region"`
	Account    string   `json:"account"`
	Partition  string   `json:"partition"`
	LaunchType string   `json:"launchType"`
	Finding    *Finding `json:"finding"`
	Reason     string   `json:"reason"`
	// RequestedBy is who the input says asked for the response: a claim,
	// never trusted by itself (Requester says what was verified).
	RequestedBy string `json:"requestedBy"`
	// Requester is who asked, as resolve-target established it; nil (an
	// older payload) counts as unverified.
	Requester  *Requester `json:"requester,omitempty"`
	DryRun     bool       `json:"dryRun"`
	ReceivedAt string     `json:"receivedAt"`
	// ResourceType is "Instance" for a GuardDuty finding about a container
	// instance (TaskArn is then empty: the target is the host, and its
	// running tasks are Target.HostTasks); "" for a task.
	ResourceType string `json:"resourceType,omitempty"`
	// InstanceID is the EC2 instance a host finding names.
	InstanceID string `json:"instanceId,omitempty"`
}

// How a requester was verified (Requester.Via).
const (
	// ViaStartAPI: the start API took the caller from the signed request
	// (its Function URL's AWS_IAM auth) and resolve-target verified the
	// MAC of its envelope around the input (KMS VerifyMac).
	ViaStartAPI = "start-api"
	// ViaGuardDuty: guardduty:GetFindings confirmed the finding (same id,
	// account, task ARN and type): GuardDuty itself asks for the response.
	ViaGuardDuty = "guardduty"
)

// Requester is who asked for the response. Only a verified requester is
// trusted for four eyes; with an unverified one (a console input's typed-in
// requestedBy) every approval gate needs at least two distinct approvers.
type Requester struct {
	ID       string `json:"id"`
	Verified bool   `json:"verified"`
	Via      string `json:"via,omitempty"`
}

// Claimed is the requester of an input nobody vouched for: its requestedBy.
func Claimed(inc *Incident) *Requester { return &Requester{ID: inc.RequestedBy} }

// RequesterVerified reports whether the requester was verified.
func (inc *Incident) RequesterVerified() bool { return inc.Requester != nil && inc.Requester.Verified }

// RequesterID is the verified requester, else the claimed one.
func (inc *Incident) RequesterID() string {
	if inc.Requester != nil && inc.Requester.ID != "" {
		return inc.Requester.ID
	}
	return inc.RequestedBy
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
	// Containers are the names of the containers the finding lists
	// (resource.ecsClusterDetails.taskDetails.containers), where
	// exec-triage looks first.
	Containers []string `json:"containers,omitempty"`
}

// Process is the runtime process GuardDuty saw. Pid is its id as the host
// sees it; NamespacePid (0 when the finding has none) its id inside the
// container's pid namespace, the one a command run in the container sees.
type Process struct {
	Name             string `json:"name"`
	ExecutablePath   string `json:"executablePath"`
	ExecutableSha256 string `json:"executableSha256"`
	Pid              int64  `json:"pid"`
	NamespacePid     int64  `json:"namespacePid,omitempty"`
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
	// HostTasks are, for a host finding (incident.resourceType Instance),
	// the ARNs of the tasks running on the container instance, sorted: the
	// scope a playbook's steps act on; TaskArn is then empty.
	HostTasks []string `json:"hostTasks,omitempty"`
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
