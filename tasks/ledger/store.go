package ledger

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/irflow/irflow/tasks/contract"
)

// PK is the incidents table's partition key attribute.
const PK = "pk"

// dbAPI reads and writes one ledger item.
type dbAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

// Store reads and writes the ledgers of a table.
type Store struct {
	DB    dbAPI
	Table string
	// Now stamps removals; nil is time.Now.
	Now func() time.Time
}

// NewStore returns a Store over the incidents table.
func NewStore(cfg aws.Config, table string) *Store {
	return &Store{DB: dynamodb.NewFromConfig(cfg), Table: table}
}

// Appender appends to a case's containment ledger (*Store): what the
// containing actions record their changes with.
type Appender interface {
	Append(ctx context.Context, caseID string, entries ...Entry) (*Ledger, error)
}

// Optional is the Appender of the incidents table in home (irflow's own
// account, whatever account the step acts in), or nil when there is no
// table: the action then keeps its record on the resource's tags only.
func Optional(home aws.Config, table string) Appender {
	if table == "" {
		return nil
	}
	return NewStore(home, table)
}

// Ledger is a case's item: its entries in the order they were first added.
type Ledger struct {
	CaseID  string
	Version int
	Entries []Entry
}

// clone is a copy whose entries can change without changing l's.
func (l *Ledger) clone() *Ledger {
	c := *l
	c.Entries = append([]Entry(nil), l.Entries...)
	return &c
}

// Find returns the entry with the id, or nil.
func (l *Ledger) Find(id string) *Entry {
	for i := range l.Entries {
		if l.Entries[i].ID == id {
			return &l.Entries[i]
		}
	}
	return nil
}

// Active returns the entries of a kind still in place.
func (l *Ledger) Active(kind string) []Entry {
	var out []Entry
	for _, e := range l.Entries {
		if e.Kind == kind && !e.Removed() {
			out = append(out, e)
		}
	}
	return out
}

// maxConflicts bounds the re-read-and-retry rounds of one write; parallel
// branches of an execution are a handful of writers at most.
const maxConflicts = 10

// Read returns the case's ledger (empty, version 0, when it has none),
// strongly consistent.
func (s *Store) Read(ctx context.Context, caseID string) (*Ledger, error) {
	if err := s.check(caseID); err != nil {
		return nil, err
	}
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), ConsistentRead: aws.Bool(true),
		Key: map[string]ddbtypes.AttributeValue{PK: &ddbtypes.AttributeValueMemberS{Value: Key(caseID)}}})
	if err != nil {
		return nil, contract.AWSError("dynamodb:GetItem "+Key(caseID), err)
	}
	return decodeItem(caseID, out.Item)
}

// Append adds the entries the ledger does not hold yet. An id already there
// is kept as it is, unless it was removed: then the new entry replaces it
// (the change was made again). It returns the ledger as written.
func (s *Store) Append(ctx context.Context, caseID string, entries ...Entry) (*Ledger, error) {
	return s.AppendOn(ctx, caseID, nil, entries...)
}

// AppendOn is Append on a ledger the caller read before (Read, or what an
// earlier write returned), nil to read it now: the first write goes on
// that version without reading again, and a conflicting write (the
// ledger moved on) falls back to reading it afresh.
func (s *Store) AppendOn(ctx context.Context, caseID string, read *Ledger, entries ...Entry) (*Ledger, error) {
	return s.update(ctx, caseID, read, func(l *Ledger) bool {
		changed := false
		for _, e := range entries {
			switch old := l.Find(e.ID); {
			case old == nil:
				l.Entries = append(l.Entries, e)
				changed = true
			case old.Removed():
				*old = e
				changed = true
			}
		}
		return changed
	})
}

// MarkRemoved stamps the entries with the ids as removed by step (those
// already removed keep their first stamp). Unknown ids are ignored.
func (s *Store) MarkRemoved(ctx context.Context, caseID, step string, ids ...string) (*Ledger, error) {
	now := s.now().UTC().Format(time.RFC3339Nano)
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	return s.update(ctx, caseID, nil, func(l *Ledger) bool {
		changed := false
		for i := range l.Entries {
			if e := &l.Entries[i]; want[e.ID] && !e.Removed() {
				e.RemovedAt, e.RemovedBy = now, step
				changed = true
			}
		}
		return changed
	})
}

// update applies change to a fresh read (or first to read, when the caller
// has one of the case) and writes it back on the version read, retrying on
// a conflicting write.
func (s *Store) update(ctx context.Context, caseID string, read *Ledger, change func(*Ledger) bool) (*Ledger, error) {
	for range maxConflicts {
		l := read
		read = nil
		if l == nil || l.CaseID != caseID {
			var err error
			if l, err = s.Read(ctx, caseID); err != nil {
				return nil, err
			}
		} else {
			l = l.clone()
		}
		if !change(l) {
			return l, nil
		}
		err := s.put(ctx, l)
		if err == nil {
			l.Version++
			return l, nil
		}
		var cf *ddbtypes.ConditionalCheckFailedException
		if !errors.As(err, &cf) {
			return nil, contract.AWSError("dynamodb:PutItem "+Key(caseID), err)
		}
	}
	return nil, &contract.RetryableError{Op: "dynamodb:PutItem " + Key(caseID),
		Err: fmt.Errorf("%d conflicting writes in a row", maxConflicts)}
}

// put writes l as version l.Version+1, on the condition that the stored
// item is still version l.Version (or absent for version 0).
func (s *Store) put(ctx context.Context, l *Ledger) error {
	item := encodeItem(l, s.now())
	in := &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: item}
	if l.Version == 0 {
		in.ConditionExpression = aws.String("attribute_not_exists(#pk)")
		in.ExpressionAttributeNames = map[string]string{"#pk": PK}
	} else {
		in.ConditionExpression = aws.String("#v = :v")
		in.ExpressionAttributeNames = map[string]string{"#v": "version"}
		in.ExpressionAttributeValues = map[string]ddbtypes.AttributeValue{":v": num(l.Version)}
	}
	_, err := s.DB.PutItem(ctx, in)
	return err
}

func (s *Store) check(caseID string) error {
	switch {
	case s == nil || s.Table == "":
		return &contract.PreconditionFailedError{Reason: "no incidents table (IRFLOW_INCIDENTS_TABLE): the containment ledger has nowhere to go"}
	case caseID == "":
		return &contract.InvalidInputError{Field: "incident.caseId", Reason: "the containment ledger is kept per case"}
	}
	return nil
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func str(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }
func num(n int) ddbtypes.AttributeValue {
	return &ddbtypes.AttributeValueMemberN{Value: strconv.Itoa(n)}
}

// encodeItem is the item of l at its next version. Entries are maps of
// strings; data is kept as its JSON text, byte for byte.
func encodeItem(l *Ledger, now time.Time) map[string]ddbtypes.AttributeValue {
	entries := make([]ddbtypes.AttributeValue, 0, len(l.Entries))
	for _, e := range l.Entries {
		m := map[string]ddbtypes.AttributeValue{"id": str(e.ID), "kind": str(e.Kind), "step": str(e.Step), "action": str(e.Action),
			"resource": str(e.Resource), "data": str(string(e.Data)), "addedAt": str(e.AddedAt)}
		if e.RemovedAt != "" {
			m["removedAt"], m["removedBy"] = str(e.RemovedAt), str(e.RemovedBy)
		}
		entries = append(entries, &ddbtypes.AttributeValueMemberM{Value: m})
	}
	return map[string]ddbtypes.AttributeValue{
		PK: str(Key(l.CaseID)), "caseId": str(l.CaseID), "kind": str("ledger"),
		"version": num(l.Version + 1), "updatedAt": str(now.UTC().Format(time.RFC3339Nano)),
		"entries": &ddbtypes.AttributeValueMemberL{Value: entries},
	}
}

// decodeItem reads an item (nil: no ledger yet).
func decodeItem(caseID string, item map[string]ddbtypes.AttributeValue) (*Ledger, error) {
	l := &Ledger{CaseID: caseID}
	if len(item) == 0 {
		return l, nil
	}
	bad := func(what string) error {
		return &contract.PreconditionFailedError{Reason: fmt.Sprintf("the containment ledger %s is malformed: %s", Key(caseID), what)}
	}
	v, ok := item["version"].(*ddbtypes.AttributeValueMemberN)
	if !ok {
		return nil, bad("no version")
	}
	n, err := strconv.Atoi(v.Value)
	if err != nil || n < 1 {
		return nil, bad("version " + v.Value)
	}
	l.Version = n
	list, ok := item["entries"].(*ddbtypes.AttributeValueMemberL)
	if !ok {
		return nil, bad("no entries")
	}
	for i, av := range list.Value {
		m, ok := av.(*ddbtypes.AttributeValueMemberM)
		if !ok {
			return nil, bad(fmt.Sprintf("entry %d is not a map", i))
		}
		get := func(k string) string {
			if s, ok := m.Value[k].(*ddbtypes.AttributeValueMemberS); ok {
				return s.Value
			}
			return ""
		}
		e := Entry{ID: get("id"), Kind: get("kind"), Step: get("step"), Action: get("action"), Resource: get("resource"),
			Data: rawData(get("data")), AddedAt: get("addedAt"), RemovedAt: get("removedAt"), RemovedBy: get("removedBy")}
		if e.ID == "" || e.Kind == "" {
			return nil, bad(fmt.Sprintf("entry %d has no id or kind", i))
		}
		l.Entries = append(l.Entries, e)
	}
	return l, nil
}

func rawData(s string) []byte {
	if s == "" {
		return []byte("null")
	}
	return []byte(s)
}
