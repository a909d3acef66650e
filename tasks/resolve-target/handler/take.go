package handler

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
)

// The common case takes three items that are all free: the case claim,
// the task's lock and (correlating by service) the service's correlation
// item. takeAll writes them in one TransactWriteItems (one round trip on
// the way to containment instead of three), all or none, so no other
// execution ever sees this one holding some but not all
// (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html;
// IAM governs each Put as a PutItem:
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html).
// Its conditions admit only free items, never this execution's own: a
// retry of the state, a duplicate, a finding that joins an open case all
// cancel the transaction, and the handler then takes the items one by one
// as before, which tells those apart and reports them.

// taken says what takeAll took.
type taken struct {
	// correlated: the service's correlation item is this case's.
	correlated       bool
	cluster, service string
}

// takeAll claims the case, takes the lock and, when service is set, the
// service's correlation item, in one transaction. ok is false when a
// condition failed or the transaction conflicted with another (nothing
// was taken).
func (l *lock) takeAll(ctx context.Context, inc *incident.Incident, execID string, ttl time.Duration, c *Correlate, service, cluster string) (t taken, ok bool, err error) {
	now := l.Now()
	claim := l.claimItem(inc, execID, now)
	lockItem := l.lockItem(inc, execID, now, ttl)
	lockCond, lockVals := "attribute_not_exists(pk) OR expiresAt < :now", map[string]ddbtypes.AttributeValue{":now": num(now.Unix())}
	if !inc.DryRun {
		lockCond += " OR dryRun = :true"
		lockVals[":true"] = &ddbtypes.AttributeValueMemberBOOL{Value: true}
	}
	items := []ddbtypes.TransactWriteItem{
		{Put: &ddbtypes.Put{TableName: aws.String(l.Table), Item: claim, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		{Put: &ddbtypes.Put{TableName: aws.String(l.Table), Item: lockItem, ConditionExpression: aws.String(lockCond), ExpressionAttributeValues: lockVals}},
	}
	if correlates(inc, c, service) {
		items = append(items, ddbtypes.TransactWriteItem{Put: &ddbtypes.Put{TableName: aws.String(l.Table),
			Item:                      l.correlationItem(inc, execID, now, c, cluster, service),
			ConditionExpression:       aws.String("attribute_not_exists(pk) OR expiresAt < :now"),
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":now": num(now.Unix())}}})
		t.correlated, t.cluster, t.service = true, cluster, service
	}
	_, err = l.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	var cancelled *ddbtypes.TransactionCanceledException
	var conflict *ddbtypes.TransactionConflictException
	switch {
	case err == nil:
		return t, true, nil
	case errors.As(err, &cancelled), errors.As(err, &conflict):
		return taken{}, false, nil
	}
	return taken{}, false, contract.AWSError("dynamodb:TransactWriteItems incidents case, lock and correlation", err)
}

// correlates reports whether a finding on a task of service takes or joins
// the service's correlation item.
func correlates(inc *incident.Incident, c *Correlate, service string) bool {
	return c != nil && c.By == "service" && service != "" && !inc.DryRun
}

// releaseCorrelation gives the service's correlation item back when this
// execution took it and then ends in resolve-target. It touches only an
// item this execution holds.
func (l *lock) releaseCorrelation(ctx context.Context, t taken, execID string) error {
	return l.deleteHeld(ctx, incident.CorrelationKey(t.cluster, t.service), execID, "correlation")
}
