package approval

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/irflow/irflow/tasks/contract"
)

// Load reads an approval of table, its task token included, with a
// consistent read (a decision must see the latest votes); nil when there
// is none.
func Load(ctx context.Context, db ItemAPI, table, id string) (*Approval, error) {
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: Key(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, contract.AWSError("dynamodb:GetItem approvals", err)
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	return FromItem(out.Item)
}

// ConditionFailed says whether err is DynamoDB's refusal of a conditional
// write (ConditionalCheckFailedException), wrapped or only named.
func ConditionFailed(err error) bool {
	var ccf *ddbtypes.ConditionalCheckFailedException
	return errors.As(err, &ccf) || (err != nil && strings.Contains(err.Error(), "ConditionalCheckFailed"))
}
