package audit

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// memTable is one case's chain in memory: PutItem with
// attribute_not_exists(seq), Query for the last record or one seq.
type memTable struct {
	items map[int64]map[string]ddbtypes.AttributeValue
}

func (m *memTable) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	seq, _ := strconv.ParseInt(in.Item["seq"].(*ddbtypes.AttributeValueMemberN).Value, 10, 64)
	if _, ok := m.items[seq]; ok {
		msg := "The conditional request failed"
		return nil, &ddbtypes.ConditionalCheckFailedException{Message: &msg}
	}
	m.items[seq] = in.Item
	return &dynamodb.PutItemOutput{}, nil
}

func (m *memTable) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	var seqs []int64
	for s := range m.items {
		seqs = append(seqs, s)
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	if v, ok := in.ExpressionAttributeValues[":s"]; ok {
		s, _ := strconv.ParseInt(v.(*ddbtypes.AttributeValueMemberN).Value, 10, 64)
		if it, ok := m.items[s]; ok {
			return &dynamodb.QueryOutput{Items: []map[string]ddbtypes.AttributeValue{it}}, nil
		}
		return &dynamodb.QueryOutput{}, nil
	}
	var out []map[string]ddbtypes.AttributeValue
	for _, s := range seqs {
		out = append(out, m.items[s])
	}
	if in.ScanIndexForward != nil && !*in.ScanIndexForward && len(out) > 0 {
		out = out[len(out)-1:]
	}
	return &dynamodb.QueryOutput{Items: out}, nil
}

// TestAppendOpen: another execution's record lands while the case is
// open, and is refused with a ClosedError once finalize-case sealed the
// chain (its case-finalized record, then its result, last); Append (the
// case's own execution) is never refused.
func TestAppendOpen(t *testing.T) {
	ctx := context.Background()
	c := &Chain{DB: &memTable{items: map[int64]map[string]ddbtypes.AttributeValue{}}, Table: "audit"}
	rec := func(exec, action, event string) Record {
		return Record{CaseID: testCase, ExecutionID: exec, Action: action, Event: event}
	}
	if _, err := c.Append(ctx, rec(testExec, "resolve-target", "result")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AppendOpen(ctx, rec("joining-1", "resolve-target", EventFindingJoined)); err != nil {
		t.Fatalf("an open case refused a join: %v", err)
	}
	if _, err := c.Append(ctx, rec(testExec, "finalize-case", EventCaseFinalized)); err != nil {
		t.Fatal(err)
	}
	var closed *ClosedError
	if _, err := c.AppendOpen(ctx, rec("joining-2", "resolve-target", EventFindingJoined)); !errors.As(err, &closed) || closed.CaseID != testCase {
		t.Fatalf("a join after case-finalized: %v; want a ClosedError", err)
	}
	if _, err := c.Append(ctx, rec(testExec, "finalize-case", "result")); err != nil {
		t.Fatalf("the case's own finalize result: %v", err)
	}
	if _, err := c.AppendOpen(ctx, rec("joining-3", "resolve-target", EventFindingJoined)); !errors.As(err, &closed) {
		t.Fatalf("a join after finalize-case's result: %v; want a ClosedError", err)
	}
	recs, err := c.Read(ctx, testCase)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 || Verify(recs) != nil {
		t.Errorf("%d records (%v); want 4 that verify", len(recs), Verify(recs))
	}
}
