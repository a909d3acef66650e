package handler

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

const correlateByService = `{"correlate":{"by":"service","windowMinutes":60}}`

// TestTakeAllAtOnce: with every item free, the case claim, the task lock
// and the service's correlation item are written in one transaction
// whose conditions admit only free items, and nothing is put one by one.
func TestTakeAllAtOnce(t *testing.T) {
	h, db := newWorld()
	db.transact = func(*dynamodb.TransactWriteItemsInput) (*dynamodb.TransactWriteItemsOutput, error) {
		return &dynamodb.TransactWriteItemsOutput{}, nil
	}
	if _, err := h.Handle(context.Background(), payloadFor(sampleFinding(t, nil), correlateByService)); err != nil {
		t.Fatal(err)
	}
	if len(db.txs) != 1 {
		t.Fatalf("%d transactions; want 1", len(db.txs))
	}
	var keys []string
	for _, it := range db.txs[0].TransactItems {
		keys = append(keys, pkOf(it.Put.Item)+" if "+aws.ToString(it.Put.ConditionExpression))
		if strings.Contains(aws.ToString(it.Put.ConditionExpression), ":me") {
			t.Errorf("%s: a fast-path condition admits this execution's own item (a retry must go the slow way): %s", pkOf(it.Put.Item), aws.ToString(it.Put.ConditionExpression))
		}
	}
	want := []string{"case#", "task#", "corr#"}
	for i, k := range keys {
		if i >= len(want) || !strings.HasPrefix(k, want[i]) {
			t.Fatalf("transaction items %v; want the case claim, the task lock and the service's item", keys)
		}
	}
	if len(keys) != 3 {
		t.Fatalf("transaction items %v; want 3", keys)
	}
	if len(db.puts) != 0 {
		t.Errorf("%d items put one by one besides the transaction", len(db.puts))
	}
}

// TestTakeAllCancelledGoesOneByOne: a cancelled transaction (an item held:
// a duplicate, a retry, a joining finding) changes nothing, and the items
// are then taken one by one, which tells those cases apart.
func TestTakeAllCancelledGoesOneByOne(t *testing.T) {
	h, db := newWorld() // its transactions are all cancelled
	if _, err := h.Handle(context.Background(), payloadFor(sampleFinding(t, nil), correlateByService)); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range db.puts {
		got = append(got, strings.SplitN(pkOf(p.Item), "#", 2)[0])
	}
	if strings.Join(got, ",") != "case,task,corr" || len(db.txs) != 1 {
		t.Errorf("after a cancelled transaction: %d transactions, puts %v; want 1 and case,task,corr", len(db.txs), got)
	}
}

// TestTakeAllDescribeFails: when the task cannot be described after the
// transaction took its items, all three are given back.
func TestTakeAllDescribeFails(t *testing.T) {
	h, db := newWorld()
	db.transact = func(*dynamodb.TransactWriteItemsInput) (*dynamodb.TransactWriteItemsOutput, error) {
		return &dynamodb.TransactWriteItemsOutput{}, nil
	}
	h.ECS.(*fakeECS).taskDef = func(*ecs.DescribeTaskDefinitionInput) (*ecs.DescribeTaskDefinitionOutput, error) {
		return nil, errors.New("AccessDenied")
	}
	if _, err := h.Handle(context.Background(), payloadFor(sampleFinding(t, nil), correlateByService)); err == nil {
		t.Fatal("a task that cannot be described resolved")
	}
	released := map[string]bool{}
	for _, d := range db.dels {
		released[strings.SplitN(pkOf(d.Key), "#", 2)[0]] = true
	}
	lockGiven := false
	for _, p := range db.puts {
		lockGiven = lockGiven || strings.HasPrefix(pkOf(p.Item), "task#")
	}
	if !released["case"] || !released["corr"] || !lockGiven {
		t.Errorf("released %v, lock given back %v; want the case, the service's item and the lock back", released, lockGiven)
	}
}
