package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/stricttest"
	"github.com/irflow/irflow/ops"
	"github.com/irflow/irflow/tasks/audit"
	finalize "github.com/irflow/irflow/tasks/finalize-case/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

// The operator commands' integration tests run against moto behind the
// AWS-strict layer, as every moto test does (stricttest.Main; the layer
// makes DynamoDB's conditional writes atomic, as DynamoDB's are).
func TestMain(m *testing.M) { stricttest.Main(m) }

func opsMoto(t *testing.T) string {
	t.Helper()
	return mototest.Endpoint(t)
}

// opsAWSEnv gives the CLI fake credentials through the standard chain and
// keeps the developer's own AWS configuration out of the test.
func opsAWSEnv(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// opsMotoConfig is an SDK config for setting up and inspecting moto.
func opsMotoConfig(ep string) aws.Config {
	return aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(ep),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "testing", "")}
}

// opsTableWorld is the operator commands' moto: its endpoint, the AWS
// environment and a config for it, and a new table (opsCreateTable) named
// from prefix.
func opsTableWorld(t *testing.T, prefix, pk, sk string) (ep string, cfg aws.Config, table string) {
	t.Helper()
	ep = opsMoto(t)
	opsAWSEnv(t)
	cfg, table = opsMotoConfig(ep), mototest.Unique(prefix)
	opsCreateTable(t, cfg, table, pk, sk)
	return ep, cfg, table
}

func opsCreateTable(t *testing.T, cfg aws.Config, name, pk, sk string) {
	t.Helper()
	in := &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String(pk), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String(pk), KeyType: ddbtypes.KeyTypeHash}}}
	if sk != "" {
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{AttributeName: aws.String(sk), AttributeType: ddbtypes.ScalarAttributeTypeN})
		in.KeySchema = append(in.KeySchema, ddbtypes.KeySchemaElement{AttributeName: aws.String(sk), KeyType: ddbtypes.KeyTypeRange})
	}
	if _, err := dynamodb.NewFromConfig(cfg).CreateTable(context.Background(), in); err != nil {
		t.Fatal(err)
	}
}

// auditWorld is an audit table, an Object Lock evidence bucket and an
// HMAC key in moto: what irflow audit --verify reads.
type auditWorld struct {
	ep, table, bucket, key string
	cfg                    aws.Config
	env                    taskrt.Env
}

func newAuditWorld(t *testing.T) *auditWorld {
	t.Helper()
	w := &auditWorld{bucket: mototest.Unique("evidence")}
	w.ep, w.cfg, w.table = opsTableWorld(t, "audit", "caseId", "seq")
	ctx := context.Background()
	s3c := taskrt.NewS3(w.cfg)
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(w.bucket), ObjectLockEnabledForBucket: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{Bucket: aws.String(w.bucket),
		ObjectLockConfiguration: &s3types.ObjectLockConfiguration{ObjectLockEnabled: s3types.ObjectLockEnabledEnabled,
			Rule: &s3types.ObjectLockRule{DefaultRetention: &s3types.DefaultRetention{Mode: s3types.ObjectLockRetentionModeGovernance, Days: aws.Int32(1)}}}}); err != nil {
		t.Fatal(err)
	}
	w.key = opsHMACKey(t, w.cfg)
	w.env = taskrt.Env{AuditTable: w.table, EvidenceBucket: w.bucket, MACKeyArn: w.key}
	return w
}

func opsHMACKey(t *testing.T, cfg aws.Config) string {
	t.Helper()
	k, err := kms.NewFromConfig(cfg).CreateKey(context.Background(), &kms.CreateKeyInput{KeySpec: kmstypes.KeySpecHmac256,
		KeyUsage: kmstypes.KeyUsageTypeGenerateVerifyMac})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(k.KeyMetadata.Arn)
}

// finalizedCase appends n records from concurrent writers (parallel
// branches), then runs the real finalize-case through the task runtime, as
// the state machine's last state does: report, case-finalized record,
// manifest with the anchor, finalize's result record.
func (w *auditWorld) finalizedCase(t *testing.T, writers, each int) string {
	t.Helper()
	ctx := context.Background()
	caseID := mototest.Unique("case")
	execID := "arn:aws:states:us-east-1:123456789012:execution:irflow-test:" + caseID
	chain := taskrt.NewChain(w.cfg, w.env)
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for b := 0; b < writers; b++ {
		wg.Add(1)
		go func(b int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				_, err := chain.Append(ctx, audit.Record{CaseID: caseID, ExecutionID: execID, Step: fmt.Sprintf("branch-%d", b),
					Action: "capture-task-metadata", Event: "result", Status: "OK", Summary: fmt.Sprintf("write %d of branch %d", i, b), Detail: "{}"})
				errs <- err
			}
		}(b)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("append: %v", err)
		}
	}
	payload, _ := json.Marshal(map[string]any{"action": "finalize-case", "step": "", "with": map[string]any{}, "outcome": "COMPLETED",
		"steps": map[string]any{}, "errors": map[string]any{},
		"incident": map[string]any{"caseId": caseID, "source": "manual", "taskArn": "arn:aws:ecs:us-east-1:123456789012:task/c/0123456789abcdef0123456789abcdef",
			"clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/c", "region": "us-east-1", "account": "123456789012", "partition": "aws", "dryRun": false},
		"target":    map[string]any{"launchType": "FARGATE", "taskArn": "arn:aws:ecs:us-east-1:123456789012:task/c/0123456789abcdef0123456789abcdef"},
		"execution": map[string]any{"Id": execID, "Name": caseID}})
	rt := &taskrt.Runtime{Action: "finalize-case", Handle: finalize.New(w.cfg, w.env), Audit: chain, Log: taskrt.NewLogger(io.Discard)}
	if _, err := rt.Invoke(ctx, payload); err != nil {
		t.Fatalf("finalize-case: %v", err)
	}
	return caseID
}

func (w *auditWorld) args(caseID string, extra ...string) []string {
	return append([]string{"audit", caseID, "--table", w.table, "--bucket", w.bucket, "--mac-key", w.key,
		"--endpoint-url", w.ep, "--region", "us-east-1"}, extra...)
}

func (w *auditWorld) itemKey(caseID string, seq int) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{"caseId": &ddbtypes.AttributeValueMemberS{Value: caseID},
		"seq": &ddbtypes.AttributeValueMemberN{Value: fmt.Sprint(seq)}}
}

func (w *auditWorld) records(t *testing.T, caseID string) []audit.Record {
	t.Helper()
	rs, err := (&audit.Chain{DB: dynamodb.NewFromConfig(w.cfg), Table: w.table}).Read(context.Background(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// TestAuditVerifyMoto: writers appending to one case at once, then
// finalize-case, leave one chain that irflow audit --verify accepts: hashes
// chained, every MAC verified with moto's KMS, anchored by the manifest.
func TestAuditVerifyMoto(t *testing.T) {
	w := newAuditWorld(t)
	const writers, each = 6, 5
	caseID := w.finalizedCase(t, writers, each)
	n := writers*each + 3 // finalize's start, case-finalized, result
	code, out, errOut := runCLI(w.args(caseID, "--verify")...)
	if code != exitOK || !strings.Contains(out, fmt.Sprintf("Verified: %d records", n)) || !strings.Contains(out, "MAC verified") ||
		!strings.Contains(out, fmt.Sprintf("The manifest anchors the first %d; 1 were appended after it", n-1)) {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = runCLI(w.args(caseID, "--verify", "--format", "json")...)
	var doc struct {
		Records      []audit.Record
		Verification audit.ChainStatus
	}
	if err := json.Unmarshal([]byte(out), &doc); code != exitOK || err != nil || len(doc.Records) != n || !doc.Verification.Verified ||
		!doc.Verification.Anchored || doc.Records[0].MAC == "" {
		t.Fatalf("json exit %d err %v\n%s", code, err, out)
	}
}

// TestAuditVerifyTamperingMoto: each way of changing a finalized case's
// trail in DynamoDB or S3 makes irflow audit --verify exit 4 naming what
// broke; without --verify the timeline still prints.
func TestAuditVerifyTamperingMoto(t *testing.T) {
	w := newAuditWorld(t)
	ctx := context.Background()
	db := dynamodb.NewFromConfig(w.cfg)
	del := func(t *testing.T, caseID string, seq int) {
		if _, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(w.table), Key: w.itemKey(caseID, seq)}); err != nil {
			t.Fatal(err)
		}
	}
	set := func(t *testing.T, caseID string, seq int, attr, value string) {
		if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(w.table), Key: w.itemKey(caseID, seq),
			UpdateExpression:          aws.String("SET #a = :v"),
			ExpressionAttributeNames:  map[string]string{"#a": attr},
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":v": &ddbtypes.AttributeValueMemberS{Value: value}}}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name   string
		tamper func(t *testing.T, caseID string, n int)
		want   string
	}{
		{"the last two records deleted", func(t *testing.T, caseID string, n int) { del(t, caseID, n); del(t, caseID, n-1) },
			"truncated"},
		{"the last record deleted", func(t *testing.T, caseID string, n int) { del(t, caseID, n) },
			"finalize-case's result record"},
		{"a record edited", func(t *testing.T, caseID string, _ int) { set(t, caseID, 4, "summary", "nothing happened here") },
			"record 4: hash does not match its contents"},
		{"a record edited and the rest re-hashed", func(t *testing.T, caseID string, n int) {
			rs := w.records(t, caseID)
			rs[3].Summary = "nothing happened here"
			for i := 3; i < len(rs); i++ {
				if i > 0 {
					rs[i].PrevHash = rs[i-1].Hash
				}
				rs[i].Hash = rs[i].ComputeHash()
				set(t, caseID, i+1, "summary", rs[i].Summary)
				set(t, caseID, i+1, "prevHash", rs[i].PrevHash)
				set(t, caseID, i+1, "hash", rs[i].Hash)
			}
		}, "record 4: its MAC does not match"},
		{"a record deleted in the middle", func(t *testing.T, caseID string, _ int) { del(t, caseID, 5) },
			"record 5: missing"},
		{"the manifest deleted", func(t *testing.T, caseID string, _ int) {
			if _, err := taskrt.NewS3(w.cfg).DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(w.bucket),
				Key: aws.String(ops.ManifestKey(caseID))}); err != nil {
				t.Fatal(err)
			}
		}, "delete marker"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			caseID := w.finalizedCase(t, 2, 3)
			n := len(w.records(t, caseID))
			if code, out, errOut := runCLI(w.args(caseID, "--verify")...); code != exitOK {
				t.Fatalf("before: exit %d\n%s%s", code, out, errOut)
			}
			tt.tamper(t, caseID, n)
			code, out, errOut := runCLI(w.args(caseID, "--verify")...)
			if code != exitVerify || !strings.Contains(errOut, tt.want) || !strings.Contains(out+errOut, "does not verify") {
				t.Errorf("after: exit %d; want %d naming %q\n%s%s", code, exitVerify, tt.want, out, errOut)
			}
			if code, out, _ := runCLI(w.args(caseID)...); code != exitOK || !strings.Contains(out, "audit record(s)") {
				t.Errorf("timeline: exit %d\n%s", code, out)
			}
		})
	}
}

// TestAuditVerifyByKeyAliasMoto: with no stack to read (a local endpoint,
// a copy of the stores), --verify finds the MAC key by the alias the CDK
// app gives it, and still exits 4 when the last two records are deleted;
// with neither a stack nor the alias it says which flag to pass.
func TestAuditVerifyByKeyAliasMoto(t *testing.T) {
	w := newAuditWorld(t)
	caseID := w.finalizedCase(t, 1, 3)
	stack := mototest.Unique("Stack")
	if _, err := kms.NewFromConfig(w.cfg).CreateAlias(context.Background(), &kms.CreateAliasInput{
		AliasName: aws.String(ops.MACKeyAlias(stack)), TargetKeyId: aws.String(w.key)}); err != nil {
		t.Fatal(err)
	}
	args := func(stack string) []string {
		return []string{"audit", caseID, "--verify", "--table", w.table, "--bucket", w.bucket, "--endpoint-url", w.ep,
			"--region", "us-east-1", "--stack", stack}
	}
	if code, out, errOut := runCLI(args(stack)...); code != exitOK || !strings.Contains(errOut, ops.MACKeyAlias(stack)) {
		t.Fatalf("intact, by alias: exit %d; want 0 naming the alias\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCLI(args(mototest.Unique("Other"))...); code != exitError || !strings.Contains(errOut, "pass --mac-key") {
		t.Errorf("no such alias: exit %d; want %d saying to pass --mac-key\n%s%s", code, exitError, out, errOut)
	}
	n := len(w.records(t, caseID))
	for _, seq := range []int{n, n - 1} {
		if _, err := dynamodb.NewFromConfig(w.cfg).DeleteItem(context.Background(), &dynamodb.DeleteItemInput{
			TableName: aws.String(w.table), Key: w.itemKey(caseID, seq)}); err != nil {
			t.Fatal(err)
		}
	}
	if code, out, errOut := runCLI(args(stack)...); code != exitVerify || !strings.Contains(errOut, "truncated") {
		t.Errorf("last two records deleted: exit %d; want %d naming the truncation\n%s%s", code, exitVerify, out, errOut)
	}
}

// TestAuditVerifyExitCodesMoto: 1 for what keeps the check from being
// made, 4 for another key's MACs, 2 for usage.
func TestAuditVerifyExitCodesMoto(t *testing.T) {
	w := newAuditWorld(t)
	caseID := w.finalizedCase(t, 1, 2)
	other := opsHMACKey(t, w.cfg)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"another deployment's key", append(w.args(caseID, "--verify"), "--mac-key", other), exitVerify, "MAC does not match"},
		{"unknown case", w.args("no-such-case", "--verify"), exitError, "no audit records and no manifest"},
		{"unknown table", append(w.args(caseID, "--verify"), "--table", "no-such-table"), exitError, "reading the audit chain"},
		{"no stack to find the bucket", []string{"audit", caseID, "--verify", "--table", w.table, "--endpoint-url", w.ep}, exitError, "--bucket"},
		{"two cases", []string{"audit", caseID, "other", "--verify"}, exitUsage, "exactly one case"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d; want %d naming %q\n%s%s", code, tt.code, tt.want, out, errOut)
			}
		})
	}
}
