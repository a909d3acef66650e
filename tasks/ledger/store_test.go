package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/irflow/irflow/tasks/contract"
)

// fakeDB is one table in memory with the two conditions the store writes.
// before runs ahead of each put (a concurrent writer's move).
type fakeDB struct {
	items  map[string]map[string]ddbtypes.AttributeValue
	before func()
	puts   int
}

var _ dbAPI = (*fakeDB)(nil)

func (f *fakeDB) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	k := in.Key[PK].(*ddbtypes.AttributeValueMemberS).Value
	return &dynamodb.GetItemOutput{Item: f.items[k]}, nil
}

func (f *fakeDB) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	f.puts++
	if f.before != nil {
		f.before()
	}
	k := in.Item[PK].(*ddbtypes.AttributeValueMemberS).Value
	old, exists := f.items[k]
	switch aws.ToString(in.ConditionExpression) {
	case "attribute_not_exists(#pk)":
		if exists {
			return nil, &ddbtypes.ConditionalCheckFailedException{}
		}
	case "#v = :v":
		if !exists || old["version"].(*ddbtypes.AttributeValueMemberN).Value != in.ExpressionAttributeValues[":v"].(*ddbtypes.AttributeValueMemberN).Value {
			return nil, &ddbtypes.ConditionalCheckFailedException{}
		}
	default:
		return nil, fmt.Errorf("unconditional put %q", aws.ToString(in.ConditionExpression))
	}
	f.items[k] = in.Item
	return &dynamodb.PutItemOutput{}, nil
}

func newFake() (*fakeDB, *Store) {
	db := &fakeDB{items: map[string]map[string]ddbtypes.AttributeValue{}}
	return db, &Store{DB: db, Table: "incidents", Now: func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }}
}

func entry(t *testing.T, id string) Entry {
	t.Helper()
	e, err := New(id, KindNACLEntry, "isolate", "isolate-network", "acl-1",
		NACLEntryData{NetworkAclID: "acl-1", RuleNumber: 99, RuleAction: "deny", Protocol: "-1", CidrBlock: "10.0.1.5/32", Address: "10.0.1.5"},
		time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func ids(l *Ledger) []string {
	var out []string
	for _, e := range l.Entries {
		out = append(out, e.ID)
	}
	return out
}

func TestAppendIsIdempotent(t *testing.T) {
	db, s := newFake()
	ctx := context.Background()
	for i := range 2 {
		l, err := s.Append(ctx, "case-1", entry(t, "a"), entry(t, "b"), entry(t, "a"))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ids(l), []string{"a", "b"}) || l.Version != 1 {
			t.Errorf("run %d: entries %v version %d; want [a b] at version 1", i+1, ids(l), l.Version)
		}
	}
	if db.puts != 1 {
		t.Errorf("%d puts; want 1 (the second append changes nothing)", db.puts)
	}
	got, err := s.Read(ctx, "case-1")
	if err != nil {
		t.Fatal(err)
	}
	var d NACLEntryData
	if err := got.Entries[0].Decode(&d); err != nil || d.RuleNumber != 99 || d.CidrBlock != "10.0.1.5/32" {
		t.Errorf("data read back: %+v %v", d, err)
	}
	if string(got.Entries[0].Data) != string(entry(t, "a").Data) {
		t.Errorf("data not kept byte for byte: %s", got.Entries[0].Data)
	}
}

func TestMarkRemovedThenAddedAgain(t *testing.T) {
	_, s := newFake()
	ctx := context.Background()
	if _, err := s.Append(ctx, "case-1", entry(t, "a"), entry(t, "b")); err != nil {
		t.Fatal(err)
	}
	l, err := s.MarkRemoved(ctx, "case-1", "stop", "a", "unknown")
	if err != nil {
		t.Fatal(err)
	}
	if a := l.Find("a"); a == nil || a.RemovedAt != "2026-03-01T12:00:00Z" || a.RemovedBy != "stop" || l.Find("b").Removed() {
		t.Errorf("after MarkRemoved: %+v", l.Entries)
	}
	if act := l.Active(KindNACLEntry); len(act) != 1 || act[0].ID != "b" {
		t.Errorf("active %v", act)
	}
	again, err := s.MarkRemoved(ctx, "case-1", "later", "a")
	if err != nil || again.Find("a").RemovedBy != "stop" || again.Version != 2 {
		t.Errorf("a second removal restamped: %+v %v", again, err)
	}
	l, err = s.Append(ctx, "case-1", entry(t, "a"))
	if err != nil {
		t.Fatal(err)
	}
	if a := l.Find("a"); a.Removed() || len(l.Entries) != 2 {
		t.Errorf("re-added entry: %+v", l.Entries)
	}
}

func TestAppendAfterAConflict(t *testing.T) {
	db, s := newFake()
	ctx := context.Background()
	if _, err := s.Append(ctx, "case-1", entry(t, "a")); err != nil {
		t.Fatal(err)
	}
	other := &Store{DB: &fakeDB{items: db.items}, Table: "incidents"}
	db.before = func() {
		db.before = nil // one concurrent write, then none
		if _, err := other.Append(ctx, "case-1", entry(t, "other")); err != nil {
			t.Fatal(err)
		}
	}
	l, err := s.Append(ctx, "case-1", entry(t, "mine"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ids(l), []string{"a", "other", "mine"}) || l.Version != 3 {
		t.Errorf("entries %v version %d; want both writers' entries at version 3", ids(l), l.Version)
	}
}

// countingDB counts GetItem calls.
type countingDB struct {
	*fakeDB
	gets int
}

func (c *countingDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.gets++
	return c.fakeDB.GetItem(ctx, in, o...)
}

// TestAppendOnARead: a write on a ledger read before (or written last)
// puts without reading again; one on a read another writer has overtaken
// reads afresh and keeps both writers' entries; the read is not changed.
func TestAppendOnARead(t *testing.T) {
	fake, _ := newFake()
	db := &countingDB{fakeDB: fake}
	s := &Store{DB: db, Table: "incidents"}
	ctx := context.Background()
	read, err := s.Read(ctx, "case-1")
	if err != nil {
		t.Fatal(err)
	}
	db.gets = 0
	l, err := s.AppendOn(ctx, "case-1", read, entry(t, "a"))
	if err != nil || db.gets != 0 || l.Version != 1 || read.Version != 0 || len(read.Entries) != 0 {
		t.Fatalf("on a fresh read: version %d, %d reads, read now %+v, err %v; want version 1 without a read, the read unchanged", l.Version, db.gets, read, err)
	}
	l, err = s.AppendOn(ctx, "case-1", l, entry(t, "b"))
	if err != nil || db.gets != 0 || l.Version != 2 {
		t.Fatalf("on the last write: version %d, %d reads, err %v; want version 2 without a read", l.Version, db.gets, err)
	}
	if _, err := s.Append(ctx, "case-1", entry(t, "other")); err != nil {
		t.Fatal(err)
	}
	db.gets = 0
	l, err = s.AppendOn(ctx, "case-1", l, entry(t, "c"))
	if err != nil || db.gets != 1 || !reflect.DeepEqual(ids(l), []string{"a", "b", "other", "c"}) || l.Version != 4 {
		t.Errorf("on an overtaken read: %v version %d, %d reads, err %v; want every entry at version 4 after one read", ids(l), l.Version, db.gets, err)
	}
	// A ledger of another case is not taken for this one's.
	db.gets = 0
	if _, err := s.AppendOn(ctx, "case-2", l, entry(t, "x")); err != nil || db.gets != 1 {
		t.Errorf("another case's read: %d reads, err %v; want it read", db.gets, err)
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	db, s := newFake()
	tests := []struct {
		name, want string
		run        func() error
	}{
		{"conflicts without end", contract.ErrRetryable, func() error {
			bs := &Store{DB: &conflictDB{}, Table: "t"}
			_, err := bs.Append(ctx, "busy", entry(t, "a"))
			return err
		}},
		{"no table", contract.ErrPreconditionFailed, func() error {
			_, err := (&Store{DB: db}).Read(ctx, "case-1")
			return err
		}},
		{"no case", contract.ErrInvalidInput, func() error {
			_, err := s.Read(ctx, "")
			return err
		}},
		{"malformed", contract.ErrPreconditionFailed, func() error {
			db.items[Key("bad")] = map[string]ddbtypes.AttributeValue{PK: str(Key("bad")), "version": num(1),
				"entries": &ddbtypes.AttributeValueMemberL{Value: []ddbtypes.AttributeValue{str("not a map")}}}
			_, err := s.Read(ctx, "bad")
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := contract.ErrorName(tt.run()); got != tt.want {
				t.Errorf("got %s; want %s", got, tt.want)
			}
		})
	}
}

// conflictDB has a ledger that changes under every write.
type conflictDB struct{ v int }

func (c *conflictDB) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.v++
	return &dynamodb.GetItemOutput{Item: map[string]ddbtypes.AttributeValue{"version": num(c.v),
		"entries": &ddbtypes.AttributeValueMemberL{}}}, nil
}

func (c *conflictDB) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return nil, &ddbtypes.ConditionalCheckFailedException{}
}

func TestEntryJSON(t *testing.T) {
	e := entry(t, NACLEntryID("acl-1", true, 99))
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	_ = json.Unmarshal(b, &back)
	if back["id"] != "nacl:acl-1:out:99" || back["data"].(map[string]any)["ruleNumber"] != float64(99) || back["removedAt"] != nil {
		t.Errorf("entry as JSON: %s", b)
	}
}
