package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/jsii-runtime-go"

	"github.com/irflow/irflow/ops"
)

// keyAdminActions are what the account (through IAM) may do to the key
// itself. CDK's default key policy grants kms:* to the account root; this
// list is that grant spelled out, so no policy of the stack allows a
// wildcard action.
var keyAdminActions = []string{
	"kms:CancelKeyDeletion", "kms:CreateAlias", "kms:CreateGrant", "kms:DeleteAlias",
	"kms:DescribeKey", "kms:DisableKey", "kms:DisableKeyRotation", "kms:EnableKey",
	"kms:EnableKeyRotation", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListAliases",
	"kms:ListGrants", "kms:ListKeyPolicies", "kms:ListKeyRotations", "kms:ListResourceTags",
	"kms:PutKeyPolicy", "kms:RetireGrant", "kms:RevokeGrant", "kms:RotateKeyOnDemand",
	"kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource", "kms:UpdateAlias",
	"kms:UpdateKeyDescription",
}

// keyUseActions are the data-plane calls. The account root holds them so that
// IAM policies (each function's role names the key) take effect: the key
// policy delegates, the roles decide.
var keyUseActions = []string{
	"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext",
	"kms:ReEncryptFrom", "kms:ReEncryptTo",
}

// accountKeyPolicy is the start of both keys' policies: the account
// administers the key, and delegates the use actions to IAM under useSid
// ("*" in a key policy is the key itself).
func accountKeyPolicy(useSid string, useActions []string) awsiam.PolicyDocument {
	root := &[]awsiam.IPrincipal{awsiam.NewAccountRootPrincipal()}
	doc := awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{})
	doc.AddStatements(
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("AccountAdministersKey"), Principals: root,
			Actions: jsii.Strings(keyAdminActions...), Resources: jsii.Strings("*"),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String(useSid), Principals: root,
			Actions: jsii.Strings(useActions...), Resources: jsii.Strings("*"),
		}),
	)
	return doc
}

// newKey creates the customer-managed key that encrypts the evidence, the
// tables, the topic, the dead-letter queue and the log groups, with yearly
// rotation and a policy that names every AWS service using it.
func newKey(stack awscdk.Stack, removal awscdk.RemovalPolicy, members []string) awskms.Key {
	account, partition := stack.Account(), stack.Partition()
	region := stack.Region()
	// sourceArn keeps a service principal to this account's resources of one kind.
	sourceArn := func(service, resource string) *map[string]any {
		return &map[string]any{"ArnLike": map[string]any{
			"aws:SourceArn": "arn:" + *partition + ":" + service + ":" + *region + ":" + *account + ":" + resource,
		}}
	}
	service := func(name string) awsiam.IPrincipal { return awsiam.NewServicePrincipal(jsii.String(name), nil) }

	doc := accountKeyPolicy("AccountDelegatesUseToIam", keyUseActions)
	doc.AddStatements(
		// CloudWatch Logs encrypts the function and state machine log groups
		// of this account and region.
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("CloudWatchLogsEncryptsLogGroups"),
			Principals: &[]awsiam.IPrincipal{service("logs." + *region + "." + *stack.UrlSuffix())},
			Actions:    jsii.Strings("kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"),
			Resources:  jsii.Strings("*"),
			Conditions: &map[string]any{"ArnLike": map[string]any{
				"kms:EncryptionContext:aws:logs:arn": "arn:" + *partition + ":logs:" + *region + ":" + *account + ":log-group:*",
			}},
		}),
		// enable-flow-logs delivers VPC flow logs into the SSE-KMS evidence bucket.
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("FlowLogDeliveryEncryptsEvidence"),
			Principals: &[]awsiam.IPrincipal{service("delivery.logs.amazonaws.com")},
			Actions:    jsii.Strings("kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:DescribeKey"),
			Resources:  jsii.Strings("*"),
			Conditions: logDelivery(stack, members),
		}),
		// CloudWatch alarms publish to the encrypted topic.
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("AlarmsPublishToTopic"),
			Principals: &[]awsiam.IPrincipal{service("cloudwatch.amazonaws.com")},
			Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey"),
			Resources:  jsii.Strings("*"),
			Conditions: sourceArn("cloudwatch", "alarm:*"),
		}),
		// EventBridge puts undeliverable GuardDuty events on the encrypted dead-letter queue.
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("EventBridgeWritesDeadLetters"),
			Principals: &[]awsiam.IPrincipal{service("events.amazonaws.com")},
			Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey"),
			Resources:  jsii.Strings("*"),
			Conditions: sourceArn("events", "rule/*"),
		}),
	)
	return awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{
		Description:       jsii.String("irflow: evidence, audit log, approvals, notifications and logs"),
		EnableKeyRotation: jsii.Bool(true),
		Policy:            doc,
		RemovalPolicy:     removal,
		PendingWindow:     awscdk.Duration_Days(jsii.Number(30)),
	})
}

// logDelivery is the condition AWS documents for delivery.logs.amazonaws.com
// (Amazon S3 bucket permissions for flow logs,
// https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3-permissions.html:
// aws:SourceAccount the accounts whose flow logs may be delivered,
// aws:SourceArn arn:aws:logs:REGION:ACCOUNT:*): deliveries for log sources
// of this account and the member accounts (memberAccounts), in this region.
func logDelivery(stack awscdk.Stack, members []string) *map[string]any {
	accounts := []string{*stack.Account()}
	arns := []string{"arn:" + *stack.Partition() + ":logs:" + *stack.Region() + ":" + *stack.Account() + ":*"}
	for _, m := range members {
		accounts = append(accounts, m)
		arns = append(arns, "arn:"+*stack.Partition()+":logs:"+*stack.Region()+":"+m+":*")
	}
	if len(members) == 0 {
		return &map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": accounts[0]},
			"ArnLike":      map[string]any{"aws:SourceArn": arns[0]},
		}
	}
	return &map[string]any{
		"StringEquals": map[string]any{"aws:SourceAccount": accounts},
		"ArnLike":      map[string]any{"aws:SourceArn": arns},
	}
}

// macKeyUseActions are the MAC key's data-plane calls, delegated to IAM:
// each function's role names the ones it may make (catalog), and
// operators who run irflow audit --verify need kms:VerifyMac.
var macKeyUseActions = []string{"kms:GenerateMac", "kms:VerifyMac"}

// newMACKey creates the HMAC key (HMAC_256, GENERATE_VERIFY_MAC) that
// authenticates audit records, the manifest's audit anchor and the start
// API's envelopes. Only the account administers it, and only IAM policies
// that name it may use it: a principal with write access to the tables or
// the bucket but not kms:GenerateMac on this key cannot forge any of them.
// KMS does not rotate HMAC keys automatically
// (https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html);
// rotating means a new key and verifying older cases with the old one.
//
// The key gets the alias ops.MACKeyAlias(stack name), by which irflow audit
// --verify finds it when it cannot read the stack's outputs.
func newMACKey(stack awscdk.Stack, removal awscdk.RemovalPolicy) awskms.Key {
	doc := accountKeyPolicy("AccountDelegatesMacToIam", macKeyUseActions)
	key := awskms.NewKey(stack, jsii.String("MacKey"), &awskms.KeyProps{
		Description:   jsii.String("irflow: HMAC key of audit records, manifest anchors and start envelopes"),
		KeySpec:       awskms.KeySpec_HMAC_256,
		KeyUsage:      awskms.KeyUsage_GENERATE_VERIFY_MAC,
		Policy:        doc,
		RemovalPolicy: removal,
		PendingWindow: awscdk.Duration_Days(jsii.Number(30)),
	})
	key.AddAlias(jsii.String(ops.MACKeyAlias(*stack.StackName())))
	return key
}
