package catalog

import "strings"

// Placeholders may appear in IAM resource patterns. The CDK app replaces them
// with the stack's partition, region, account and resource ARNs; nothing else
// in a resource pattern is interpreted.
var Placeholders = []string{
	"${Partition}", "${Region}", "${Account}",
	"${EvidenceBucketArn}", "${AuditTableArn}", "${ApprovalsTableArn}",
	"${IncidentsTableArn}", "${TopicArn}", "${KeyArn}", "${MacKeyArn}", "${NamePrefix}",
	// TaskRolePath is the IAM path ECS task roles live under (the CDK
	// context key taskRolePath, default /ecs-tasks/): the only roles
	// revoke-task-role-sessions may put a policy on. docs/deploy.md.
	"${TaskRolePath}",
}

// Resource patterns shared by several actions. Describe/List calls that IAM
// cannot scope to a resource use "*" as the resource (never as the action).
const (
	arnECSTask              = "arn:${Partition}:ecs:${Region}:${Account}:task/*"
	arnECSCluster           = "arn:${Partition}:ecs:${Region}:${Account}:cluster/*"
	arnECSContainerInstance = "arn:${Partition}:ecs:${Region}:${Account}:container-instance/*"
	arnECSService           = "arn:${Partition}:ecs:${Region}:${Account}:service/*"
	arnEC2Instance          = "arn:${Partition}:ec2:${Region}:${Account}:instance/*"
	arnEC2Volume            = "arn:${Partition}:ec2:${Region}:${Account}:volume/*"
	arnEC2Snapshot          = "arn:${Partition}:ec2:${Region}::snapshot/*"
	arnEC2ENI               = "arn:${Partition}:ec2:${Region}:${Account}:network-interface/*"
	arnEC2SecurityGroup     = "arn:${Partition}:ec2:${Region}:${Account}:security-group/*"
	arnEC2VPC               = "arn:${Partition}:ec2:${Region}:${Account}:vpc/*"
	arnEC2FlowLog           = "arn:${Partition}:ec2:${Region}:${Account}:vpc-flow-log/*"
	arnEC2Mirror            = "arn:${Partition}:ec2:${Region}:${Account}:traffic-mirror-*"
	arnASG                  = "arn:${Partition}:autoscaling:${Region}:${Account}:autoScalingGroup:*:autoScalingGroupName/*"
	arnLogGroup             = "arn:${Partition}:logs:${Region}:${Account}:log-group:*"
	arnSSMRunShell          = "arn:${Partition}:ssm:${Region}::document/AWS-RunShellScript"
	arnSSMCommand           = "arn:${Partition}:ssm:${Region}:${Account}:*"
	arnEvidenceObjects      = "${EvidenceBucketArn}/cases/*"
	arnIrflowStateMachine   = "arn:${Partition}:states:${Region}:${Account}:stateMachine:${NamePrefix}-*"
	arnIrflowExecution      = "arn:${Partition}:states:${Region}:${Account}:execution:${NamePrefix}-*:*"
	arnGuardDutyDetector    = "arn:${Partition}:guardduty:${Region}:${Account}:detector/*"
	anyResource             = "*"
	// arnTaskRole is a role under the task role path, never irflow's own
	// (those are under /irflow/, and the CDK app refuses a task role path
	// that could match them).
	arnTaskRole       = "arn:${Partition}:iam::${Account}:role${TaskRolePath}*"
	arnEC2NetworkACL  = "arn:${Partition}:ec2:${Region}:${Account}:network-acl/*"
	arnELBTargetGroup = "arn:${Partition}:elasticloadbalancing:${Region}:${Account}:targetgroup/*"
)

// auditWrite lets a task append to the hash-chained audit log of its case
// (ConditionCheckItem: a record put after the head the step before handed
// over checks that head in the same TransactWriteItems, audit.AppendOnHead).
var auditWrite = Statement{
	Actions:   []string{"dynamodb:ConditionCheckItem", "dynamodb:PutItem", "dynamodb:Query"},
	Resources: []string{"${AuditTableArn}"},
}

// macSign lets a function authenticate what it appends to the audit chain
// (and finalize-case the manifest's anchor, the start API its envelope)
// with the deployment's HMAC key; nothing else may use that key.
var macSign = Statement{
	Actions:   []string{"kms:GenerateMac"},
	Resources: []string{"${MacKeyArn}"},
}

// kmsUse covers the customer-managed key that encrypts the tables, the bucket and the topic.
var kmsUse = Statement{
	Actions:   []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"},
	Resources: []string{"${KeyArn}"},
}

// evidenceWrite lets a task store evidence objects under cases/.
var evidenceWrite = Statement{
	Actions:   []string{"s3:PutObject"},
	Resources: []string{arnEvidenceObjects},
}

// evidenceReadBack lets an SSM action read the host's uploads back
// (HeadObject needs s3:GetObject; a GetObject of a version,
// s3:GetObjectVersion) to hash them server-side.
var evidenceReadBack = Statement{
	Actions:   []string{"s3:GetObject", "s3:GetObjectVersion"},
	Resources: []string{arnEvidenceObjects},
}

// ledgerWrite lets a containment action read and append to the case's
// containment ledger in the incidents table, and nothing else there: the
// dedupe locks and case claims share the table under other key prefixes
// (dynamodb:LeadingKeys, "Using IAM policy conditions for fine-grained
// access control" —
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html).
var ledgerWrite = Statement{
	Actions:   []string{"dynamodb:GetItem", "dynamodb:PutItem"},
	Resources: []string{"${IncidentsTableArn}"},
	Condition: map[string]map[string]string{"ForAllValues:StringLike": {"dynamodb:LeadingKeys": "ledger#*"}},
}

// ssmRunCommand sends AWS-RunShellScript to the container instance and reads the result.
var ssmRunCommand = []Statement{
	{Actions: []string{"ssm:SendCommand"}, Resources: []string{arnSSMRunShell, arnEC2Instance}},
	{Actions: []string{"ssm:GetCommandInvocation"}, Resources: []string{arnSSMCommand}},
}

// CommonIAM is what every task Lambda's role holds besides its own
// statements: appending MAC-authenticated records to the audit chain and
// using the irflow key.
func CommonIAM() []Statement { return []Statement{auditWrite, macSign, kmsUse} }

// base is what every task Lambda needs: audit (with its MAC) and the key.
func base(extra ...Statement) []Statement {
	out := []Statement{auditWrite, macSign, kmsUse}
	return append(out, extra...)
}

// storePlaceholders name irflow's own resources (evidence bucket, tables,
// topic, keys, state machines): they live in the administrator (home)
// account, never in a member account.
var storePlaceholders = []string{"${EvidenceBucketArn}", "${AuditTableArn}", "${ApprovalsTableArn}",
	"${IncidentsTableArn}", "${TopicArn}", "${KeyArn}", "${MacKeyArn}", "${NamePrefix}"}

// WorkloadIAM returns the statements of the action that act on the target's
// workload (ECS, EC2, IAM task roles, logs, SSM, Auto Scaling, load
// balancing), the ones a member account's responder role holds: every
// statement but those on irflow's own stores and GuardDuty's (the
// administrator's detector confirms members' findings).
func (a *Action) WorkloadIAM() []Statement {
	var out []Statement
	for _, st := range a.IAM {
		if !homeOnly(st) {
			out = append(out, st)
		}
	}
	return out
}

// ActsInTarget reports whether the action calls the target's account at
// all: it then runs with the member account's responder role when the
// target is not in the home account.
func (a *Action) ActsInTarget() bool { return len(a.WorkloadIAM()) > 0 }

func homeOnly(st Statement) bool {
	for _, act := range st.Actions {
		if strings.HasPrefix(act, "guardduty:") {
			return true
		}
	}
	for _, r := range st.Resources {
		for _, p := range storePlaceholders {
			if strings.Contains(r, p) {
				return true
			}
		}
	}
	return false
}

// Responder roles: the member stack (infra/member.go, docs/deploy.md)
// creates one per action that acts in the target, in every member account,
// under this path and with this name, each trusted only by that action's
// Lambda role in the administrator account (tasks/taskrt Targets assumes it).
const (
	ResponderRolePath   = "/irflow/"
	ResponderRolePrefix = "irflow-responder-"
)

// ResponderRoleName is the name of the action's role in a member account.
func ResponderRoleName(action string) string { return ResponderRolePrefix + action }
