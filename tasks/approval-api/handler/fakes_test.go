package handler

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/irflow/irflow/tasks/approval-api/approval"
	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/taskrt"
)

type fakeDB struct {
	get    func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error)
	update func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error)
	scan   func(*dynamodb.ScanInput) (*dynamodb.ScanOutput, error)
}

var _ dynamoAPI = (*fakeDB)(nil)

func (f *fakeDB) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return f.get(in)
}

func (f *fakeDB) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return f.update(in)
}

func (f *fakeDB) Scan(_ context.Context, in *dynamodb.ScanInput, _ ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	return f.scan(in)
}

type fakeResponder struct {
	success func(token, output string) error
	failure func(token, name, cause string) error
}

var _ TaskResponder = (*fakeResponder)(nil)

func (f *fakeResponder) SendTaskSuccess(_ context.Context, token, output string) error {
	return f.success(token, output)
}

func (f *fakeResponder) SendTaskFailure(_ context.Context, token, name, cause string) error {
	return f.failure(token, name, cause)
}

// sent records what a responder was asked to send.
type sent struct {
	mu                     sync.Mutex
	token, output          string
	errName, cause         string
	successes, failures    int
	successErr, failureErr error
}

func (s *sent) responder() *fakeResponder {
	return &fakeResponder{
		success: func(token, output string) error {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.token, s.output = token, output
			s.successes++
			return s.successErr
		},
		failure: func(token, name, cause string) error {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.token, s.errName, s.cause = token, name, cause
			s.failures++
			return s.failureErr
		},
	}
}

type fakeAudit struct {
	mu      sync.Mutex
	records []audit.Record
	err     error
}

var _ audit.Auditor = (*fakeAudit)(nil)

func (f *fakeAudit) Append(_ context.Context, r audit.Record) (audit.Record, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return r, f.err
	}
	r.Seq = int64(len(f.records) + 1)
	f.records = append(f.records, r)
	return r, nil
}

// memTable is an approvals table in memory that evaluates the few update
// and condition expressions the handler writes (SET, REMOVE, =, > joined
// by AND), so the decision logic is tested without a server.
type memTable struct {
	mu    sync.Mutex
	items map[string]map[string]ddbtypes.AttributeValue
}

func newMemTable(t *testing.T, as ...*approval.Approval) *memTable {
	m := &memTable{items: map[string]map[string]ddbtypes.AttributeValue{}}
	for _, a := range as {
		item, err := a.Item()
		if err != nil {
			t.Fatal(err)
		}
		m.items[a.ID] = item
	}
	return m
}

func (m *memTable) approval(t *testing.T, id string) *approval.Approval {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, err := approval.FromItem(m.items[id])
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (m *memTable) db() *fakeDB {
	return &fakeDB{
		get: func(in *dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
			m.mu.Lock()
			defer m.mu.Unlock()
			id := in.Key["approvalId"].(*ddbtypes.AttributeValueMemberS).Value
			return &dynamodb.GetItemOutput{Item: copyItem(m.items[id])}, nil
		},
		update: func(in *dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
			m.mu.Lock()
			defer m.mu.Unlock()
			id := in.Key["approvalId"].(*ddbtypes.AttributeValueMemberS).Value
			item := m.items[id]
			if in.ConditionExpression != nil && !holds(*in.ConditionExpression, item, in.ExpressionAttributeNames, in.ExpressionAttributeValues) {
				return nil, &ddbtypes.ConditionalCheckFailedException{Message: ptr("The conditional request failed")}
			}
			if item == nil {
				item = map[string]ddbtypes.AttributeValue{"approvalId": in.Key["approvalId"]}
				m.items[id] = item
			}
			apply(*in.UpdateExpression, item, in.ExpressionAttributeNames, in.ExpressionAttributeValues)
			return &dynamodb.UpdateItemOutput{}, nil
		},
		scan: func(in *dynamodb.ScanInput) (*dynamodb.ScanOutput, error) {
			m.mu.Lock()
			defer m.mu.Unlock()
			out := &dynamodb.ScanOutput{}
			for _, it := range m.items {
				if in.FilterExpression == nil || holds(*in.FilterExpression, it, in.ExpressionAttributeNames, in.ExpressionAttributeValues) {
					c := copyItem(it)
					delete(c, "taskToken") // the projection
					out.Items = append(out.Items, c)
				}
			}
			return out, nil
		},
	}
}

func holds(cond string, item map[string]ddbtypes.AttributeValue, names map[string]string, values map[string]ddbtypes.AttributeValue) bool {
	for _, clause := range strings.Split(cond, " AND ") {
		f := strings.Fields(clause)
		name := f[0]
		if n, ok := names[name]; ok {
			name = n
		}
		have, ok := item[name]
		if !ok {
			return false
		}
		want := values[f[2]]
		switch f[1] {
		case "=":
			if scalar(have) != scalar(want) {
				return false
			}
		case ">":
			a, _ := strconv.ParseInt(scalar(have), 10, 64)
			b, _ := strconv.ParseInt(scalar(want), 10, 64)
			if a <= b {
				return false
			}
		}
	}
	return true
}

func apply(expr string, item map[string]ddbtypes.AttributeValue, names map[string]string, values map[string]ddbtypes.AttributeValue) {
	set, remove, _ := strings.Cut(strings.TrimPrefix(expr, "SET "), " REMOVE ")
	if strings.HasPrefix(expr, "REMOVE ") {
		set, remove = "", strings.TrimPrefix(expr, "REMOVE ")
	}
	for _, a := range strings.Split(set, ", ") {
		if k, v, ok := strings.Cut(a, " = "); ok {
			if n, ok := names[k]; ok {
				k = n
			}
			item[k] = values[v]
		}
	}
	for _, k := range strings.Split(remove, ", ") {
		delete(item, strings.TrimSpace(k))
	}
}

func scalar(v ddbtypes.AttributeValue) string {
	switch x := v.(type) {
	case *ddbtypes.AttributeValueMemberS:
		return x.Value
	case *ddbtypes.AttributeValueMemberN:
		return x.Value
	}
	return "?"
}

func copyItem(it map[string]ddbtypes.AttributeValue) map[string]ddbtypes.AttributeValue {
	if it == nil {
		return nil
	}
	c := make(map[string]ddbtypes.AttributeValue, len(it))
	for k, v := range it {
		c[k] = v
	}
	return c
}

func ptr(s string) *string { return &s }

// logBuffer is a JSON logger into a buffer, to prove tokens stay out of logs.
func logBuffer() (*slog.Logger, *bytes.Buffer) {
	var b bytes.Buffer
	return taskrt.NewLogger(io.MultiWriter(&b)), &b
}

// clock is a settable Now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// atOnce runs decide(0) to decide(n-1) all at once and counts the HTTP
// statuses they return.
func atOnce(n int, decide func(i int) int) map[int]int {
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			statuses[i] = decide(i)
		}(i)
	}
	wg.Wait()
	count := map[int]int{}
	for _, st := range statuses {
		count[st]++
	}
	return count
}

// onlyStatuses fails the test for every status counted that is not one of
// want.
func onlyStatuses(t *testing.T, count map[int]int, want ...int) {
	t.Helper()
	for st, k := range count {
		if !slices.Contains(want, st) {
			t.Errorf("unexpected status %d (%d times)", st, k)
		}
	}
}
