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

// countingTable counts the calls a chain makes.
type countingTable struct {
	memTable
	puts, queries int
}

func (c *countingTable) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.puts++
	return c.memTable.PutItem(ctx, in, o...)
}

func (c *countingTable) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.queries++
	return c.memTable.Query(ctx, in, o...)
}

// TestAppendAfter: a writer that knows the head puts its record without
// reading the chain (genesis for an empty chain, after its own record
// otherwise); when another writer got there first, the record still lands
// after the real head and the chain verifies.
func TestAppendAfter(t *testing.T) {
	ctx := context.Background()
	db := &countingTable{memTable: memTable{items: map[int64]map[string]ddbtypes.AttributeValue{}}}
	c := &Chain{DB: db, Table: "audit"}
	rec := func(exec, event string) Record {
		return Record{CaseID: testCase, ExecutionID: exec, Action: "isolate-network", Event: event}
	}
	first, err := c.AppendAfter(ctx, nil, rec(testExec, "result"))
	if err != nil || first.Seq != 1 || db.queries != 0 || db.puts != 1 {
		t.Fatalf("genesis guess: seq %d, %d queries, %d puts, err %v; want seq 1 in one put", first.Seq, db.queries, db.puts, err)
	}
	start, err := c.Append(ctx, rec(testExec, "start"))
	if err != nil {
		t.Fatal(err)
	}
	db.puts, db.queries = 0, 0
	result, err := c.AppendAfter(ctx, &start, rec(testExec, "result"))
	if err != nil || result.Seq != start.Seq+1 || result.PrevHash != start.Hash || db.queries != 0 || db.puts != 1 {
		t.Fatalf("after its start: seq %d, %d queries, %d puts, err %v; want the next seq in one put", result.Seq, db.queries, db.puts, err)
	}
	// Another writer appends between this writer's start and result.
	start2, _ := c.Append(ctx, rec(testExec, "start"))
	joined, _ := c.Append(ctx, rec("joining-1", EventFindingJoined))
	late, err := c.AppendAfter(ctx, &start2, rec(testExec, "result"))
	if err != nil || late.Seq != joined.Seq+1 || late.PrevHash != joined.Hash {
		t.Fatalf("stale head: seq %d prev %s, err %v; want seq %d after the joined record", late.Seq, late.PrevHash, err, joined.Seq+1)
	}
	// A stale genesis guess (the case was retaken) lands at the end too.
	again, err := c.AppendAfter(ctx, nil, rec("retaken", "result"))
	if err != nil || again.Seq != late.Seq+1 {
		t.Fatalf("stale genesis: seq %d, err %v; want %d", again.Seq, err, late.Seq+1)
	}
	records, err := c.Read(ctx, testCase)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(records); err != nil {
		t.Fatal(err)
	}
}
