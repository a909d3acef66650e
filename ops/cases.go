package ops

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/irflow/irflow/tasks/incident"
)

// Case statuses irflow cases shows.
const (
	// CaseOpen: the case's execution still holds its task's dedupe lock.
	CaseOpen = "OPEN"
	// CaseFinalized: finalize-case recorded the case's outcome.
	CaseFinalized = "FINALIZED"
	// CaseEnded: neither: the execution ended without finalize-case (it
	// failed or was stopped after resolve-target) or its lock expired.
	CaseEnded = "ENDED"
)

// Case is one case of the incidents table: its claim (case#<caseId>),
// where its task is (the task ARN's account and region: a member
// account's with Organizations) and its status.
type Case struct {
	CaseID        string `json:"caseId"`
	Status        string `json:"status"`
	Outcome       string `json:"outcome,omitempty"`
	TargetAccount string `json:"targetAccount"`
	Region        string `json:"region"`
	Cluster       string `json:"cluster"`
	TaskArn       string `json:"taskArn"`
	StartedAt     string `json:"startedAt"`
	FinalizedAt   string `json:"finalizedAt,omitempty"`
	ExecutionID   string `json:"executionId"`
	DryRun        bool   `json:"dryRun"`
	Requester     string `json:"requester,omitempty"`
}

// dynamoScan is the part of DynamoDB ListCases uses.
type dynamoScan interface {
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// ListCases reads every case claim and task lock of the incidents table
// (a Scan: the table is keyed by one partition key of several kinds,
// tasks/incident keys.go) and returns the cases, newest first.
func ListCases(ctx context.Context, db dynamoScan, table string, now time.Time) ([]Case, error) {
	var claims, locks []map[string]ddbtypes.AttributeValue
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("scanning incidents table %s: %w", table, err)
		}
		for _, it := range page.Items {
			switch pk := str(it, incident.TablePK); {
			case strings.HasPrefix(pk, incident.CaseClaimPrefix):
				claims = append(claims, it)
			case strings.HasPrefix(pk, incident.TaskLockPrefix):
				locks = append(locks, it)
			}
		}
	}
	// A live lock: held (not released) and not expired.
	held := map[string]string{} // task ARN -> case id
	for _, l := range locks {
		exp, _ := strconv.ParseInt(num(l, "expiresAt"), 10, 64)
		if str(l, "releasedAt") == "" && (exp == 0 || exp > now.Unix()) {
			held[str(l, "taskArn")] = str(l, "caseId")
		}
	}
	out := make([]Case, 0, len(claims))
	for _, it := range claims {
		c := Case{CaseID: str(it, "caseId"), TaskArn: str(it, "taskArn"), StartedAt: str(it, "startedAt"),
			ExecutionID: str(it, "executionId"), Outcome: str(it, "outcome"), FinalizedAt: str(it, "finalizedAt"),
			Requester: str(it, "requester")}
		if b, ok := it["dryRun"].(*ddbtypes.AttributeValueMemberBOOL); ok {
			c.DryRun = b.Value
		}
		if t, err := incident.ParseTaskARN(c.TaskArn); err == nil {
			c.TargetAccount, c.Region, c.Cluster = t.Account, t.Region, t.Cluster
		}
		switch {
		case c.Outcome != "":
			c.Status = CaseFinalized
		case held[c.TaskArn] == c.CaseID:
			c.Status = CaseOpen
		default:
			c.Status = CaseEnded
		}
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].StartedAt != out[j].StartedAt {
			return out[i].StartedAt > out[j].StartedAt
		}
		return out[i].CaseID < out[j].CaseID
	})
	return out, nil
}

func str(it map[string]ddbtypes.AttributeValue, k string) string {
	if v, ok := it[k].(*ddbtypes.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func num(it map[string]ddbtypes.AttributeValue, k string) string {
	if v, ok := it[k].(*ddbtypes.AttributeValueMemberN); ok {
		return v.Value
	}
	return ""
}
