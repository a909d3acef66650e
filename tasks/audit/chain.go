package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/mac"
)

// GenesisHash is the prevHash of a case's first audit record.
var GenesisHash = strings.Repeat("0", 64)

// Record is one audit record. Hash covers every other field in this order,
// and PrevHash chains it to the record before, so editing, deleting or
// reordering any record breaks verification from there on. MAC is the
// deployment's HMAC key (KMS) over the case, the seq and the hash: who can
// write to the table but not use the key cannot re-hash an edited chain
// into one that verifies.
type Record struct {
	CaseID      string `json:"caseId"`
	Seq         int64  `json:"seq"`
	At          string `json:"at"`
	ExecutionID string `json:"executionId"`
	Step        string `json:"step"`
	Action      string `json:"action"`
	Event       string `json:"event"`
	Status      string `json:"status"`
	Summary     string `json:"summary"`
	Detail      string `json:"detail"`
	PrevHash    string `json:"prevHash"`
	Hash        string `json:"hash"`
	MAC         string `json:"mac,omitempty"`
}

// ComputeHash returns the hex SHA-256 of the record's canonical JSON: the
// object {caseId, seq, at, executionId, step, action, event, status,
// summary, detail, prevHash} with keys in that order, no whitespace, and
// strings escaped as Go's encoding/json does (docs/internals.md). The
// hashed fields are declared here again on purpose: the canonical form is
// a contract with every verifier of a stored chain (docs/internals.md), so
// it does not follow Record when a field is added to it; TestComputeHashPinned
// holds known records' hashes.
func (r Record) ComputeHash() string {
	b, _ := json.Marshal(struct {
		CaseID      string `json:"caseId"`
		Seq         int64  `json:"seq"`
		At          string `json:"at"`
		ExecutionID string `json:"executionId"`
		Step        string `json:"step"`
		Action      string `json:"action"`
		Event       string `json:"event"`
		Status      string `json:"status"`
		Summary     string `json:"summary"`
		Detail      string `json:"detail"`
		PrevHash    string `json:"prevHash"`
	}{r.CaseID, r.Seq, r.At, r.ExecutionID, r.Step, r.Action, r.Event, r.Status, r.Summary, r.Detail, r.PrevHash})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// ChainError names the first record that does not verify.
type ChainError struct {
	Seq    int64
	Reason string
}

func (e *ChainError) Error() string { return fmt.Sprintf("audit record %d: %s", e.Seq, e.Reason) }

// Verify recomputes the chain of one case's records (in seq order) and
// returns a *ChainError for the first that does not match.
func Verify(records []Record) error {
	prev := GenesisHash
	for i, r := range records {
		want := int64(i + 1)
		if r.Seq != want {
			return &ChainError{Seq: want, Reason: fmt.Sprintf("missing: found seq %d in its place", r.Seq)}
		}
		if r.PrevHash != prev {
			return &ChainError{Seq: r.Seq, Reason: "prevHash does not match the previous record's hash"}
		}
		if h := r.ComputeHash(); h != r.Hash {
			return &ChainError{Seq: r.Seq, Reason: "hash does not match its contents (edited?)"}
		}
		prev = r.Hash
	}
	return nil
}

// DynamoAPI is the part of DynamoDB the audit chain uses.
type DynamoAPI interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// Reader reads a case's chain (*Chain): every record, in seq order.
type Reader interface {
	Read(ctx context.Context, caseID string) ([]Record, error)
}

// Auditor appends records to a case's chain.
type Auditor interface {
	Append(ctx context.Context, r Record) (Record, error)
}

// Chain is the DynamoDB audit log: PK caseId, SK seq.
type Chain struct {
	DB    DynamoAPI
	Table string
	// MAC authenticates each record; nil writes records without a MAC
	// (unit tests), which `irflow audit --verify` refuses.
	MAC *mac.Key
	Now func() time.Time
}

// maxAppendAttempts bounds retries of a conditional append that lost a race.
const maxAppendAttempts = 50

// Append sets Seq, At, PrevHash and Hash and writes the record with a
// conditional put, so two writers cannot both take the same seq: the loser
// re-reads the tail and tries again.
func (c *Chain) Append(ctx context.Context, r Record) (Record, error) {
	return c.append(ctx, r, false)
}

// Events of other executions' records a case's chain may hold, and of its
// end.
const (
	// EventFindingJoined is resolve-target's record of a finding that
	// joined the open case (correlation), written by the joining
	// execution, not the case's.
	EventFindingJoined = "finding-joined"
	// EventCaseFinalized is finalize-case's record the manifest anchors.
	EventCaseFinalized = "case-finalized"
)

// ClosedError says a case's chain ended (finalize-case sealed it) before
// an AppendOpen landed.
type ClosedError struct{ CaseID string }

func (e *ClosedError) Error() string {
	return fmt.Sprintf("case %s was finalized: its audit chain takes no more records from other executions", e.CaseID)
}

// AppendOpen is Append for a record of another execution (a joining
// finding): it refuses with a *ClosedError once the case's chain is sealed
// (its last record is finalize-case's case-finalized record or result), so
// nothing lands after the record the manifest anchors.
func (c *Chain) AppendOpen(ctx context.Context, r Record) (Record, error) {
	return c.append(ctx, r, true)
}

func closing(r *Record) bool {
	return r != nil && (r.Event == EventCaseFinalized || r.Action == "finalize-case" && r.Event == "result")
}

// AppendAfter is Append for a writer that knows the chain's head: prev, the
// record it wrote last (a step's start record, before its result), or nil
// for a case whose chain it expects empty. It puts r right after prev
// without reading the head first (one round trip fewer); when another
// writer got there first, it falls back to Append's read and retry.
func (c *Chain) AppendAfter(ctx context.Context, prev *Record, r Record) (Record, error) {
	return c.appendFrom(ctx, r, false, orGenesis(prev))
}

// Head is where a case's chain ended when a step last saw it: the seq
// and hash of its last record. Each task result carries the head its own
// result record made (contract.Result.Chain), and the generated state
// machine hands it to the next step where nothing else can have written
// between (docs/design.md, "The Lambda contract").
type Head = contract.ChainHead

// transactAPI is DynamoDB's TransactWriteItems, which AppendOnHead uses
// when the table client has it.
type transactAPI interface {
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// AppendOnHead is Append for a writer told the chain's head by someone
// else (the step before it, through the execution's state): it puts r
// after head without reading the head first, in one TransactWriteItems
// that also checks the record at head.Seq still has head.Hash, so a stale
// or wrong head can never chain r to a record that is not the last one
// (DynamoDB applies a transaction's condition check and put all or none:
// https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html;
// IAM authorizes the parts as dynamodb:ConditionCheckItem and
// dynamodb:PutItem: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html).
// When the check or the put is refused (another writer got there first),
// it falls back to Append's read of the head.
func (c *Chain) AppendOnHead(ctx context.Context, head Head, r Record) (Record, error) {
	if c == nil || c.DB == nil || c.Table == "" || head.Seq < 1 || head.Hash == "" {
		return c.Append(ctx, r)
	}
	tx, ok := c.DB.(transactAPI)
	if !ok {
		return c.Append(ctx, r)
	}
	r, err := c.seal(ctx, r, head.Seq+1, head.Hash)
	if err != nil {
		return r, err
	}
	_, err = tx.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
		{ConditionCheck: &ddbtypes.ConditionCheck{
			TableName: aws.String(c.Table),
			Key: map[string]ddbtypes.AttributeValue{
				"caseId": &ddbtypes.AttributeValueMemberS{Value: r.CaseID},
				"seq":    &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(head.Seq, 10)},
			},
			ConditionExpression:       aws.String("#h = :h"),
			ExpressionAttributeNames:  map[string]string{"#h": "hash"},
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":h": &ddbtypes.AttributeValueMemberS{Value: head.Hash}},
		}},
		{Put: &ddbtypes.Put{
			TableName:           aws.String(c.Table),
			Item:                r.item(),
			ConditionExpression: aws.String("attribute_not_exists(seq)"),
		}},
	}})
	if err == nil {
		return r, nil
	}
	var cancelled *ddbtypes.TransactionCanceledException
	if !errors.As(err, &cancelled) && !strings.Contains(err.Error(), "TransactionCanceled") {
		return r, contract.AWSError("dynamodb:TransactWriteItems audit", err)
	}
	// The head moved on (or our own write landed and the SDK resent it
	// after a lost reply): one read of the chain's last records tells
	// which, and gives the head to put r after.
	tail, err := c.tail(ctx, r.CaseID, 4)
	if err != nil {
		return r, err
	}
	for _, t := range tail {
		if t.Seq == r.Seq && t.Hash == r.Hash {
			return r, nil
		}
	}
	var last *Record
	if len(tail) > 0 {
		last = &tail[0]
	}
	return c.appendFrom(ctx, r, false, orGenesis(last))
}

// orGenesis is head as appendFrom's guess: Seq 0 for an empty chain.
func orGenesis(head *Record) *Record {
	if head == nil {
		return &Record{Seq: 0, Hash: GenesisHash}
	}
	return head
}

// tail returns a case's last n records, newest first.
func (c *Chain) tail(ctx context.Context, caseID string, n int32) ([]Record, error) {
	out, err := c.DB.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(c.Table),
		KeyConditionExpression:    aws.String("caseId = :c"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":c": &ddbtypes.AttributeValueMemberS{Value: caseID}},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(n),
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return nil, contract.AWSError("dynamodb:Query audit", err)
	}
	recs := make([]Record, 0, len(out.Items))
	for _, it := range out.Items {
		r, err := recordFrom(it)
		if err != nil {
			return nil, err
		}
		recs = append(recs, r)
	}
	return recs, nil
}

func (c *Chain) append(ctx context.Context, r Record, open bool) (Record, error) {
	return c.appendFrom(ctx, r, open, nil)
}

// appendFrom appends r; guess, when set, is the head to try first (Seq 0
// for an empty chain) instead of reading it.
func (c *Chain) appendFrom(ctx context.Context, r Record, open bool, guess *Record) (Record, error) {
	if c == nil || c.DB == nil || c.Table == "" {
		return r, &contract.PreconditionFailedError{Reason: "no audit table configured (IRFLOW_AUDIT_TABLE)"}
	}
	for attempt := 0; attempt < maxAppendAttempts; attempt++ {
		last := guess
		if guess == nil {
			var err error
			if last, err = c.last(ctx, r.CaseID); err != nil {
				return r, err
			}
			if open && closing(last) {
				return r, &ClosedError{CaseID: r.CaseID}
			}
		} else if guess.Seq == 0 {
			last = nil
		}
		guess = nil
		seq, prev := int64(1), GenesisHash
		if last != nil {
			seq, prev = last.Seq+1, last.Hash
		}
		var err error
		if r, err = c.seal(ctx, r, seq, prev); err != nil {
			return r, err
		}
		_, err = c.DB.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:           aws.String(c.Table),
			Item:                r.item(),
			ConditionExpression: aws.String("attribute_not_exists(seq)"),
		})
		if err == nil {
			return r, nil
		}
		var ccf *ddbtypes.ConditionalCheckFailedException
		if !errors.As(err, &ccf) && !strings.Contains(err.Error(), "ConditionalCheckFailed") {
			return r, contract.AWSError("dynamodb:PutItem audit", err)
		}
		// Either another writer took this seq, or our own write landed and
		// the SDK resent it after a lost reply: then the stored record is ours.
		if mine, err := c.at(ctx, r.CaseID, r.Seq); err != nil {
			return r, err
		} else if mine != nil && mine.Hash == r.Hash {
			return r, nil
		}
		// Lost the race for this seq: back off a little, with jitter, and retry.
		select {
		case <-ctx.Done():
			return r, &contract.RetryableError{Op: "audit append", Err: ctx.Err()}
		case <-time.After(time.Duration(rand.IntN(20*(attempt+1))) * time.Millisecond):
		}
	}
	return r, &contract.RetryableError{Op: "audit append", Err: errors.New("too much contention on the case's audit chain")}
}

// seal makes r the record at seq after prevHash: its time, hash and MAC.
func (c *Chain) seal(ctx context.Context, r Record, seq int64, prevHash string) (Record, error) {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	r.Seq, r.PrevHash = seq, prevHash
	r.At = now().UTC().Format(time.RFC3339Nano)
	r.Hash = r.ComputeHash()
	var err error
	r.MAC, err = c.sign(ctx, r)
	return r, err
}

// sign returns the record's MAC, or "" without a key.
func (c *Chain) sign(ctx context.Context, r Record) (string, error) {
	if c.MAC == nil {
		return "", nil
	}
	return c.MAC.Sign(ctx, mac.PurposeAuditRecord, RecordMACFields(r)...)
}

// RecordMACFields are what a record's MAC covers: the case, the seq and
// the hash (which covers every other field).
func RecordMACFields(r Record) []string {
	return []string{r.CaseID, strconv.FormatInt(r.Seq, 10), r.Hash}
}

func (c *Chain) last(ctx context.Context, caseID string) (*Record, error) {
	tail, err := c.tail(ctx, caseID, 1)
	if err != nil || len(tail) == 0 {
		return nil, err
	}
	return &tail[0], nil
}

// at returns the record of a case at seq, or nil.
func (c *Chain) at(ctx context.Context, caseID string, seq int64) (*Record, error) {
	out, err := c.DB.Query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(c.Table),
		KeyConditionExpression: aws.String("caseId = :c AND seq = :s"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":c": &ddbtypes.AttributeValueMemberS{Value: caseID},
			":s": &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(seq, 10)},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, contract.AWSError("dynamodb:Query audit", err)
	}
	if len(out.Items) == 0 {
		return nil, nil
	}
	rec, err := recordFrom(out.Items[0])
	return &rec, err
}

// Read returns every record of a case in seq order.
func (c *Chain) Read(ctx context.Context, caseID string) ([]Record, error) {
	var out []Record
	var start map[string]ddbtypes.AttributeValue
	for {
		page, err := c.DB.Query(ctx, &dynamodb.QueryInput{
			TableName:                 aws.String(c.Table),
			KeyConditionExpression:    aws.String("caseId = :c"),
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":c": &ddbtypes.AttributeValueMemberS{Value: caseID}},
			ConsistentRead:            aws.Bool(true),
			ExclusiveStartKey:         start,
		})
		if err != nil {
			return nil, contract.AWSError("dynamodb:Query audit", err)
		}
		for _, it := range page.Items {
			r, err := recordFrom(it)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		start = page.LastEvaluatedKey
	}
}

func (r Record) item() map[string]ddbtypes.AttributeValue {
	s := func(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }
	item := map[string]ddbtypes.AttributeValue{
		"caseId": s(r.CaseID), "seq": &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(r.Seq, 10)},
		"at": s(r.At), "executionId": s(r.ExecutionID), "step": s(r.Step), "action": s(r.Action),
		"event": s(r.Event), "status": s(r.Status), "summary": s(r.Summary), "detail": s(r.Detail),
		"prevHash": s(r.PrevHash), "hash": s(r.Hash),
	}
	if r.MAC != "" {
		item["mac"] = s(r.MAC)
	}
	return item
}

func recordFrom(it map[string]ddbtypes.AttributeValue) (Record, error) {
	s := func(k string) string {
		if v, ok := it[k].(*ddbtypes.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	r := Record{CaseID: s("caseId"), At: s("at"), ExecutionID: s("executionId"), Step: s("step"), Action: s("action"),
		Event: s("event"), Status: s("status"), Summary: s("summary"), Detail: s("detail"), PrevHash: s("prevHash"), Hash: s("hash"),
		MAC: s("mac")}
	n, ok := it["seq"].(*ddbtypes.AttributeValueMemberN)
	if !ok {
		return r, fmt.Errorf("audit record of case %s has no numeric seq", r.CaseID)
	}
	seq, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		return r, fmt.Errorf("audit record of case %s: seq %q: %w", r.CaseID, n.Value, err)
	}
	r.Seq = seq
	return r, nil
}
