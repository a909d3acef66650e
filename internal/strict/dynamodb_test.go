package strict

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/irflow/irflow/internal/awsproxy"
)

// checkThenAct is a DynamoDB PutItem that, like moto server, checks the
// condition and then writes, with time in between for another request.
func checkThenAct(t *testing.T) *httptest.Server {
	var mu sync.Mutex
	items := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, body, svc, _ := awsproxy.Prepare(r)
		var in struct {
			TableName string
			Item      map[string]map[string]string
		}
		_ = json.Unmarshal(body, &in)
		key := in.TableName + "/" + in.Item["pk"]["S"]
		mu.Lock()
		exists := items[key]
		mu.Unlock()
		if exists {
			awsproxy.WriteError(w, r, svc, awsproxy.Error{Status: 400, Code: "ConditionalCheckFailedException", Message: "The conditional request failed"})
			return
		}
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		items[key] = true
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// racePuts makes n concurrent attribute_not_exists puts of one key on each
// of two tables and returns how many succeeded per table.
func racePuts(t *testing.T, url string, n int) map[string]int {
	c := dynamodb.NewFromConfig(sdk(url))
	var mu sync.Mutex
	wins := map[string]int{}
	var wg sync.WaitGroup
	for i := range 2 * n {
		table := []string{"audit", "approvals"}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table),
				Item:                map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "case-1"}},
				ConditionExpression: aws.String("attribute_not_exists(pk)")})
			var ccf *ddbtypes.ConditionalCheckFailedException
			switch {
			case err == nil:
				mu.Lock()
				wins[table]++
				mu.Unlock()
			case !errors.As(err, &ccf):
				t.Errorf("PutItem: %v", err)
			}
		}()
	}
	wg.Wait()
	return wins
}

// TestConditionalPutsAtomic: against a check-then-act backend, concurrent
// attribute_not_exists puts of one key all succeed, several of them; through
// the layer exactly one succeeds per table, as in DynamoDB.
func TestConditionalPutsAtomic(t *testing.T) {
	be := checkThenAct(t)
	if direct := racePuts(t, be.URL, 8); direct["audit"] < 2 {
		t.Fatalf("the backend did not race (%v): this test could not fail", direct)
	}
	be2 := checkThenAct(t)
	_, url := serve(t, be2.URL, Config{})
	start := time.Now()
	if wins := racePuts(t, url, 8); wins["audit"] != 1 || wins["approvals"] != 1 {
		t.Errorf("through the layer %v conditional puts of one key succeeded; want 1 per table", wins)
	}
	if d := time.Since(start); d > 400*time.Millisecond {
		t.Errorf("two tables took %v: writes to different tables must not wait on each other", d)
	}
}

func TestWriteTables(t *testing.T) {
	tests := []struct {
		op, body, want string
	}{
		{"PutItem", `{"TableName":"a"}`, "[a]"},
		{"BatchWriteItem", `{"RequestItems":{"b":[],"a":[]}}`, "[a b]"},
		{"TransactWriteItems", `{"TransactItems":[{"Put":{"TableName":"x"}},{"ConditionCheck":{"TableName":"y"}}]}`, "[x y]"},
		{"PutItem", `not json`, "[]"},
	}
	for _, tt := range tests {
		got := writeTables(tt.op, []byte(tt.body))
		slices.Sort(got)
		if s := fmt.Sprint(got); s != tt.want {
			t.Errorf("%s %s: %s; want %s", tt.op, tt.body, s, tt.want)
		}
	}
}
