package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
)

// storage is where a case's record lives: the evidence objects, the audit
// chain, the approvals and the dedupe locks.
type storage struct {
	evidence   awss3.Bucket
	accessLogs awss3.Bucket
	audit      awsdynamodb.Table
	approvals  awsdynamodb.Table
	incidents  awsdynamodb.Table
}

// newStorage creates the buckets and tables, all encrypted with key.
func newStorage(stack awscdk.Stack, cfg Config, key awskms.IKey, removal awscdk.RemovalPolicy) *storage {
	s := &storage{}
	s.accessLogs, s.evidence = newEvidenceBucket(stack, cfg, key, removal)
	s.audit = newTable(stack, "AuditTable", key, removal, "caseId", &awsdynamodb.Attribute{
		Name: jsii.String("seq"), Type: awsdynamodb.AttributeType_NUMBER,
	}, "")
	s.approvals = newTable(stack, "ApprovalsTable", key, removal, "approvalId", nil, "")
	// One string key, "pk", with a prefix per kind of item: task#<taskArn>
	// (dedupe locks, expiring through the TTL attribute), case#<caseId> (the
	// one execution of a case), and what later parts add (docs/internals.md).
	s.incidents = newTable(stack, "IncidentsTable", key, removal, "pk", nil, "expiresAt")
	return s
}

// newEvidenceBucket creates the Object Lock evidence bucket and the bucket
// its server access logs go to. Every object written under cases/ is kept
// for the default retention whatever the writer asks: GOVERNANCE lets a
// principal with s3:BypassGovernanceRetention remove it early, COMPLIANCE
// lets nobody.
func newEvidenceBucket(stack awscdk.Stack, cfg Config, key awskms.IKey, removal awscdk.RemovalPolicy) (logs, evidence awss3.Bucket) {
	// Server access logs cannot be delivered to an SSE-KMS bucket: S3-managed keys.
	logs = awss3.NewBucket(stack, jsii.String("AccessLogsBucket"), &awss3.BucketProps{
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:        jsii.Bool(true),
		MinimumTLSVersion: jsii.Number(1.2),
		Versioned:         jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		RemovalPolicy:     removal,
	})
	retention := awscdk.Duration_Days(jsii.Number(float64(cfg.EvidenceRetentionDays)))
	lock := awss3.ObjectLockRetention_Governance(retention)
	if cfg.ObjectLockMode == "COMPLIANCE" {
		lock = awss3.ObjectLockRetention_Compliance(retention)
	}
	evidence = awss3.NewBucket(stack, jsii.String("EvidenceBucket"), &awss3.BucketProps{
		Encryption:                 awss3.BucketEncryption_KMS,
		EncryptionKey:              key,
		BucketKeyEnabled:           jsii.Bool(true),
		BlockPublicAccess:          awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:                 jsii.Bool(true),
		MinimumTLSVersion:          jsii.Number(1.2),
		Versioned:                  jsii.Bool(true),
		ObjectLockEnabled:          jsii.Bool(true),
		ObjectLockDefaultRetention: lock,
		ObjectOwnership:            awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		ServerAccessLogsBucket:     logs,
		ServerAccessLogsPrefix:     jsii.String("evidence/"),
		RemovalPolicy:              removal,
	})
	allowFlowLogDelivery(stack, evidence, cfg.MemberAccounts)
	return logs, evidence
}

// allowFlowLogDelivery lets VPC flow logs (enable-flow-logs) write under
// cases/ — the statements AWS documents for flow logs to S3, held to the
// log sources of this account and of the member accounts irflow responds
// in (a member's enable-flow-logs delivers to this bucket).
func allowFlowLogDelivery(stack awscdk.Stack, bucket awss3.Bucket, members []string) {
	delivery := awsiam.NewServicePrincipal(jsii.String("delivery.logs.amazonaws.com"), nil)
	write := awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("FlowLogDeliveryWrite"),
		Principals: &[]awsiam.IPrincipal{delivery},
		Actions:    jsii.Strings("s3:PutObject"),
		Resources:  jsii.Strings(*bucket.BucketArn() + "/cases/*"),
		Conditions: logDelivery(stack, members),
	})
	write.AddCondition(jsii.String("StringEquals"), map[string]any{"s3:x-amz-acl": "bucket-owner-full-control"})
	bucket.AddToResourcePolicy(write)
	bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("FlowLogDeliveryAclCheck"),
		Principals: &[]awsiam.IPrincipal{delivery},
		Actions:    jsii.Strings("s3:GetBucketAcl", "s3:ListBucket"),
		Resources:  jsii.Strings(*bucket.BucketArn()),
		Conditions: logDelivery(stack, members),
	}))
}

// newTable creates one on-demand table with point-in-time recovery and the
// irflow key. Deletion protection is on unless the removal policy is destroy
// (a test account), so nobody deletes the audit chain by accident.
func newTable(stack awscdk.Stack, id string, key awskms.IKey, removal awscdk.RemovalPolicy, pk string, sk *awsdynamodb.Attribute, ttl string) awsdynamodb.Table {
	props := &awsdynamodb.TableProps{
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String(pk), Type: awsdynamodb.AttributeType_STRING},
		SortKey:      sk,
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		Encryption:         awsdynamodb.TableEncryption_CUSTOMER_MANAGED,
		EncryptionKey:      key,
		DeletionProtection: jsii.Bool(removal != awscdk.RemovalPolicy_DESTROY),
		RemovalPolicy:      removal,
	}
	if ttl != "" {
		props.TimeToLiveAttribute = jsii.String(ttl)
	}
	return awsdynamodb.NewTable(stack, jsii.String(id), props)
}
