package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
)

// Correlate is with.correlate (the playbook's triggers.correlate).
type Correlate struct {
	By            string `json:"by"`
	WindowMinutes int    `json:"windowMinutes"`
}

// correlate takes the service's correlation item for the case, or returns
// a CorrelatedError naming the case that holds it: the first finding of a
// service opens the case, later ones within the window join it. The item
// (pk corr#<clusterArn>/<service>) is free when absent, expired or held by
// this execution (a retry of the state). Dry runs neither take nor join.
func (l *lock) correlate(ctx context.Context, inc *incident.Incident, t *incident.Target, execID string, c *Correlate) error {
	if !correlates(inc, c, t.Service) {
		return nil
	}
	key := incident.CorrelationKey(t.ClusterArn, t.Service)
	for attempt := 0; attempt < maxLockRetries; attempt++ {
		now := l.Now()
		_, err := l.DB.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:                 aws.String(l.Table),
			Item:                      l.correlationItem(inc, execID, now, c, t.ClusterArn, t.Service),
			ConditionExpression:       aws.String(condFree),
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":now": num(now.Unix()), ":me": str(execID)},
		})
		if err == nil {
			return nil
		}
		if !conditionFailed(err) {
			return contract.AWSError("dynamodb:PutItem incidents correlation", err)
		}
		holder, err := l.DB.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(l.Table), ConsistentRead: aws.Bool(true),
			Key: map[string]ddbtypes.AttributeValue{incident.TablePK: str(key)},
		})
		if err != nil {
			return contract.AWSError("dynamodb:GetItem incidents correlation", err)
		}
		if len(holder.Item) > 0 {
			co := &contract.CorrelatedError{TaskArn: inc.TaskArn, Key: key,
				ExistingCase: attr(holder.Item, "caseId"), Execution: attr(holder.Item, "executionId")}
			if err := l.join(ctx, inc, t, execID, co); err != nil {
				return err
			}
			return co
		}
	}
	return &contract.RetryableError{Op: "correlation " + key, Err: errors.New("the item changed hands during every attempt")}
}

// correlationItem is the service's correlation item as this case holds it.
func (l *lock) correlationItem(inc *incident.Incident, execID string, now time.Time, c *Correlate, cluster, service string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{
		incident.TablePK: str(incident.CorrelationKey(cluster, service)),
		"caseId":         str(inc.CaseID),
		"executionId":    str(execID),
		"taskArn":        str(inc.TaskArn),
		"startedAt":      str(now.UTC().Format(time.RFC3339)),
		"expiresAt":      num(now.Add(time.Duration(c.WindowMinutes) * time.Minute).Unix()),
	}
}

// EventFindingJoined is the audit record a joining finding appends to the
// open case's chain: the case records every finding it covers, each once.
const EventFindingJoined = audit.EventFindingJoined

// join appends the joining finding to the open case's audit chain (the
// finding, its task, this execution), so the case's report and its
// approver see it. Without an audit chain (unit tests) it does nothing.
// Once per execution: a marker (join#<executionId> in the incidents
// table, expiring after a day) is written after the append, and a retry of
// the state that finds it appends nothing. A retry after an append whose
// marker was not written appends the record again (at least once, never
// lost); reading the chain instead would cost every join the whole chain.
func (l *lock) join(ctx context.Context, inc *incident.Incident, t *incident.Target, execID string, co *contract.CorrelatedError) error {
	if l.Audit == nil || co.ExistingCase == "" {
		return nil
	}
	marker := map[string]ddbtypes.AttributeValue{incident.TablePK: str(incident.JoinKey(execID))}
	got, err := l.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(l.Table), Key: marker, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return contract.AWSError("dynamodb:GetItem incidents join marker", err)
	}
	if len(got.Item) > 0 {
		return nil
	}
	d := map[string]any{"taskArn": inc.TaskArn, "execution": execID, "caseIdGivenBack": inc.CaseID, "key": co.Key,
		"service": t.Service, "taskDefinitionArn": t.TaskDefinitionArn, "lastStatus": t.LastStatus}
	what := "a console request"
	if f := inc.Finding; f != nil {
		d["finding"] = map[string]any{"id": f.ID, "arn": f.Arn, "type": f.Type, "severity": f.Severity, "createdAt": f.CreatedAt, "updatedAt": f.UpdatedAt}
		what = fmt.Sprintf("finding %s (%s, severity %g)", f.ID, f.Type, f.Severity)
	}
	detail, err := json.Marshal(d)
	if err != nil {
		return err
	}
	_, err = l.Audit.AppendOpen(ctx, audit.Record{CaseID: co.ExistingCase, ExecutionID: execID, Step: "resolve-target", Action: "resolve-target",
		Event: EventFindingJoined, Status: "CORRELATED",
		Summary: fmt.Sprintf("%s on task %s joined case %s (%s): not run again", what, shortID(inc.TaskArn), co.ExistingCase, t.Service),
		Detail:  string(detail)})
	var closed *audit.ClosedError
	if errors.As(err, &closed) {
		// The case ended while this finding joined it: Step Functions
		// retries the state, which then finds the service's item gone
		// (finalize-case released it) and opens a case, or joins a newer one.
		return &contract.RetryableError{Op: "correlation " + co.Key, Err: err}
	}
	if err != nil {
		return err
	}
	now := l.Now()
	_, err = l.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(l.Table), Item: map[string]ddbtypes.AttributeValue{
		incident.TablePK: str(incident.JoinKey(execID)), "caseId": str(co.ExistingCase), "taskArn": str(inc.TaskArn),
		"joinedAt": str(now.UTC().Format(time.RFC3339)), "expiresAt": num(now.Add(24 * time.Hour).Unix())}})
	if err != nil {
		return contract.AWSError("dynamodb:PutItem incidents join marker", err)
	}
	return nil
}

// joinHeld is correlation for a finding whose task's lock another
// execution holds: if an open case holds the task's service (an unexpired
// item), the finding joins it (appended to its chain) and the
// CorrelatedError is returned; otherwise nil, and the finding stays a
// duplicate. It never takes the item.
func (l *lock) joinHeld(ctx context.Context, inc *incident.Incident, t *incident.Target, execID string, c *Correlate) error {
	if c == nil || c.By != "service" || t.Service == "" {
		return nil
	}
	key := incident.CorrelationKey(t.ClusterArn, t.Service)
	holder, err := l.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(l.Table), ConsistentRead: aws.Bool(true),
		Key: map[string]ddbtypes.AttributeValue{incident.TablePK: str(key)},
	})
	if err != nil || len(holder.Item) == 0 || attr(holder.Item, "executionId") == execID {
		return nil
	}
	if exp, ok := holder.Item["expiresAt"].(*ddbtypes.AttributeValueMemberN); ok {
		if n, perr := strconv.ParseInt(exp.Value, 10, 64); perr == nil && n < l.Now().Unix() {
			return nil
		}
	}
	co := &contract.CorrelatedError{TaskArn: inc.TaskArn, Key: key, ExistingCase: attr(holder.Item, "caseId"), Execution: attr(holder.Item, "executionId")}
	if err := l.join(ctx, inc, t, execID, co); err != nil {
		return err
	}
	return co
}
