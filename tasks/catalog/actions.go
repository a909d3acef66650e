package catalog

import "time"

func sec(n int) Duration  { return Duration(time.Duration(n) * time.Second) }
func mins(n int) Duration { return Duration(time.Duration(n) * time.Minute) }

var both = []string{EC2, Fargate}
var ec2Only = []string{EC2}

// Retry policies. Throttling inside a call is absorbed by the SDK retryer of
// each Lambda; these cover a Lambda that gave up (RetryableError) or a Lambda
// service fault, with exponential backoff and full jitter.
var (
	retryStandard = Retry{MaxAttempts: 4, IntervalSeconds: 2, BackoffRate: 2, MaxDelaySeconds: 30}
	retryPatient  = Retry{MaxAttempts: 6, IntervalSeconds: 3, BackoffRate: 2, MaxDelaySeconds: 60}
	// retryOnce is for an action whose every attempt may take minutes that
	// containment waits for (exec-triage runs before isolation).
	retryOnce = Retry{MaxAttempts: 1, IntervalSeconds: 2, BackoffRate: 2, MaxDelaySeconds: 10}
)

// actions is the catalog, in the order of docs/design.md's table. The names are a contract.
var actions = []*Action{
	{
		Name:        "resolve-target",
		Description: "Validates the execution input, verifies the requester (GuardDuty confirms the finding, or the start API's MAC), claims the case, takes the per-task dedupe lock and describes the task, its instance and ENIs.",
		Kind:        KindSystem, LaunchTypes: both, Inserted: true,
		Params:  params("resolve-target"),
		Timeout: sec(30), Retry: retryPatient, MemoryMB: 256,
		IAM: base(
			Statement{Actions: []string{"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem"}, Resources: []string{"${IncidentsTableArn}"}},
			Statement{Actions: []string{"guardduty:GetFindings"}, Resources: []string{arnGuardDutyDetector}},
			Statement{Actions: []string{"kms:VerifyMac"}, Resources: []string{"${MacKeyArn}"}},
			Statement{Actions: []string{"ecs:DescribeTasks"}, Resources: []string{arnECSTask}},
			Statement{Actions: []string{"ecs:DescribeContainerInstances"}, Resources: []string{arnECSContainerInstance}},
			Statement{Actions: []string{"ec2:DescribeNetworkInterfaces", "ec2:DescribeInstances", "ecs:DescribeTaskDefinition", "autoscaling:DescribeAutoScalingInstances"}, Resources: []string{anyResource}},
			// A host finding (resource type Instance): its container instance
			// and the tasks on it. ListContainerInstances is authorized on the
			// cluster, ListTasks on container instances (Service Authorization
			// Reference, Amazon ECS).
			Statement{Actions: []string{"ecs:ListContainerInstances"}, Resources: []string{arnECSCluster}},
			Statement{Actions: []string{"ecs:ListTasks"}, Resources: []string{arnECSContainerInstance}},
			Statement{Actions: []string{"ecs:ListClusters"}, Resources: []string{anyResource}},
		),
	},
	{
		Name:        "tag-resources",
		Description: "Tags the task, its ENIs, container instance and volumes with the case id and investigation status.",
		Kind:        KindEvidence, LaunchTypes: both, Mutating: true, NeedsRunningTarget: true,
		Params:  params("tag-resources"),
		Timeout: sec(30), Retry: retryStandard, MemoryMB: 256,
		IAM: base(
			Statement{Actions: []string{"ecs:TagResource"}, Resources: []string{arnECSTask, arnECSContainerInstance}},
			Statement{Actions: []string{"ec2:CreateTags"}, Resources: []string{arnEC2ENI, arnEC2Instance, arnEC2Volume}},
		),
	},
	{
		Name:        "capture-task-metadata",
		Description: "Stores the task, task definition, service and ENI descriptions as hashed JSON evidence.",
		Kind:        KindEvidence, LaunchTypes: both, NeedsTask: true,
		Params:  params("capture-task-metadata"),
		Timeout: sec(60), Retry: retryStandard, MemoryMB: 256,
		IAM: base(evidenceWrite,
			Statement{Actions: []string{"ecs:DescribeTasks"}, Resources: []string{arnECSTask}},
			Statement{Actions: []string{"ecs:DescribeServices"}, Resources: []string{arnECSService}},
			Statement{Actions: []string{"ecs:DescribeTaskDefinition", "ec2:DescribeNetworkInterfaces"}, Resources: []string{anyResource}},
		),
	},
	{
		Name:        "find-siblings",
		Description: "Lists the running tasks of the account and region that share the task's image digest, and apart those sharing its task definition family, task role or container instance; stores the lists as evidence.",
		Kind:        KindEvidence, LaunchTypes: both,
		Params: params("find-siblings"),
		// The playbook's exclude: applies to the siblings as to the target:
		// a forEach over a list never reaches a task it excludes.
		Reserved:  []string{"excludeTaskTags"},
		TaskLists: []string{"siblings.sameImage", "siblings.sameFamily", "siblings.sameRole", "siblings.sameInstance", "siblings.unknownDigest"},
		Timeout:   sec(120), Retry: retryStandard, MemoryMB: 512,
		IAM: base(evidenceWrite,
			// ListTasks is authorized on container instances (Service Authorization Reference, Amazon ECS).
			Statement{Actions: []string{"ecs:ListTasks"}, Resources: []string{arnECSContainerInstance}},
			Statement{Actions: []string{"ecs:DescribeTasks"}, Resources: []string{arnECSTask}},
			Statement{Actions: []string{"ecs:ListClusters", "ecs:DescribeTaskDefinition"}, Resources: []string{anyResource}},
		),
	},
	{
		Name:        "collect-logs",
		Description: "Copies the task's awslogs streams for a look-back window to the evidence bucket, gzipped and size-capped.",
		Kind:        KindEvidence, LaunchTypes: both, NeedsTask: true,
		Params:  params("collect-logs"),
		Timeout: sec(300), Retry: retryStandard, MemoryMB: 512,
		IAM: base(evidenceWrite,
			Statement{Actions: []string{"ecs:DescribeTaskDefinition"}, Resources: []string{anyResource}},
			Statement{Actions: []string{"logs:FilterLogEvents"}, Resources: []string{arnLogGroup}},
		),
	},
	{
		Name:        "enable-flow-logs",
		Description: "Turns on VPC flow logs for the task's ENIs, delivered to the case's prefix in the evidence bucket.",
		Kind:        KindEvidence, LaunchTypes: both, Mutating: true, NeedsRunningTarget: true,
		Params:  params("enable-flow-logs"),
		Timeout: sec(30), Retry: retryStandard, MemoryMB: 256,
		IAM: base(
			Statement{Actions: []string{"ec2:CreateFlowLogs"}, Resources: []string{arnEC2ENI, arnEC2FlowLog}},
			Statement{Actions: []string{"ec2:CreateTags"}, Resources: []string{arnEC2FlowLog}},
			Statement{Actions: []string{"ec2:DescribeFlowLogs"}, Resources: []string{anyResource}},
			Statement{Actions: []string{"logs:CreateLogDelivery", "logs:DeleteLogDelivery"}, Resources: []string{anyResource}},
		),
	},
	{
		Name:        "snapshot-volumes",
		Description: "Starts tagged, crash-consistent EBS snapshots of the container instance; returns once started (point-in-time).",
		Kind:        KindEvidence, LaunchTypes: ec2Only, Mutating: true,
		Params:  params("snapshot-volumes"),
		Timeout: sec(60), Retry: retryStandard, MemoryMB: 256,
		IAM: base(
			Statement{Actions: []string{"ec2:CreateSnapshots"}, Resources: []string{arnEC2Instance, arnEC2Volume, arnEC2Snapshot}},
			Statement{Actions: []string{"ec2:CreateTags"}, Resources: []string{arnEC2Snapshot}},
			Statement{Actions: []string{"ec2:DescribeSnapshots"}, Resources: []string{anyResource}},
		),
	},
	{
		Name:        "capture-memory",
		Description: "Acquires host memory with a pinned AVML build through SSM Run Command, uploaded to the evidence bucket by presigned URL.",
		Kind:        KindEvidence, LaunchTypes: ec2Only, Mutating: true, UsesSSM: true, Async: true, NeedsRunningTarget: true,
		Params:  params("capture-memory"),
		Timeout: sec(60), StepTimeout: mins(60), PollInterval: sec(60), Retry: retryStandard, MemoryMB: 256,
		IAM: base(append([]Statement{evidenceWrite, evidenceReadBack}, ssmRunCommand...)...),
	},
	{
		Name:        "collect-host-artifacts",
		Description: "Collects docker inspect/diff/logs, the container's process list and the ECS agent logs through SSM Run Command.",
		Kind:        KindEvidence, LaunchTypes: ec2Only, Mutating: true, UsesSSM: true, Async: true, NeedsRunningTarget: true, NeedsTask: true,
		Params:  params("collect-host-artifacts"),
		Timeout: sec(60), StepTimeout: mins(20), PollInterval: sec(15), Retry: retryStandard, MemoryMB: 256,
		IAM: base(append([]Statement{evidenceWrite, evidenceReadBack}, ssmRunCommand...)...),
	},
	{
		Name:        "capture-traffic",
		Description: "Captures the task's packets with tcpdump through SSM for N seconds, or starts a VPC traffic-mirror session.",
		Kind:        KindEvidence, LaunchTypes: ec2Only, Mutating: true, UsesSSM: true, Async: true, NeedsRunningTarget: true, NeedsTask: true,
		Params:  params("capture-traffic"),
		Timeout: sec(60), StepTimeout: mins(30), PollInterval: sec(20), Retry: retryStandard, MemoryMB: 256,
		IAM: base(append([]Statement{evidenceWrite, evidenceReadBack,
			Statement{Actions: []string{"ec2:CreateTrafficMirrorSession", "ec2:CreateTags"}, Resources: []string{arnEC2ENI, arnEC2Mirror}},
			Statement{Actions: []string{"ec2:DescribeTrafficMirrorSessions"}, Resources: []string{anyResource}},
		}, ssmRunCommand...)...),
	},
	{
		Name:        "exec-triage",
		Description: "Runs irflow's fixed, read-only collector in the container through ECS Exec: processes, connections, open files, executables and the finding's binary, hashed into the evidence bucket.",
		// Mutating: ExecuteCommand starts processes in the compromised
		// container and may log the session to the task's log group. Uses
		// SSM: the container's SSM agent talks to ssmmessages, which an
		// isolation that blocks SSM cuts off.
		Kind: KindEvidence, LaunchTypes: both, Mutating: true, UsesSSM: true, NeedsRunningTarget: true, NeedsTask: true,
		Params:  params("exec-triage"),
		Timeout: mins(10), Retry: retryOnce, MemoryMB: 1024,
		IAM: base(evidenceWrite,
			// ExecuteCommand authorizes the task and its cluster (ECS Exec
			// IAM: "only cluster and task tags are evaluated"). Clusters are
			// known only during an incident; a deployment may narrow this
			// with ecs:cluster or tag conditions (docs/deploy.md).
			Statement{Actions: []string{"ecs:ExecuteCommand"}, Resources: []string{arnECSCluster, arnECSTask}},
			Statement{Actions: []string{"ecs:DescribeTasks"}, Resources: []string{arnECSTask}},
			Statement{Actions: []string{"ecs:DescribeTaskDefinition"}, Resources: []string{anyResource}},
		),
	},
	{
		Name:        "isolate-network",
		Description: "Cuts the task off: network ACL denies of an awsvpc task's addresses in every ACL of its VPC (ECS owns its ENI), or the instance ENIs moved through an all-traffic group to a quarantine group (bridge/host); records every change in the case's ledger.",
		Kind:        KindContainment, LaunchTypes: both, Destructive: true, Mutating: true,
		Params:  params("isolate-network"),
		Timeout: sec(60), Retry: retryPatient, MemoryMB: 256,
		IAM: base(ledgerWrite,
			Statement{Actions: []string{"ec2:CreateNetworkAclEntry"}, Resources: []string{arnEC2NetworkACL}},
			Statement{Actions: []string{"ec2:CreateSecurityGroup"}, Resources: []string{arnEC2SecurityGroup, arnEC2VPC}},
			Statement{Actions: []string{"ec2:RevokeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress", "ec2:AuthorizeSecurityGroupIngress", "ec2:CreateTags"}, Resources: []string{arnEC2SecurityGroup}},
			Statement{Actions: []string{"ec2:ModifyNetworkInterfaceAttribute"}, Resources: []string{arnEC2ENI, arnEC2SecurityGroup}},
			// The ENI remembers its original groups in a tag so a second run keeps them.
			Statement{Actions: []string{"ec2:CreateTags"}, Resources: []string{arnEC2ENI},
				Condition: map[string]map[string]string{"ForAllValues:StringLike": {"aws:TagKeys": "irflow:previous-security-groups*"}}},
			Statement{Actions: []string{"ec2:DescribeSecurityGroups", "ec2:DescribeNetworkInterfaces", "ec2:DescribeNetworkAcls", "ec2:DescribeVpcEndpoints", "ec2:DescribePrefixLists"}, Resources: []string{anyResource}},
		),
		Undo: &Undo{Action: ReleaseAction, Ledger: []string{"nacl-entry", "security-groups"}, Note: "each ENI back on exactly its recorded groups, irflow's network ACL denies deleted, the quarantine and transit groups deleted once no ENI uses them"},
	},
	{
		Name:        "protect-instance",
		Description: "Keeps the container instance: termination and stop protection, Auto Scaling standby, out of its load balancer target groups, then drained; records each change in the case's ledger.",
		// Draining makes ECS stop every task on the instance (a service's are
		// replaced elsewhere): it ends the target and its neighbours.
		Kind: KindContainment, LaunchTypes: ec2Only, Destructive: true, Mutating: true, StopsTarget: true,
		Params:  params("protect-instance"),
		Timeout: sec(60), Retry: retryStandard, MemoryMB: 256,
		IAM: base(ledgerWrite,
			Statement{Actions: []string{"ec2:ModifyInstanceAttribute"}, Resources: []string{arnEC2Instance}},
			Statement{Actions: []string{"autoscaling:EnterStandby"}, Resources: []string{arnASG}},
			Statement{Actions: []string{"elasticloadbalancing:DeregisterTargets"}, Resources: []string{arnELBTargetGroup}},
			Statement{Actions: []string{"autoscaling:DescribeAutoScalingInstances", "ec2:DescribeInstanceAttribute",
				"elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth"}, Resources: []string{anyResource}},
			Statement{Actions: []string{"ecs:UpdateContainerInstancesState", "ecs:DescribeContainerInstances"}, Resources: []string{arnECSContainerInstance}},
		),
		Undo: &Undo{Action: ReleaseAction, Ledger: []string{"instance-protection", "drain", "target-group", "standby"}, Note: "container instance back to its recorded status, targets re-registered, ExitStandby, termination and stop protection back to their recorded values"},
	},
	{
		Name:        "revoke-task-role-sessions",
		Description: "Puts an inline deny on the task role: for the task's own sessions (aws:userid, default) or for every session issued before now (aws:TokenIssueTime, scope role).",
		Kind:        KindContainment, LaunchTypes: both, Destructive: true, Mutating: true, NeedsTask: true,
		Params:  params("revoke-task-role-sessions"),
		Timeout: sec(30), Retry: retryStandard, MemoryMB: 256,
		IAM: base(ledgerWrite,
			Statement{Actions: []string{"iam:PutRolePolicy", "iam:GetRolePolicy", "iam:GetRole"}, Resources: []string{arnTaskRole}},
			Statement{Actions: []string{"ecs:DescribeTaskDefinition"}, Resources: []string{anyResource}},
		),
		Undo: &Undo{Action: ReleaseAction, Ledger: []string{"role-policy"}, Note: "removes only the statement irflow added (a later statement stays); restores the revocation it replaced"},
	},
	{
		Name:        "stop-task",
		Description: "Stops the task with the case id in the stop reason, waits until ECS reports it STOPPED, then removes the network ACL entries isolation added for it.",
		Kind:        KindContainment, LaunchTypes: both, Destructive: true, Mutating: true, StopsTarget: true, Async: true, NeedsTask: true,
		Params:  params("stop-task"),
		Timeout: sec(30), StepTimeout: mins(10), PollInterval: sec(10), Retry: retryStandard, MemoryMB: 256,
		IAM: base(ledgerWrite,
			Statement{Actions: []string{"ecs:StopTask", "ecs:DescribeTasks"}, Resources: []string{arnECSTask}},
			Statement{Actions: []string{"ecs:DescribeContainerInstances"}, Resources: []string{arnECSContainerInstance}},
			Statement{Actions: []string{"ec2:DeleteNetworkAclEntry"}, Resources: []string{arnEC2NetworkACL}},
			Statement{Actions: []string{"ec2:DescribeNetworkAcls"}, Resources: []string{anyResource}},
		),
		Undo: &Undo{Action: ReleaseAction, Ledger: []string{}, Note: "nothing to undo: a stopped task cannot be restarted; the release reports whether its service replaced it"},
	},
	{
		Name:        "scale-service",
		Description: "Sets the owning service's desired count (default 0) and records the old value so it can be restored.",
		Kind:        KindContainment, LaunchTypes: both, Destructive: true, Mutating: true, StopsTarget: true, NeedsTask: true,
		Params:  params("scale-service"),
		Timeout: sec(30), Retry: retryStandard, MemoryMB: 256,
		IAM: base(ledgerWrite,
			Statement{Actions: []string{"ecs:UpdateService", "ecs:DescribeServices"}, Resources: []string{arnECSService}},
			// The service keeps its original desired count in an irflow: tag for undo.
			Statement{Actions: []string{"ecs:TagResource"}, Resources: []string{arnECSService},
				Condition: map[string]map[string]string{"ForAllValues:StringLike": {"aws:TagKeys": "irflow:*"}}},
		),
		Undo: &Undo{Action: ReleaseAction, Ledger: []string{"desired-count"}, Note: "restores the recorded desired count unless the service's count was changed since (then refused)"},
	},
	{
		Name:        "pin-service",
		Description: "Stops the task's service from starting replacements from the compromised image: rolls it back to the newest earlier revision with provably other image digests, or scales it to zero; records the undo in the case's ledger.",
		// Both modes end the target: a rollback deployment replaces it, scaling to zero stops it.
		Kind: KindContainment, LaunchTypes: both, Destructive: true, Mutating: true, StopsTarget: true, NeedsTask: true,
		Params:  params("pin-service"),
		Timeout: sec(60), Retry: retryStandard, MemoryMB: 256,
		// scale-to-zero writes scale-service's desired-count entry (its undo).
		Undo: &Undo{Action: ReleaseAction, Ledger: []string{"task-definition"}, Note: "the service back on the revision it ran before the rollback unless someone deployed since (then refused); scale-to-zero is undone as scale-service's desired count"},
		IAM: base(ledgerWrite,
			Statement{Actions: []string{"ecs:UpdateService", "ecs:DescribeServices"}, Resources: []string{arnECSService}},
			// The service keeps what undoes the pin in irflow: tags.
			Statement{Actions: []string{"ecs:TagResource"}, Resources: []string{arnECSService},
				Condition: map[string]map[string]string{"ForAllValues:StringLike": {"aws:TagKeys": "irflow:*"}}},
			// ListTasks is authorized on container instances (Service Authorization Reference, Amazon ECS).
			Statement{Actions: []string{"ecs:ListTasks"}, Resources: []string{arnECSContainerInstance}},
			Statement{Actions: []string{"ecs:DescribeTasks"}, Resources: []string{arnECSTask}},
			Statement{Actions: []string{"ecs:ListTaskDefinitions", "ecs:DescribeTaskDefinition"}, Resources: []string{anyResource}},
			// UpdateService with a task definition passes the revision's task and execution roles
			// (AccessDenied on iam:PassRole otherwise, github.com/keidarcy/e1s/issues/429); to ECS
			// tasks only, and only roles under the task role path (docs/deploy.md: a service whose
			// revision names a role elsewhere cannot be pinned by irflow, and says so).
			Statement{Actions: []string{"iam:PassRole"}, Resources: []string{arnTaskRole},
				Condition: map[string]map[string]string{"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}},
		),
	},
	{
		Name:        "release-containment",
		Description: "Undoes a case's containment from its ledger, newest first: ENI groups, ACL denies, quarantine groups, standby, targets, drain, protection, deny statements, desired count, pinned revision; refuses each change the world has moved on from.",
		// Not destructive: it puts back what containment changed, and each
		// undo checks the change is still irflow's before it acts.
		Kind: KindContainment, LaunchTypes: both, Mutating: true,
		Params:  params("release-containment"),
		Timeout: sec(120), Retry: retryStandard, MemoryMB: 256,
		IAM: base(ledgerWrite,
			// Mode resolve (irflow-release's first state): the case's claim,
			// and only that key prefix of the incidents table
			// (dynamodb:LeadingKeys), and the start API's seal.
			Statement{Actions: []string{"dynamodb:GetItem"}, Resources: []string{"${IncidentsTableArn}"},
				Condition: map[string]map[string]string{"ForAllValues:StringLike": {"dynamodb:LeadingKeys": "case#*"}}},
			Statement{Actions: []string{"kms:VerifyMac"}, Resources: []string{"${MacKeyArn}"}},
			Statement{Actions: []string{"ec2:ModifyNetworkInterfaceAttribute"}, Resources: []string{arnEC2ENI, arnEC2SecurityGroup}},
			Statement{Actions: []string{"ec2:DeleteNetworkAclEntry"}, Resources: []string{arnEC2NetworkACL}},
			// Only the groups isolate-network created and tagged.
			Statement{Actions: []string{"ec2:DeleteSecurityGroup"}, Resources: []string{arnEC2SecurityGroup},
				Condition: map[string]map[string]string{"StringLike": {"aws:ResourceTag/irflow:quarantine": "*"}}},
			Statement{Actions: []string{"ec2:ModifyInstanceAttribute"}, Resources: []string{arnEC2Instance}},
			Statement{Actions: []string{"autoscaling:ExitStandby"}, Resources: []string{arnASG}},
			Statement{Actions: []string{"elasticloadbalancing:RegisterTargets"}, Resources: []string{arnELBTargetGroup}},
			Statement{Actions: []string{"ecs:UpdateContainerInstancesState", "ecs:DescribeContainerInstances"}, Resources: []string{arnECSContainerInstance}},
			Statement{Actions: []string{"ecs:UpdateService", "ecs:DescribeServices"}, Resources: []string{arnECSService}},
			Statement{Actions: []string{"ecs:DescribeTasks"}, Resources: []string{arnECSTask}},
			Statement{Actions: []string{"iam:GetRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy"}, Resources: []string{arnTaskRole}},
			// Undoing a pin deploys the service's previous revision, which
			// passes its roles (as pin-service's rollback does): to ECS tasks
			// only, roles under the task role path only.
			Statement{Actions: []string{"iam:PassRole"}, Resources: []string{arnTaskRole},
				Condition: map[string]map[string]string{"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}},
			Statement{Actions: []string{"ec2:DescribeNetworkInterfaces", "ec2:DescribeNetworkAcls", "ec2:DescribeSecurityGroups",
				"ec2:DescribeInstanceAttribute", "autoscaling:DescribeAutoScalingInstances"}, Resources: []string{anyResource}},
		),
	},
	{
		Name:        "notify",
		Description: "Publishes the case summary (readable text plus JSON) to the irflow SNS topic.",
		Kind:        KindNotify, LaunchTypes: both,
		Params:  params("notify"),
		Timeout: sec(30), Retry: retryStandard, MemoryMB: 256,
		IAM: base(
			Statement{Actions: []string{"sns:Publish"}, Resources: []string{"${TopicArn}"}},
		),
	},
	{
		Name:        "request-approval",
		Description: "Approval gate (waitForTaskToken): stores the pending approval, its token and how many distinct approvers it needs, and tells the approvers how to decide.",
		Kind:        KindApproval, LaunchTypes: both, Inserted: true,
		Params:  params("request-approval"),
		Timeout: sec(30), Retry: retryStandard, MemoryMB: 256,
		IAM: base(
			Statement{Actions: []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:GetItem"}, Resources: []string{"${ApprovalsTableArn}"}},
			Statement{Actions: []string{"sns:Publish"}, Resources: []string{"${TopicArn}"}},
		),
	},
	{
		Name:        "finalize-case",
		Description: "Writes the case report (JSON and Markdown), the case-finalized audit record and the evidence manifest anchoring the audit chain (count, head hash, MAC), and releases the dedupe lock.",
		Kind:        KindSystem, LaunchTypes: both, Inserted: true,
		Params:  params("finalize-case"),
		Timeout: sec(120), Retry: retryPatient, MemoryMB: 512,
		IAM: base(evidenceWrite,
			Statement{Actions: []string{"dynamodb:DeleteItem", "dynamodb:GetItem"}, Resources: []string{"${IncidentsTableArn}"}},
			// The outcome on the case's claim (irflow cases), and nothing
			// else of the table (dynamodb:LeadingKeys, as ledgerWrite).
			Statement{Actions: []string{"dynamodb:UpdateItem"}, Resources: []string{"${IncidentsTableArn}"},
				Condition: map[string]map[string]string{"ForAllValues:StringLike": {"dynamodb:LeadingKeys": "case#*"}}},
		),
	},
}
