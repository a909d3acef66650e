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

// txTable adds TransactWriteItems (a ConditionCheck on one record's hash and
// a Put, all or none) to countingTable.
type txTable struct {
	countingTable
	txs int
}

func (t *txTable) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	t.txs++
	cancelled := func() error {
		msg := "Transaction cancelled"
		return &ddbtypes.TransactionCanceledException{Message: &msg}
	}
	var put *ddbtypes.Put
	for _, it := range in.TransactItems {
		switch {
		case it.ConditionCheck != nil:
			seq, _ := strconv.ParseInt(it.ConditionCheck.Key["seq"].(*ddbtypes.AttributeValueMemberN).Value, 10, 64)
			want := it.ConditionCheck.ExpressionAttributeValues[":h"].(*ddbtypes.AttributeValueMemberS).Value
			got, ok := t.items[seq]
			if !ok || got["hash"].(*ddbtypes.AttributeValueMemberS).Value != want {
				return nil, cancelled()
			}
		case it.Put != nil:
			put = it.Put
		}
	}
	seq, _ := strconv.ParseInt(put.Item["seq"].(*ddbtypes.AttributeValueMemberN).Value, 10, 64)
	if _, ok := t.items[seq]; ok {
		return nil, cancelled()
	}
	t.items[seq] = put.Item
	return &dynamodb.TransactWriteItemsOutput{}, nil
}

// TestAppendOnHead: a record put after the head the step before handed
// over lands in one transaction without reading the chain; a stale head
// (another writer came between), a forged hash at the right seq and a head
// past the end are each refused by the check and the record lands after
// the real head; the chain verifies.
func TestAppendOnHead(t *testing.T) {
	ctx := context.Background()
	db := &txTable{countingTable: countingTable{memTable: memTable{items: map[int64]map[string]ddbtypes.AttributeValue{}}}}
	c := &Chain{DB: db, Table: "audit"}
	rec := func(exec, event string) Record {
		return Record{CaseID: testCase, ExecutionID: exec, Action: "isolate-network", Event: event}
	}
	result, err := c.Append(ctx, rec(testExec, "result"))
	if err != nil {
		t.Fatal(err)
	}
	db.puts, db.queries = 0, 0
	next, err := c.AppendOnHead(ctx, Head{Seq: result.Seq, Hash: result.Hash}, rec(testExec, "start"))
	if err != nil || next.Seq != result.Seq+1 || next.PrevHash != result.Hash || db.queries != 0 || db.puts != 0 || db.txs != 1 {
		t.Fatalf("fresh head: seq %d, %d queries, %d puts, %d transactions, err %v; want the next seq in one transaction", next.Seq, db.queries, db.puts, db.txs, err)
	}
	joined, _ := c.Append(ctx, rec("joining-1", EventFindingJoined))
	for _, tc := range []struct {
		name string
		head Head
	}{
		{"stale (a record came between)", Head{Seq: next.Seq, Hash: next.Hash}},
		{"forged hash at the head's seq", Head{Seq: joined.Seq, Hash: next.Hash}},
		{"past the end", Head{Seq: joined.Seq + 5, Hash: joined.Hash}},
	} {
		last, err := c.Read(ctx, testCase)
		if err != nil {
			t.Fatal(err)
		}
		head := last[len(last)-1]
		db.queries, db.puts = 0, 0
		got, err := c.AppendOnHead(ctx, tc.head, rec(testExec, "start"))
		if err != nil || got.Seq != head.Seq+1 || got.PrevHash != head.Hash {
			t.Errorf("%s: seq %d prev %s, err %v; want seq %d after the real head", tc.name, got.Seq, got.PrevHash, err, head.Seq+1)
		}
		// The refused transaction costs one read of the chain's tail.
		if db.queries != 1 || db.puts != 1 {
			t.Errorf("%s: %d queries and %d puts after the refused check; want 1 and 1", tc.name, db.queries, db.puts)
		}
	}
	records, err := c.Read(ctx, testCase)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(records); err != nil {
		t.Fatal(err)
	}
}
