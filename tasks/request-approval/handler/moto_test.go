package handler

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/stricttest"
	"github.com/irflow/irflow/tasks/approval-api/approval"
	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/taskrt"
)

func TestMain(m *testing.M) { stricttest.Main(m) }

// inbox is an HTTP endpoint subscribed to the topic: moto delivers every
// published message to it.
type inbox struct {
	mu   sync.Mutex
	msgs []struct{ Subject, Message string }
}

func subscribe(t *testing.T, w *mototest.World) *inbox {
	t.Helper()
	in := &inbox{}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m struct{ Subject, Message string }
		if json.Unmarshal(b, &m) == nil {
			in.mu.Lock()
			in.msgs = append(in.msgs, m)
			in.mu.Unlock()
		}
	}))
	t.Cleanup(srv.Close)
	if _, err := sns.NewFromConfig(w.Cfg).Subscribe(context.Background(), &sns.SubscribeInput{
		TopicArn: aws.String(w.Env.TopicArn), Protocol: aws.String("http"), Endpoint: aws.String(srv.URL)}); err != nil {
		t.Fatal(err)
	}
	return in
}

func runtimeFor(w *mototest.World) *taskrt.Runtime {
	return &taskrt.Runtime{Action: "request-approval", Handle: New(w.Cfg, w.Env), Audit: taskrt.NewChain(w.Cfg, w.Env),
		Log: taskrt.NewLogger(io.Discard)}
}

func gateWith(onTimeout string) map[string]any {
	return map[string]any{"prompt": "Isolate and stop the task?", "approvers": []string{"arn:aws:iam::123456789012:role/IncidentCommander"},
		"timeoutSeconds": 1800, "onTimeout": onTimeout, "allowSelfApproval": false}
}

// TestRequestMoto opens a gate twice (a Step Functions retry with a new
// token): one approval, the new token, two messages without any token, and
// an audit chain that verifies.
func TestRequestMoto(t *testing.T) {
	w := mototest.Seed(t)
	box := subscribe(t, w)
	rt := runtimeFor(w)
	ctx := context.Background()
	caseID := mototest.Unique("case")
	for i, tok := range []string{"token-one-" + caseID, "token-two-" + caseID} {
		raw := w.Payload("request-approval", "approve-containment", "FARGATE", caseID, false, gateWith("reject"),
			map[string]any{"mode": "request", "taskToken": tok})
		if _, err := rt.Invoke(ctx, raw); err != nil {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	execID := "arn:aws:states:us-east-1:" + w.Account + ":execution:irflow-test:" + caseID
	id := approval.ID(execID, "approve-containment")
	out, err := dynamodb.NewFromConfig(w.Cfg).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(w.Env.ApprovalsTable), Key: approval.Key(id)})
	if err != nil {
		t.Fatal(err)
	}
	a, err := approval.FromItem(out.Item)
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != approval.StatusPending || a.Attempts != 2 || a.TaskToken != "token-two-"+caseID || a.CaseID != caseID ||
		a.RequestedBy != w.Incident("FARGATE", caseID, false).RequestedBy || a.LaunchType != "FARGATE" {
		t.Errorf("stored %+v (token %q)", a, a.TaskToken)
	}
	box.mu.Lock()
	msgs := box.msgs
	box.mu.Unlock()
	if len(msgs) != 2 {
		t.Fatalf("%d messages delivered; want 2", len(msgs))
	}
	for _, m := range msgs {
		if !strings.Contains(m.Message, "irflow approve "+id) || strings.Contains(m.Message, "token-") {
			t.Errorf("message:\n%s", m.Message)
		}
	}
	records, err := taskrt.NewChain(w.Cfg, w.Env).Read(ctx, caseID)
	if err != nil {
		t.Fatal(err)
	}
	if err := audit.Verify(records); err != nil {
		t.Fatal(err)
	}
	var events []string
	for _, r := range records {
		events = append(events, r.Event)
		if strings.Contains(r.Detail+r.Summary, "token-") {
			t.Errorf("record %d carries a token: %s", r.Seq, r.Detail)
		}
	}
	if got := strings.Join(events, ","); got != "start,approval-requested,result,start,approval-requested,result" {
		t.Errorf("events %s", got)
	}
}

// TestTimeoutMoto: an unanswered gate is marked TIMED_OUT once; a second
// timeout call (a retry) still answers by onTimeout and says it found no
// pending approval.
func TestTimeoutMoto(t *testing.T) {
	w := mototest.Seed(t)
	rt := runtimeFor(w)
	ctx := context.Background()
	caseID := mototest.Unique("case")
	req := w.Payload("request-approval", "approve-containment", "EC2", caseID, false, gateWith("approve"),
		map[string]any{"mode": "request", "taskToken": "tok-" + caseID})
	if _, err := rt.Invoke(ctx, req); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		raw, err := rt.Invoke(ctx, w.Payload("request-approval", "approve-containment", "EC2", caseID, false, gateWith("approve"),
			map[string]any{"mode": "timeout"}))
		if err != nil {
			t.Fatal(err)
		}
		var res contract.Result
		if err := json.Unmarshal(raw, &res); err != nil {
			t.Fatal(err)
		}
		if res.Outputs["approved"] != true || res.Outputs["approver"] != "timeout" {
			t.Errorf("call %d: %+v", i+1, res)
		}
	}
	id := approval.ID("arn:aws:states:us-east-1:"+w.Account+":execution:irflow-test:"+caseID, "approve-containment")
	out, _ := dynamodb.NewFromConfig(w.Cfg).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(w.Env.ApprovalsTable), Key: approval.Key(id)})
	a, _ := approval.FromItem(out.Item)
	if a.Status != approval.StatusTimedOut || a.TaskToken != "" || a.DecidedBy != "timeout" || a.Decision != "approve" {
		t.Errorf("stored %+v", a)
	}
	records, _ := taskrt.NewChain(w.Cfg, w.Env).Read(ctx, caseID)
	if err := audit.Verify(records); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range records {
		if r.Event == "approval-timeout" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d approval-timeout records; want 2", n)
	}
}
