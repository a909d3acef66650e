package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// TestEvidenceBucket: Object Lock with the configured default retention,
// versioning, SSE-KMS with the stack's key, public access blocked, TLS only,
// access logs to the other bucket, and flow-log delivery under cases/ only.
func TestEvidenceBucket(t *testing.T) {
	tests := []struct {
		name    string
		context map[string]any
		mode    string
		days    float64
	}{
		{"defaults", nil, "GOVERNANCE", 365},
		{"compliance", map[string]any{ctxObjectLockMode: "compliance", ctxRetentionDays: 30}, "COMPLIANCE", 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := synthWith(t, tt.context)
			keyID, _ := s.byPrefix(t, "AWS::KMS::Key", "Key")
			logsID, _ := s.byPrefix(t, "AWS::S3::Bucket", "AccessLogsBucket")
			id, b := s.byPrefix(t, "AWS::S3::Bucket", "EvidenceBucket")
			p := b.Properties
			if p["ObjectLockEnabled"] != true {
				t.Errorf("ObjectLockEnabled = %v", p["ObjectLockEnabled"])
			}
			if got := path(p, "ObjectLockConfiguration", "Rule", "DefaultRetention"); jsonString(got) != jsonString(map[string]any{"Days": tt.days, "Mode": tt.mode}) {
				t.Errorf("default retention %v; want %v days %s", got, tt.days, tt.mode)
			}
			if path(p, "VersioningConfiguration", "Status") != "Enabled" {
				t.Errorf("versioning %v", p["VersioningConfiguration"])
			}
			sse := path(p, "BucketEncryption", "ServerSideEncryptionConfiguration").([]any)[0]
			if path(sse, "ServerSideEncryptionByDefault", "SSEAlgorithm") != "aws:kms" || getAtt(path(sse, "ServerSideEncryptionByDefault", "KMSMasterKeyID")) != keyID {
				t.Errorf("encryption %v; want aws:kms with %s", sse, keyID)
			}
			for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
				if path(p, "PublicAccessBlockConfiguration", k) != true {
					t.Errorf("%s not set", k)
				}
			}
			if getAtt(path(p, "LoggingConfiguration", "DestinationBucketName")) != logsID {
				t.Errorf("access logs to %v; want %s", p["LoggingConfiguration"], logsID)
			}
			policy := bucketPolicy(t, s, id)
			if !deniesInsecureTransport(policy, "s3:*") {
				t.Errorf("evidence bucket policy does not deny requests without TLS")
			}
			delivery := 0
			for _, st := range policy {
				if jsonString(st["Principal"]) != `{"Service":"delivery.logs.amazonaws.com"}` {
					continue
				}
				delivery++
				if path(st, "Condition", "StringEquals", "aws:SourceAccount") == nil {
					t.Errorf("flow-log delivery statement without aws:SourceAccount: %v", st)
				}
				if strs(st["Action"])[0] == "s3:PutObject" && !strings.HasSuffix(jsonString(st["Resource"]), `"/cases/*"]]}`) {
					t.Errorf("flow-log delivery may write %v; want cases/* only", st["Resource"])
				}
			}
			if delivery != 2 {
				t.Errorf("%d flow-log delivery statements; want write and ACL check", delivery)
			}
		})
	}
}

// TestTables: audit, approvals and incidents with the runtime contract's
// keys, point-in-time recovery, the stack's key and deletion protection,
// which the destroy removal policy turns off.
func TestTables(t *testing.T) {
	tests := []struct {
		name       string
		context    map[string]any
		protected  bool
		deletionOf string
	}{
		{"retain", nil, true, "Retain"},
		{"destroy", map[string]any{ctxRemovalPolicy: "destroy"}, false, "Delete"},
	}
	keys := map[string]string{
		"AuditTable":     `[{"AttributeName":"caseId","KeyType":"HASH"},{"AttributeName":"seq","KeyType":"RANGE"}]`,
		"ApprovalsTable": `[{"AttributeName":"approvalId","KeyType":"HASH"}]`,
		"IncidentsTable": `[{"AttributeName":"pk","KeyType":"HASH"}]`,
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := synthWith(t, tt.context)
			keyID, _ := s.byPrefix(t, "AWS::KMS::Key", "Key")
			check(t, "table count", func() { s.template.ResourceCountIs(jsii.String("AWS::DynamoDB::Table"), jsii.Number(3)) })
			for prefix, schema := range keys {
				_, tbl := s.byPrefix(t, "AWS::DynamoDB::Table", prefix)
				p := tbl.Properties
				if jsonString(p["KeySchema"]) != schema {
					t.Errorf("%s keys %s; want %s", prefix, jsonString(p["KeySchema"]), schema)
				}
				if path(p, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled") != true {
					t.Errorf("%s without point-in-time recovery", prefix)
				}
				if path(p, "SSESpecification", "SSEType") != "KMS" || getAtt(path(p, "SSESpecification", "KMSMasterKeyId")) != keyID {
					t.Errorf("%s encryption %v; want KMS with %s", prefix, p["SSESpecification"], keyID)
				}
				if p["DeletionProtectionEnabled"] != tt.protected || tbl.DeletionPolicy != tt.deletionOf {
					t.Errorf("%s deletion protection %v policy %s; want %v %s", prefix, p["DeletionProtectionEnabled"], tbl.DeletionPolicy, tt.protected, tt.deletionOf)
				}
			}
			_, inc := s.byPrefix(t, "AWS::DynamoDB::Table", "IncidentsTable")
			if jsonString(inc.Properties["TimeToLiveSpecification"]) != `{"AttributeName":"expiresAt","Enabled":true}` {
				t.Errorf("incidents TTL %v", inc.Properties["TimeToLiveSpecification"])
			}
		})
	}
}

// TestKeyTopicAndQueue: the key rotates; the topic and the dead-letter
// queue use it and refuse requests without TLS; e-mails subscribe.
func TestKeyTopicAndQueue(t *testing.T) {
	s := synthWith(t, map[string]any{ctxEmails: "soc@example.com, oncall@example.com"})
	keyID, key := s.byPrefix(t, "AWS::KMS::Key", "Key")
	if key.Properties["EnableKeyRotation"] != true {
		t.Errorf("key rotation off")
	}
	// The topic and the dead-letter queue: each encrypted with the key, its
	// policy denying requests without TLS.
	var topicID string
	for _, c := range []struct{ typ, id, policyType, refs, action, what, denial string }{
		{"AWS::SNS::Topic", "Topic", "AWS::SNS::TopicPolicy", "Topics", "sns:Publish", "topic", "topic policy does not deny publishing without TLS"},
		{"AWS::SQS::Queue", "TriggerDeadLetterQueue", "AWS::SQS::QueuePolicy", "Queues", "sqs:*", "dead-letter queue", "queue policy does not deny requests without TLS"},
	} {
		id, r := s.byPrefix(t, c.typ, c.id)
		if getAtt(r.Properties["KmsMasterKeyId"]) != keyID {
			t.Errorf("%s key %v; want %s", c.what, r.Properties["KmsMasterKeyId"], keyID)
		}
		_, p := s.byPrefix(t, c.policyType, c.id+"Policy")
		if !deniesInsecureTransport(statements(p.Properties["PolicyDocument"]), c.action) || getAtt(list(p.Properties[c.refs])[0]) != id {
			t.Error(c.denial)
		}
		if c.typ == "AWS::SNS::Topic" {
			topicID = id
		}
	}
	check(t, "e-mail subscriptions", func() {
		for _, e := range []string{"soc@example.com", "oncall@example.com"} {
			s.template.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), map[string]any{
				"Protocol": "email", "Endpoint": e, "TopicArn": map[string]any{"Ref": topicID},
			})
		}
		s.template.ResourceCountIs(jsii.String("AWS::SNS::Subscription"), jsii.Number(2))
	})
	check(t, "key policy names the services", func() {
		for _, svc := range []string{"delivery.logs.amazonaws.com", "cloudwatch.amazonaws.com", "events.amazonaws.com"} {
			s.template.HasResourceProperties(jsii.String("AWS::KMS::Key"), map[string]any{
				"KeyPolicy": assertions.Match_ObjectLike(&map[string]any{
					"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
						"Principal": map[string]any{"Service": svc},
						"Condition": assertions.Match_AnyValue(),
					})}),
				}),
			})
		}
	})
}

// bucketPolicy returns the statements of the bucket's policy.
func bucketPolicy(t *testing.T, s *synthesized, bucketID string) []map[string]any {
	t.Helper()
	for _, id := range s.ofType("AWS::S3::BucketPolicy") {
		if getAtt(s.resources[id].Properties["Bucket"]) == bucketID {
			return statements(s.resources[id].Properties["PolicyDocument"])
		}
	}
	t.Fatalf("no policy for bucket %s", bucketID)
	return nil
}

func statements(doc any) []map[string]any {
	var out []map[string]any
	for _, st := range list(path(doc, "Statement")) {
		if m, ok := st.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// deniesInsecureTransport reports whether a statement denies action to
// everyone when aws:SecureTransport is false.
func deniesInsecureTransport(sts []map[string]any, action string) bool {
	for _, st := range sts {
		if st["Effect"] == "Deny" && path(st, "Condition", "Bool", "aws:SecureTransport") == "false" {
			for _, a := range strs(st["Action"]) {
				if a == action {
					return true
				}
			}
		}
	}
	return false
}

// jsonString is v as compact JSON, without HTML escaping (">=" stays ">=").
func jsonString(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return strings.TrimSuffix(b.String(), "\n")
}

// TestMemberFlowLogDelivery: with memberAccounts, the evidence bucket's and
// the key's flow-log delivery statements admit those accounts' log
// sources in this region besides the stack's own, and nothing else; a bad
// account id is refused.
func TestMemberFlowLogDelivery(t *testing.T) {
	const m1, m2 = "222233334444", "333344445555"
	s := synthWith(t, map[string]any{ctxMemberAccounts: []any{m1, m2}})
	id, _ := s.byPrefix(t, "AWS::S3::Bucket", "EvidenceBucket")
	_, key := s.byPrefix(t, "AWS::KMS::Key", "Key")
	var sts []map[string]any
	sts = append(sts, bucketPolicy(t, s, id)...)
	sts = append(sts, statements(key.Properties["KeyPolicy"])...)
	n := 0
	for _, st := range sts {
		if jsonString(st["Principal"]) != `{"Service":"delivery.logs.amazonaws.com"}` {
			continue
		}
		n++
		accounts := jsonString(path(st, "Condition", "StringEquals", "aws:SourceAccount"))
		arns := jsonString(path(st, "Condition", "ArnLike", "aws:SourceArn"))
		for _, m := range []string{m1, m2} {
			if !strings.Contains(accounts, `"`+m+`"`) || !strings.Contains(arns, ":"+m+`:*"`) {
				t.Errorf("delivery statement %s without member %s: %s %s", st["Sid"], m, accounts, arns)
			}
		}
		if !strings.Contains(accounts, "AWS::AccountId") || strings.Count(arns, ":logs:") != 3 {
			t.Errorf("delivery statement %s: accounts %s, sources %s; want the stack's account and the two members", st["Sid"], accounts, arns)
		}
	}
	if n != 3 {
		t.Errorf("%d flow-log delivery statements; want the bucket's write and ACL check and the key's", n)
	}
	if _, err := ConfigFromContext(mapContext{ctxMemberAccounts: []any{"1234"}}, "."); err == nil || !strings.Contains(err.Error(), ctxMemberAccounts) {
		t.Errorf("bad member account: %v", err)
	}
}
