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
	if c == nil || c.By != "service" || t.Service == "" || inc.DryRun {
		return nil
	}
	key := incident.CorrelationKey(t.ClusterArn, t.Service)
	for attempt := 0; attempt < maxLockRetries; attempt++ {
		now := l.Now()
		_, err := l.DB.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(l.Table),
			Item: map[string]ddbtypes.AttributeValue{
				incident.TablePK: str(key),
				"caseId":         str(inc.CaseID),
				"executionId":    str(execID),
				"taskArn":        str(inc.TaskArn),
				"startedAt":      str(now.UTC().Format(time.RFC3339)),
				"expiresAt":      num(now.Add(time.Duration(c.WindowMinutes) * time.Minute).Unix()),
			},
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
			return &contract.CorrelatedError{TaskArn: inc.TaskArn, Key: key,
				ExistingCase: attr(holder.Item, "caseId"), Execution: attr(holder.Item, "executionId")}
		}
	}
	return &contract.RetryableError{Op: "correlation " + key, Err: errors.New("the item changed hands during every attempt")}
}
