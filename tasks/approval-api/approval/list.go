package approval

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ItemAPI is the part of DynamoDB that reads and updates one approval
// (the approval API and request-approval's time-out both decide a gate).
type ItemAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// ScanAPI is the part of DynamoDB that lists approvals.
type ScanAPI interface {
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// publicAttributes are the item's attribute names except the task token,
// read from the struct tags so a new field cannot be forgotten.
var publicAttributes = func() []string {
	var names []string
	t := reflect.TypeOf(Approval{})
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("dynamodbav"), ",")
		if name != "" && name != "taskToken" {
			names = append(names, name)
		}
	}
	return names
}()

// Projection returns a ProjectionExpression and its attribute names that
// read every attribute but the task token, so the token never leaves
// DynamoDB for a listing.
func Projection() (string, map[string]string) {
	names := map[string]string{}
	refs := make([]string, len(publicAttributes))
	for i, a := range publicAttributes {
		ref := fmt.Sprintf("#p%d", i)
		names[ref] = a
		refs[i] = ref
	}
	return strings.Join(refs, ", "), names
}

// List returns the approvals in table with the given status (every status
// when status is ""), without task tokens, soonest deadline first.
func List(ctx context.Context, db ScanAPI, table, status string) ([]*Approval, error) {
	proj, names := Projection()
	in := &dynamodb.ScanInput{
		TableName:                aws.String(table),
		ProjectionExpression:     aws.String(proj),
		ExpressionAttributeNames: names,
		ConsistentRead:           aws.Bool(true),
	}
	if status != "" {
		in.FilterExpression = aws.String("#status = :status")
		in.ExpressionAttributeNames["#status"] = "status"
		in.ExpressionAttributeValues = map[string]ddbtypes.AttributeValue{":status": &ddbtypes.AttributeValueMemberS{Value: status}}
	}
	var out []*Approval
	for {
		page, err := db.Scan(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("dynamodb:Scan %s: %w", table, err)
		}
		for _, it := range page.Items {
			a, err := FromItem(it)
			if err != nil {
				return nil, err
			}
			a.TaskToken = ""
			out = append(out, a)
		}
		if len(page.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].ExpiresAt.Equal(out[j].ExpiresAt) {
			return out[i].ExpiresAt.Before(out[j].ExpiresAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}
