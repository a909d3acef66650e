package handler

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
)

// Conditions of the dedupe lock. A lock is free when nobody holds it, when
// it expired (the table's TTL deletes expired items only eventually), or
// when this very execution holds it (Step Functions retrying the state). A
// real response also takes over a lock held by a dry run: a rehearsal must
// never suppress the response to a live finding.
const (
	condFree       = "attribute_not_exists(pk) OR expiresAt < :now OR executionId = :me"
	condFreeOrDry  = condFree + " OR dryRun = :true"
	condHeldByMe   = "executionId = :me"
	maxLockRetries = 3
)

// lock is the per-task dedupe lock in the incidents table: PK
// task#<taskArn> (incident.TaskLockKey), TTL attribute expiresAt (epoch
// seconds). finalize-case deletes it.
type lock struct {
	DB    dynamoAPI
	Table string
	Now   func() time.Time
	// Audit is the audit chain a joining finding is appended to (the open
	// case's); nil appends nothing.
	Audit openAppender
}

// openAppender appends a record of another execution to a case's chain
// unless the case was finalized (audit.Chain.AppendOpen).
type openAppender interface {
	AppendOpen(ctx context.Context, r audit.Record) (audit.Record, error)
}

// acquire takes the task's lock for the execution. It reports whether this
// execution already held it, and returns a DuplicateIncidentError naming the
// holder when another execution does.
func (l *lock) acquire(ctx context.Context, inc *incident.Incident, execID string, ttl time.Duration) (retaken bool, err error) {
	for attempt := 0; attempt < maxLockRetries; attempt++ {
		now := l.Now()
		cond := condFreeOrDry
		if inc.DryRun {
			cond = condFree
		}
		values := map[string]ddbtypes.AttributeValue{
			":now": num(now.Unix()),
			":me":  str(execID),
		}
		if !inc.DryRun {
			values[":true"] = &ddbtypes.AttributeValueMemberBOOL{Value: true}
		}
		out, err := l.DB.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:                 aws.String(l.Table),
			Item:                      l.lockItem(inc, execID, now, ttl),
			ConditionExpression:       aws.String(cond),
			ExpressionAttributeValues: values,
			ReturnValues:              ddbtypes.ReturnValueAllOld,
		})
		if err == nil {
			return out != nil && attr(out.Attributes, "executionId") == execID, nil
		}
		if !conditionFailed(err) {
			return false, contract.AWSError("dynamodb:PutItem incidents lock", err)
		}
		holder, err := l.DB.GetItem(ctx, &dynamodb.GetItemInput{
			TableName:      aws.String(l.Table),
			Key:            map[string]ddbtypes.AttributeValue{incident.TablePK: str(inc.LockKey())},
			ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return false, contract.AWSError("dynamodb:GetItem incidents lock", err)
		}
		if len(holder.Item) > 0 {
			return false, &contract.DuplicateIncidentError{TaskArn: lockSubject(inc),
				ExistingCase: attr(holder.Item, "caseId"), Execution: attr(holder.Item, "executionId")}
		}
		// Released between our put and our read: try again.
	}
	return false, &contract.RetryableError{Op: "dedupe lock " + lockSubject(inc), Err: errors.New("the lock changed hands during every attempt")}
}

// release gives the lock back by marking it expired, which frees it for the
// next execution at once (the condition treats an expired lock as free)
// without needing dynamodb:DeleteItem. It touches only a lock this
// execution holds.
func (l *lock) release(ctx context.Context, inc *incident.Incident, execID string) error {
	now := l.Now()
	_, err := l.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(l.Table),
		Item: map[string]ddbtypes.AttributeValue{
			incident.TablePK: str(inc.LockKey()),
			"taskArn":        str(inc.TaskArn),
			"caseId":         str(inc.CaseID),
			"executionId":    str(execID),
			"startedAt":      str(now.UTC().Format(time.RFC3339)),
			"expiresAt":      num(now.Unix() - 1),
			"dryRun":         &ddbtypes.AttributeValueMemberBOOL{Value: inc.DryRun},
			"releasedAt":     str(now.UTC().Format(time.RFC3339)),
		},
		ConditionExpression:       aws.String(condHeldByMe),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":me": str(execID)},
	})
	if err != nil && !conditionFailed(err) {
		return contract.AWSError("dynamodb:PutItem incidents lock release", err)
	}
	return nil
}

// lockSubject is what the dedupe lock holds: the task, or a host
// finding's EC2 instance (its ARN).
func lockSubject(inc *incident.Incident) string {
	if inc.IsHost() {
		return inc.InstanceArn()
	}
	return inc.TaskArn
}

func conditionFailed(err error) bool {
	var ccf *ddbtypes.ConditionalCheckFailedException
	return errors.As(err, &ccf) || strings.Contains(err.Error(), "ConditionalCheckFailed")
}

func str(s string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: s} }

func num(n int64) ddbtypes.AttributeValue {
	return &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func attr(item map[string]ddbtypes.AttributeValue, k string) string {
	if v, ok := item[k].(*ddbtypes.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// Conditions of the case claim: free, or held by this very execution
// (Step Functions retrying the state). Nothing else takes it, ever.
const (
	condCaseFree = "attribute_not_exists(pk) OR executionId = :me"
)

// claimCase takes the case id for the execution: case#<caseId> in the
// incidents table, holding the execution, when it started and the task.
// One execution per case: another gets a DuplicateIncidentError, so two
// runs never share an audit chain, evidence keys or a report. It reports
// whether this execution already held the claim.
func (l *lock) claimCase(ctx context.Context, inc *incident.Incident, execID string) (retaken bool, err error) {
	item := l.claimItem(inc, execID, l.Now())
	out, err := l.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(l.Table), Item: item,
		ConditionExpression:       aws.String(condCaseFree),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":me": str(execID)},
		ReturnValues:              ddbtypes.ReturnValueAllOld,
	})
	if err == nil {
		return out != nil && attr(out.Attributes, "executionId") == execID, nil
	}
	if !conditionFailed(err) {
		return false, contract.AWSError("dynamodb:PutItem incidents case claim", err)
	}
	holder, err := l.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(l.Table),
		Key:            map[string]ddbtypes.AttributeValue{incident.TablePK: str(incident.CaseClaimKey(inc.CaseID))},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return false, contract.AWSError("dynamodb:GetItem incidents case claim", err)
	}
	return false, &contract.DuplicateIncidentError{TaskArn: inc.TaskArn, ExistingCase: inc.CaseID,
		Execution: attr(holder.Item, "executionId"), CaseTaken: true}
}

// lockItem is the task's lock as this execution holds it.
func (l *lock) lockItem(inc *incident.Incident, execID string, now time.Time, ttl time.Duration) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{
		incident.TablePK: str(inc.LockKey()),
		"taskArn":        str(inc.TaskArn),
		"caseId":         str(inc.CaseID),
		"executionId":    str(execID),
		"startedAt":      str(now.UTC().Format(time.RFC3339)),
		"expiresAt":      num(now.Add(ttl).Unix()),
		"dryRun":         &ddbtypes.AttributeValueMemberBOOL{Value: inc.DryRun},
	}
}

// claimItem is the case claim as this execution holds it.
func (l *lock) claimItem(inc *incident.Incident, execID string, now time.Time) map[string]ddbtypes.AttributeValue {
	item := map[string]ddbtypes.AttributeValue{
		incident.TablePK: str(incident.CaseClaimKey(inc.CaseID)),
		"caseId":         str(inc.CaseID),
		"executionId":    str(execID),
		"startedAt":      str(now.UTC().Format(time.RFC3339)),
		"taskArn":        str(inc.TaskArn),
		"source":         str(inc.Source),
		"dryRun":         &ddbtypes.AttributeValueMemberBOOL{Value: inc.DryRun},
	}
	if r := inc.Requester; r != nil {
		item["requester"] = str(r.ID)
		item["requesterVerified"] = &ddbtypes.AttributeValueMemberBOOL{Value: r.Verified}
	}
	return item
}

// releaseCase gives the case id back when this execution ends in
// resolve-target before anything was done or recorded under it (the task
// is held by another case, or cannot be described), so a later execution
// may use it. It touches only a claim this execution holds.
func (l *lock) releaseCase(ctx context.Context, inc *incident.Incident, execID string) error {
	return l.deleteHeld(ctx, incident.CaseClaimKey(inc.CaseID), execID, "case claim")
}

// deleteHeld deletes the item at key if this execution holds it (anyone
// else's is left alone).
func (l *lock) deleteHeld(ctx context.Context, key, execID, what string) error {
	_, err := l.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(l.Table),
		Key:                       map[string]ddbtypes.AttributeValue{incident.TablePK: str(key)},
		ConditionExpression:       aws.String(condHeldByMe),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":me": str(execID)},
	})
	if err != nil && !conditionFailed(err) {
		return contract.AWSError("dynamodb:DeleteItem incidents "+what, err)
	}
	return nil
}
