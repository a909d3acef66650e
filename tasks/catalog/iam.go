package catalog

// Placeholders may appear in IAM resource patterns. The CDK app replaces them
// with the stack's partition, region, account and resource ARNs; nothing else
// in a resource pattern is interpreted.
var Placeholders = []string{
	"${Partition}", "${Region}", "${Account}",
	"${EvidenceBucketArn}", "${AuditTableArn}", "${ApprovalsTableArn}",
	"${IncidentsTableArn}", "${TopicArn}", "${KeyArn}",
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
	arnIAMRole              = "arn:${Partition}:iam::${Account}:role/*"
	arnLogGroup             = "arn:${Partition}:logs:${Region}:${Account}:log-group:*"
	arnSSMRunShell          = "arn:${Partition}:ssm:${Region}::document/AWS-RunShellScript"
	arnSSMCommand           = "arn:${Partition}:ssm:${Region}:${Account}:*"
	arnEvidenceObjects      = "${EvidenceBucketArn}/cases/*"
	anyResource             = "*"
)

// auditWrite lets a task append to the hash-chained audit log of its case.
var auditWrite = Statement{
	Actions:   []string{"dynamodb:PutItem", "dynamodb:Query"},
	Resources: []string{"${AuditTableArn}"},
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

// ssmRunCommand sends AWS-RunShellScript to the container instance and reads the result.
var ssmRunCommand = []Statement{
	{Actions: []string{"ssm:SendCommand"}, Resources: []string{arnSSMRunShell, arnEC2Instance}},
	{Actions: []string{"ssm:GetCommandInvocation"}, Resources: []string{arnSSMCommand}},
}

// CommonIAM is what every task Lambda's role holds besides its own
// statements: appending to the audit chain and using the irflow key.
func CommonIAM() []Statement { return []Statement{auditWrite, kmsUse} }

// base is what every task Lambda needs: audit and the key.
func base(extra ...Statement) []Statement {
	out := []Statement{auditWrite, kmsUse}
	return append(out, extra...)
}
