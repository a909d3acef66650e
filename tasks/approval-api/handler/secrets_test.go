package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/syncbuf"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/funcurl"
	notify "github.com/irflow/irflow/tasks/notify/handler"
	request "github.com/irflow/irflow/tasks/request-approval/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

// TestNoSecretInLogsOrAnswers runs a gate's whole life against moto, the
// way Lambda runs it, with every logger captured: request-approval opens
// the gate (it receives the task token), the approval API lists, shows and
// decides it while Step Functions refuses the token with an error that
// quotes it (as AWS error messages may), request-approval records the
// timeout path, and notify publishes the case. Neither the task token nor
// the AWS credentials the functions sign with may appear in any log line,
// HTTP answer, task result, audit record or notification.
func TestNoSecretInLogsOrAnswers(t *testing.T) {
	w := mototest.Seed(t)
	const akid, secret, session = "AKIDIRFLOWSECRETTEST", "irflow/secret/access/key/never/logged", "irflow-session-token-never-logged"
	cfg := w.Cfg.Copy()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(akid, secret, session)
	caseID := mototest.Unique("case")
	token := "AQCEAAAAKgAAAAMAAAAAAAAAAf" + strings.Repeat("Zm9v", 20) + "-" + caseID
	var logs syncbuf.Buffer
	var outputs []string
	ctx := context.Background()

	// 1. request-approval opens the gate.
	rt := &taskrt.Runtime{Action: "request-approval", Handle: request.New(cfg, w.Env), Audit: taskrt.NewChain(cfg, w.Env), Log: taskrt.NewLogger(&logs)}
	with := map[string]any{"prompt": "Isolate and stop the task?", "timeoutSeconds": 1800, "onTimeout": "reject",
		"approvers": []string{"arn:aws:iam::" + w.Account + ":role/IncidentCommander"}, "allowSelfApproval": false}
	out, err := rt.Invoke(ctx, w.Payload("request-approval", "approve-containment", "FARGATE", caseID, false, with,
		map[string]any{"incident": verifiedIncident(w, caseID), "mode": "request", "taskToken": token}))
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	outputs = append(outputs, string(out))
	var res contract.Result
	_ = json.Unmarshal(out, &res)
	id, _ := res.Outputs["approvalId"].(string)
	if id == "" {
		t.Fatalf("no approval id in %s", out)
	}

	// 2. The approval API, behind its Function URL, with a Step Functions
	// that refuses the token and quotes it back, then fails transiently.
	h := New(cfg, w.Env)
	h.Log = taskrt.NewLogger(&logs)
	calls := 0
	h.Responder = &fakeResponder{
		success: func(tok, _ string) error {
			calls++
			if calls == 1 {
				return fmt.Errorf("operation error SFN: SendTaskSuccess, https response error StatusCode: 500, InternalError: could not deliver to %s", tok)
			}
			return &apiErr{code: "InvalidToken", msg: "Invalid Token: '" + tok + "'"}
		},
		failure: func(tok, _, _ string) error {
			return &apiErr{code: "TaskDoesNotExist", msg: "Task does not exist: " + tok}
		},
	}
	url := func(method, path, body string) string {
		t.Helper()
		resp, err := h.HandleURL(ctx, funcurl.Request(method, path, body, "arn:aws:sts::"+w.Account+":assumed-role/IncidentCommander/alice", w.Account))
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		outputs = append(outputs, resp.Body)
		return resp.Body
	}
	url("GET", "/approvals", "")
	url("GET", "/approvals/"+id, "")
	url("POST", "/approvals/"+id, `{"decision":"approve","reason":"miner confirmed"}`)
	url("POST", "/approvals/"+id, `{"decision":"approve","reason":"miner confirmed, again"}`)
	url("POST", "/approvals/"+id, `{"decision":"reject","reason":"`+token+`"}`) // a careless approver pastes it
	url("GET", "/approvals?status=all", "")
	if calls == 0 {
		t.Fatal("the responder was never asked: the test proves nothing")
	}

	// 3. request-approval's timeout path, and 4. notify, on the same case.
	out, err = rt.Invoke(ctx, w.Payload("request-approval", "approve-containment", "FARGATE", caseID, false, with,
		map[string]any{"incident": verifiedIncident(w, caseID), "mode": "timeout"}))
	if err == nil {
		outputs = append(outputs, string(out))
	} else {
		outputs = append(outputs, err.Error())
	}
	nrt := &taskrt.Runtime{Action: "notify", Handle: notify.New(cfg, w.Env), Audit: taskrt.NewChain(cfg, w.Env), Log: taskrt.NewLogger(&logs)}
	out, err = nrt.Invoke(ctx, w.Payload("notify", "tell", "FARGATE", caseID, false, map[string]any{"message": "Case update."}, nil))
	if err != nil {
		t.Fatalf("notify: %v", err)
	}
	outputs = append(outputs, string(out))

	records, err := taskrt.NewChain(w.Cfg, w.Env).Read(ctx, caseID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range records {
		outputs = append(outputs, r.Summary+" "+r.Detail)
	}
	everything := logs.String() + "\n" + strings.Join(outputs, "\n")
	if strings.Count(logs.String(), "\n") < 5 {
		t.Fatalf("only %d log lines captured: the test proves nothing\n%s", strings.Count(logs.String(), "\n"), logs.String())
	}
	for name, s := range map[string]string{"task token": token, "secret access key": secret, "session token": session} {
		if strings.Contains(everything, s) {
			for _, line := range strings.Split(everything, "\n") {
				if strings.Contains(line, s) {
					t.Errorf("the %s appears in: %s", name, line)
				}
			}
		}
	}
}

// apiErr is an AWS API error as the SDK reports one.
type apiErr struct{ code, msg string }

func (e *apiErr) Error() string     { return e.code + ": " + e.msg }
func (e *apiErr) ErrorCode() string { return e.code }
