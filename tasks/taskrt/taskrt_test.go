package taskrt

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/lambda/messages"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/contract"
)

// TestErrorNamesAreExplicit checks that every contract error reports its
// contract name, and that Lambda gets that name as errorType whatever the
// Go type is called.
func TestErrorNamesAreExplicit(t *testing.T) {
	errs := []error{&contract.RetryableError{}, &contract.InvalidInputError{}, &contract.TargetNotFoundError{}, &contract.PreconditionFailedError{},
		&contract.ApprovalRejectedError{}, &contract.DuplicateIncidentError{}, &contract.StepTimeoutError{},
		&contract.StopNotDeliveredError{}, &contract.ExecSessionError{}, &contract.CorrelatedError{}}
	var got []string
	for _, e := range errs {
		name := contract.ErrorName(e)
		got = append(got, name)
		var ire messages.InvokeResponse_Error
		if !errors.As(lambdaError(fmt.Errorf("wrapped: %w", e)), &ire) || ire.Type != "wrapError" && ire.Type != name {
			t.Errorf("lambdaError(%T) = %#v", e, ire)
		}
		if ire := lambdaError(e).(messages.InvokeResponse_Error); ire.Type != name {
			t.Errorf("lambdaError(%T).Type = %q; want %q", e, ire.Type, name)
		}
	}
	if strings.Join(got, ",") != strings.Join(contract.Names, ",") {
		t.Errorf("task error names %v; the contract lists %v", got, contract.Names)
	}
	if lambdaError(nil) != nil {
		t.Error("lambdaError(nil) is not nil")
	}
}

func TestNamedUnwraps(t *testing.T) {
	err := fmt.Errorf("describe: %w", &contract.TargetNotFoundError{Resource: "task", Reason: "gone"})
	if got := contract.ErrorName(contract.Named(err)); got != "TargetNotFoundError" {
		t.Errorf("ErrorName(contract.Named(wrapped)) = %s", got)
	}
	session := &contract.ExecSessionError{Container: "app", Kind: "ConnectionLostError", Err: errors.New("EOF")}
	if got := contract.ErrorName(contract.Named(&contract.RetryableError{Op: "exec", Err: session})); got != "RetryableError" {
		t.Errorf("a retryable session failure is named %s; want RetryableError, which the generated Retry matches", got)
	}
	if got := contract.ErrorName(contract.Classified(fmt.Errorf("triage: %w", session))); got != "ExecSessionError" {
		t.Errorf("a wrapped session failure is named %s", got)
	}
}

type apiErr struct{ code string }

func (e apiErr) Error() string                 { return e.code }
func (e apiErr) ErrorCode() string             { return e.code }
func (e apiErr) ErrorMessage() string          { return e.code + " message" }
func (e apiErr) ErrorFault() smithy.ErrorFault { return smithy.FaultServer }

func TestAWSErrorClassification(t *testing.T) {
	resp500 := &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 500}}, Err: errors.New("boom")}}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"throttling json", apiErr{"ThrottlingException"}, "RetryableError"},
		{"throttling ec2", apiErr{"RequestLimitExceeded"}, "RetryableError"},
		{"http 500", resp500, "RetryableError"},
		{"ecs not found", apiErr{"ClusterNotFoundException"}, "TargetNotFoundError"},
		{"ec2 not found", apiErr{"InvalidInstanceID.NotFound"}, "TargetNotFoundError"},
		{"access denied", apiErr{"AccessDeniedException"}, "PreconditionFailedError"},
		{"other", apiErr{"ValidationException"}, "wrapError"},
	}
	for _, tt := range tests {
		if got := contract.ErrorName(contract.AWSError("op", tt.err)); got != tt.want {
			t.Errorf("%s: got %s; want %s", tt.name, got, tt.want)
		}
	}
}

// fakeDynamo is an in-memory audit table with conditional puts.
type fakeDynamo struct {
	mu    sync.Mutex
	items map[string]map[string]ddbtypes.AttributeValue
	puts  int
}

var _ audit.DynamoAPI = (*fakeDynamo)(nil)

func itemKey(it map[string]ddbtypes.AttributeValue) string {
	return it["caseId"].(*ddbtypes.AttributeValueMemberS).Value + "#" + it["seq"].(*ddbtypes.AttributeValueMemberN).Value
}

func (f *fakeDynamo) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.items == nil {
		f.items = map[string]map[string]ddbtypes.AttributeValue{}
	}
	k := itemKey(in.Item)
	if _, exists := f.items[k]; exists && in.ConditionExpression != nil {
		return nil, &ddbtypes.ConditionalCheckFailedException{}
	}
	f.items[k] = in.Item
	f.puts++
	return &dynamodb.PutItemOutput{}, nil
}

func (f *fakeDynamo) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	caseID := in.ExpressionAttributeValues[":c"].(*ddbtypes.AttributeValueMemberS).Value
	var out []map[string]ddbtypes.AttributeValue
	for _, it := range f.items {
		if it["caseId"].(*ddbtypes.AttributeValueMemberS).Value != caseID {
			continue
		}
		if s, ok := in.ExpressionAttributeValues[":s"].(*ddbtypes.AttributeValueMemberN); ok && it["seq"].(*ddbtypes.AttributeValueMemberN).Value != s.Value {
			continue
		}
		out = append(out, it)
	}
	seq := func(it map[string]ddbtypes.AttributeValue) int {
		n, _ := strconv.Atoi(it["seq"].(*ddbtypes.AttributeValueMemberN).Value)
		return n
	}
	sort.Slice(out, func(i, j int) bool { return seq(out[i]) < seq(out[j]) })
	if in.ScanIndexForward != nil && !*in.ScanIndexForward {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	if in.Limit != nil && int(*in.Limit) < len(out) {
		out = out[:*in.Limit]
	}
	return &dynamodb.QueryOutput{Items: out}, nil
}

func TestChainConcurrentAppendsVerify(t *testing.T) {
	db := &fakeDynamo{}
	c := &audit.Chain{DB: db, Table: "audit"}
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if _, err := c.Append(context.Background(), audit.Record{CaseID: "case-1", Step: fmt.Sprintf("s%d", i), Event: "start"}); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	recs, err := c.Read(context.Background(), "case-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 40 {
		t.Fatalf("read %d records; want 40", len(recs))
	}
	if err := audit.Verify(recs); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

func TestVerifyFindsTampering(t *testing.T) {
	db := &fakeDynamo{}
	c := &audit.Chain{DB: db, Table: "audit"}
	for i := 0; i < 5; i++ {
		c.Append(context.Background(), audit.Record{CaseID: "c", Event: "start", Summary: fmt.Sprint(i)})
	}
	recs, _ := c.Read(context.Background(), "c")
	tests := []struct {
		name    string
		mutate  func([]audit.Record) []audit.Record
		wantSeq int64
	}{
		{"edited summary", func(r []audit.Record) []audit.Record { r[2].Summary = "nothing happened"; return r }, 3},
		{"deleted record", func(r []audit.Record) []audit.Record { return append(r[:1], r[2:]...) }, 2},
		{"rehashed edit", func(r []audit.Record) []audit.Record { r[1].Status = "OK"; r[1].Hash = r[1].ComputeHash(); return r }, 3},
	}
	for _, tt := range tests {
		cp := append([]audit.Record(nil), recs...)
		err := audit.Verify(tt.mutate(cp))
		var ce *audit.ChainError
		if !errors.As(err, &ce) || ce.Seq != tt.wantSeq {
			t.Errorf("%s: got %v; want a audit.ChainError at seq %d", tt.name, err, tt.wantSeq)
		}
	}
	if err := audit.Verify(recs); err != nil {
		t.Errorf("untouched chain: %v", err)
	}
}

type fakeS3 struct {
	put func(*s3.PutObjectInput) (*s3.PutObjectOutput, error)
}

var _ S3PutAPI = (*fakeS3)(nil)

func (f *fakeS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	return f.put(in)
}

func TestEvidenceWriterChecksum(t *testing.T) {
	var got *s3.PutObjectInput
	var body []byte
	w := &EvidenceWriter{Bucket: "ev", S3: &fakeS3{put: func(in *s3.PutObjectInput) (*s3.PutObjectOutput, error) {
		got = in
		body, _ = io.ReadAll(in.Body)
		return &s3.PutObjectOutput{}, nil
	}}}
	ev, err := w.Put(context.Background(), "case-1", "metadata", "task.json", "application/json", []byte(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(`{"a":1}`))
	if ev.SHA256 != hex.EncodeToString(sum[:]) || ev.Bytes != 7 || ev.URI != "s3://ev/cases/case-1/metadata/task.json" {
		t.Errorf("evidence = %+v", ev)
	}
	if *got.ChecksumSHA256 != base64.StdEncoding.EncodeToString(sum[:]) || !bytes.Equal(body, []byte(`{"a":1}`)) {
		t.Errorf("checksum %s not sent with the body", *got.ChecksumSHA256)
	}
	if _, err := w.Put(context.Background(), "case-1", "../etc", "x", "text/plain", nil); err == nil {
		t.Error("accepted a key part with a path traversal")
	}
}

func TestRuntimeAuditsAndNamesErrors(t *testing.T) {
	db := &fakeDynamo{}
	var logs bytes.Buffer
	payload := `{"action":"stop-task","step":"stop","with":{},"taskToken":"SECRET-TOKEN",
	  "incident":{"caseId":"c1","source":"manual","taskArn":"t","clusterArn":"c","region":"us-east-1","account":"111122223333","partition":"aws","dryRun":false},
	  "target":{"launchType":"FARGATE","taskArn":"t"},"execution":{"Id":"exec-1"}}`
	ok := &Runtime{Action: "stop-task", Audit: &audit.Chain{DB: db, Table: "a"}, Log: NewLogger(&logs),
		Handle: func(ctx context.Context, p *contract.Payload) (*contract.Result, error) {
			return contract.OK("stopped"), nil
		}}
	out, err := ok.Invoke(context.Background(), json.RawMessage(payload))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"evidence":[]`) || !strings.Contains(string(out), `"outputs":{}`) {
		t.Errorf("result %s lacks empty evidence/outputs", out)
	}
	recs, _ := (&audit.Chain{DB: db, Table: "a"}).Read(context.Background(), "c1")
	if len(recs) != 2 || recs[0].Event != "start" || recs[1].Event != "result" || audit.Verify(recs) != nil {
		t.Errorf("audit = %+v", recs)
	}
	failing := &Runtime{Action: "stop-task", Log: NewLogger(&logs),
		Handle: func(ctx context.Context, p *contract.Payload) (*contract.Result, error) {
			return nil, fmt.Errorf("wrapped: %w", &contract.PreconditionFailedError{Reason: "no"})
		}}
	if _, err := failing.Invoke(context.Background(), json.RawMessage(payload)); contract.ErrorName(err) != "PreconditionFailedError" {
		t.Errorf("error name %s; want PreconditionFailedError", contract.ErrorName(err))
	}
	if _, err := ok.Invoke(context.Background(), json.RawMessage(`{"action":"stop-task"}`)); contract.ErrorName(err) != "InvalidInputError" {
		t.Errorf("bad payload: %v", err)
	}
	if _, err := ok.Invoke(context.Background(), json.RawMessage(strings.Replace(payload, `"action":"stop-task"`, `"action":"scale-service"`, 1))); contract.ErrorName(err) != "InvalidInputError" {
		t.Errorf("wrong action: %v", err)
	}
	if strings.Contains(logs.String(), "SECRET-TOKEN") {
		t.Error("a task token reached the log")
	}
}

// lostReply stores the first put and then reports a conditional-check
// failure, as when the SDK resends a write whose reply was lost.
type lostReply struct {
	*fakeDynamo
	once sync.Once
}

func (l *lostReply) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	var lost bool
	l.once.Do(func() { lost = true })
	out, err := l.fakeDynamo.PutItem(ctx, in, o...)
	if lost && err == nil {
		return nil, &ddbtypes.ConditionalCheckFailedException{}
	}
	return out, err
}

func TestAppendSurvivesLostReply(t *testing.T) {
	db := &lostReply{fakeDynamo: &fakeDynamo{}}
	c := &audit.Chain{DB: db, Table: "audit"}
	if _, err := c.Append(context.Background(), audit.Record{CaseID: "c", Event: "start"}); err != nil {
		t.Fatal(err)
	}
	recs, _ := c.Read(context.Background(), "c")
	if len(recs) != 1 || audit.Verify(recs) != nil {
		t.Errorf("got %d records; want exactly the one written", len(recs))
	}
}

func TestDecodeWithIsCaseExact(t *testing.T) {
	var params struct {
		AllowSsm bool `json:"allowSsm"`
	}
	p := &contract.Payload{With: json.RawMessage(`{"allowSSM":true}`)}
	if err := p.DecodeWith(&params); contract.ErrorName(err) != "InvalidInputError" {
		t.Errorf("allowSSM accepted for allowSsm: %v", err)
	}
	p.With = json.RawMessage(`{"allowSsm":true}`)
	if err := p.DecodeWith(&params); err != nil || !params.AllowSsm {
		t.Errorf("allowSsm: %v %v", err, params.AllowSsm)
	}
}

// TestClassifiedNamesEverything: what the runtime returns to Step Functions
// is always one of the contract's error names (docs/design.md), an
// unclassified API refusal and a plain Go error included, with the message kept.
func TestClassifiedNamesEverything(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{contract.AWSError("ec2:CreateFlowLogs", apiErr{"ValidationException"}), "PreconditionFailedError"},
		{errors.New("handler returned no result"), "PreconditionFailedError"},
		{fmt.Errorf("x: %w", &contract.RetryableError{Op: "op", Err: errors.New("slow")}), "RetryableError"},
		{&contract.StepTimeoutError{}, "StepTimeoutError"},
	} {
		got := contract.Classified(tt.err)
		if contract.ErrorName(got) != tt.want || !strings.Contains(got.Error(), strings.TrimPrefix(contract.Named(tt.err).Error(), "precondition failed: ")) {
			t.Errorf("Classified(%v) = %s %q; want %s keeping the message", tt.err, contract.ErrorName(got), got, tt.want)
		}
	}
	rt := &Runtime{Action: "stop-task", Log: NewLogger(io.Discard),
		Handle: func(context.Context, *contract.Payload) (*contract.Result, error) {
			return nil, contract.AWSError("ecs:StopTask", apiErr{"InvalidParameterException"})
		}}
	if _, err := rt.Invoke(context.Background(), json.RawMessage(deadlinePayload)); contract.ErrorName(err) != "PreconditionFailedError" || !strings.Contains(err.Error(), "InvalidParameterException") {
		t.Errorf("runtime returned %s %v; want contract.PreconditionFailedError with the API's code", contract.ErrorName(err), err)
	}
}

// headRecorder is an audit chain that notes the heads it is handed.
type headRecorder struct {
	*audit.Chain
	heads []audit.Head
}

func (h *headRecorder) AppendOnHead(ctx context.Context, head audit.Head, r audit.Record) (audit.Record, error) {
	h.heads = append(h.heads, head)
	return h.Chain.AppendOnHead(ctx, head, r)
}

// TestRuntimeHandsOnTheChainHead: a result carries the chain's head after
// its result record; a payload that carries a head has its start record
// put after it (AppendOnHead), one without does not.
func TestRuntimeHandsOnTheChainHead(t *testing.T) {
	a := &headRecorder{Chain: &audit.Chain{DB: &fakeDynamo{}, Table: "a"}}
	rt := &Runtime{Action: "stop-task", Audit: a, Log: NewLogger(io.Discard),
		Handle: func(ctx context.Context, p *contract.Payload) (*contract.Result, error) {
			return contract.OK("stopped"), nil
		}}
	payload := `{"action":"stop-task","step":"stop","with":{},
	  "incident":{"caseId":"c1","source":"manual","taskArn":"t","clusterArn":"c","region":"us-east-1","account":"111122223333","partition":"aws","dryRun":false},
	  "target":{"launchType":"FARGATE","taskArn":"t"},"execution":{"Id":"exec-1"}%s}`
	out, err := rt.Invoke(context.Background(), json.RawMessage(fmt.Sprintf(payload, "")))
	if err != nil {
		t.Fatal(err)
	}
	var first contract.Result
	if err := json.Unmarshal(out, &first); err != nil || first.Chain == nil || first.Chain.Seq != 2 || len(a.heads) != 0 {
		t.Fatalf("first result %s (err %v), heads %v; want the head at seq 2 and no head handed in", out, err, a.heads)
	}
	head, _ := json.Marshal(first.Chain)
	out, err = rt.Invoke(context.Background(), json.RawMessage(fmt.Sprintf(payload, `,"chain":`+string(head))))
	if err != nil {
		t.Fatal(err)
	}
	var second contract.Result
	_ = json.Unmarshal(out, &second)
	if len(a.heads) != 1 || a.heads[0] != *first.Chain || second.Chain == nil || second.Chain.Seq != 4 {
		t.Errorf("heads %v, second head %+v; want the first result's head handed in and the chain at seq 4", a.heads, second.Chain)
	}
	recs, _ := a.Read(context.Background(), "c1")
	if err := audit.Verify(recs); err != nil || len(recs) != 4 {
		t.Errorf("%d records: %v", len(recs), err)
	}
}
