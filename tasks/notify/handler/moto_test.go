package handler

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/stricttest"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/taskrt"
)

func TestMain(m *testing.M) { stricttest.Main(m) }

// sent is one message moto's topic received.
type sent struct {
	ID, Message, Subject string
	Attributes           map[string]struct{ Type, Value string }
}

// sentMessages reads what the topic received from moto's model data (moto
// keeps every published message on the topic).
func sentMessages(t *testing.T, w *mototest.World) []sent {
	t.Helper()
	resp, err := http.Get(mototest.Endpoint(t) + "/moto-api/data.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var data struct {
		SNS struct {
			Topic []struct {
				Arn               string              `json:"arn"`
				SentNotifications [][]json.RawMessage `json:"sent_notifications"`
			}
		} `json:"sns"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&data); err != nil {
		t.Fatal(err)
	}
	var out []sent
	for _, topic := range data.SNS.Topic {
		if topic.Arn != w.Env.TopicArn {
			continue
		}
		for _, n := range topic.SentNotifications {
			var s sent
			json.Unmarshal(n[0], &s.ID)
			json.Unmarshal(n[1], &s.Message)
			json.Unmarshal(n[2], &s.Subject)
			json.Unmarshal(n[3], &s.Attributes)
			out = append(out, s)
		}
	}
	return out
}

func TestNotifyAgainstMoto(t *testing.T) {
	w := mototest.Seed(t)
	rt := &taskrt.Runtime{Action: "notify", Handle: New(w.Cfg, w.Env), Audit: taskrt.NewChain(w.Cfg, w.Env), Log: taskrt.NewLogger(io.Discard)}
	invoke := func(payload []byte) contract.Result {
		t.Helper()
		out, err := rt.Invoke(context.Background(), payload)
		if err != nil {
			t.Fatal(err)
		}
		var res contract.Result
		json.Unmarshal(out, &res)
		return res
	}
	for _, lt := range []string{"EC2", "FARGATE"} {
		t.Run(lt, func(t *testing.T) {
			caseID := mototest.Unique("case")
			before := len(sentMessages(t, w))
			payload := w.Payload("notify", "tell-oncall", lt, caseID, false, map[string]any{"message": "Paging on-call."}, nil)
			first := invoke(payload)
			second := invoke(payload)
			if first.Outputs["alreadySent"] != false || second.Outputs["alreadySent"] != true || second.Outputs["messageId"] != first.Outputs["messageId"] {
				t.Errorf("runs: %+v then %+v; want the second to find the first", first, second)
			}
			msgs := sentMessages(t, w)[before:]
			if len(msgs) != 1 {
				t.Fatalf("topic received %d messages; want 1", len(msgs))
			}
			m := msgs[0]
			target := w.Target(lt)
			for _, want := range []string{"Paging on-call.", caseID, target.TaskArn, lt, "Approvals: " + w.Env.ApprovalURL, "--- JSON ---"} {
				if !strings.Contains(m.Message, want) {
					t.Errorf("message lacks %q:\n%s", want, m.Message)
				}
			}
			if m.Attributes["caseId"].Value != caseID || m.Attributes["event"].Value != EventNotification || m.Attributes["launchType"].Value != lt {
				t.Errorf("attributes %+v", m.Attributes)
			}

			dry := invoke(w.Payload("notify", "tell-oncall", lt, mototest.Unique("dry"), true, nil, nil))
			msgs = sentMessages(t, w)
			if dry.Status != contract.StatusOK || !strings.HasPrefix(msgs[len(msgs)-1].Subject, "[DRY RUN] ") {
				t.Errorf("dry run: %+v, subject %q", dry, msgs[len(msgs)-1].Subject)
			}
			mototest.VerifyAudit(t, w, caseID, 4)
		})
	}
}

// TestResolveFailureAgainstMoto: the notification of a failed resolve has
// only the raw input and the error.
func TestResolveFailureAgainstMoto(t *testing.T) {
	w := mototest.Seed(t)
	rt := &taskrt.Runtime{Action: "notify", Handle: New(w.Cfg, w.Env), Audit: taskrt.NewChain(w.Cfg, w.Env), Log: taskrt.NewLogger(io.Discard)}
	payload, _ := json.Marshal(map[string]any{
		"action": "notify", "step": "", "with": map[string]any{"event": "resolve-failed"},
		"input": map[string]any{"taskArn": w.FargateTaskArn, "reason": "r", "requestedBy": "me"},
		"error": map[string]any{"Error": "TargetNotFoundError", "Cause": `{"errorMessage":"target not found: the task: MISSING","errorType":"TargetNotFoundError"}`},
		"execution": map[string]any{"Id": "arn:aws:states:us-east-1:" + w.Account + ":execution:irflow-crypto-mining:run-9",
			"Name": "run-9", "StartTime": time.Now().UTC().Format(time.RFC3339)},
	})
	before := len(sentMessages(t, w))
	if _, err := rt.Invoke(context.Background(), payload); err != nil {
		t.Fatal(err)
	}
	msgs := sentMessages(t, w)[before:]
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	m := msgs[0]
	if !strings.Contains(m.Subject, "crypto-mining") || !strings.Contains(m.Subject, "run-9") ||
		!strings.Contains(m.Message, w.FargateTaskArn) || !strings.Contains(m.Message, "TargetNotFoundError: target not found: the task: MISSING") {
		t.Errorf("subject %q message:\n%s", m.Subject, m.Message)
	}
	if _, ok := m.Attributes["caseId"]; ok || m.Attributes["event"].Value != EventResolveFailed {
		t.Errorf("attributes %+v", m.Attributes)
	}
}
