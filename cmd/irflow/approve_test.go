package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/irflow/irflow/ops"
	"github.com/irflow/irflow/tasks/approval-api/approval"
)

var (
	approveID = approval.ID("arn:aws:states:us-east-1:123456789012:execution:irflow-crypto-mining:case-7", "approve-containment")
	sigV4RE   = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/\d{8}/us-east-1/lambda/aws4_request, SignedHeaders=\S+, Signature=[0-9a-f]{64}$`)
)

// approvalAPI is an httptest stand-in for the Function URL: it records
// what arrived and answers with a fixed status and body.
type approvalAPI struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []*http.Request
	bodies []approval.DecisionRequest
}

func newApprovalAPI(t *testing.T, status int, body string) *approvalAPI {
	a := &approvalAPI{}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var dr approval.DecisionRequest
		_ = json.Unmarshal(b, &dr)
		a.mu.Lock()
		a.got, a.bodies = append(a.got, r), append(a.bodies, dr)
		a.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func decided(decision, status string) string {
	b, _ := json.Marshal(approval.DecisionResponse{ApprovalID: approveID, CaseID: "case-7", Step: "approve-containment", Status: status,
		Decision: decision, Approver: "arn:aws:sts::123456789012:assumed-role/IncidentCommander/alice", Reason: "miner confirmed",
		DecidedAt: "2026-11-25T12:05:00Z", AuditSeq: 9, Delivered: true})
	return string(b)
}

func pending() string {
	b, _ := json.Marshal(approval.DecisionResponse{ApprovalID: approveID, CaseID: "case-7", Step: "approve-containment", Status: "PENDING",
		Decision: "approve", Approver: "arn:aws:sts::123456789012:assumed-role/IncidentCommander/alice", Reason: "miner confirmed",
		DecidedAt: "2026-11-25T12:05:00Z", AuditSeq: 9, Approvals: 1, RequiredApprovals: 2})
	return string(b)
}

func unknown() string {
	b, _ := json.Marshal(approval.DecisionResponse{ApprovalID: approveID, CaseID: "case-7", Step: "approve-containment", Status: "APPROVED",
		Decision: "approve", Approver: "arn:aws:sts::123456789012:assumed-role/IncidentCommander/alice", Reason: "miner confirmed",
		DecidedAt: "2026-11-25T12:05:00Z", AuditSeq: 9, DeliveryUnknown: "Step Functions' answer was lost (EOF) and the execution history does not tell"})
	return string(b)
}

func TestApprove(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		status   int
		body     string
		code     int
		decision string
		stdout   string
		stderr   string
	}{
		{"approve", nil, 200, decided("approve", "APPROVED"), exitOK, "approve",
			"approved " + approveID + " (case case-7, step approve-containment) as arn:aws:sts::123456789012:assumed-role/IncidentCommander/alice", ""},
		{"reject", []string{"--reject"}, 200, decided("reject", "REJECTED"), exitOK, "reject", "outcome REJECTED", ""},
		{"already decided", nil, 409, `{"error":"already-decided","message":"approval ` + approveID + ` was already approved by bob at 12:01 (reason: ok)"}`,
			exitError, "approve", "", "irflow approve: refused (409 already-decided): approval " + approveID + " was already approved by bob"},
		{"four eyes", nil, 403, `{"error":"self-approval","message":"you requested this response and cannot decide its approval"}`,
			exitError, "approve", "", "refused (403 self-approval): you requested this response"},
		{"expired", nil, 410, `{"error":"expired","message":"approval expired at 12:30; onTimeout (reject) decides it"}`,
			exitError, "approve", "", "refused (410 expired): approval expired"},
		{"function URL auth", nil, 403, `{"Message":"Forbidden"}`, exitError, "approve", "",
			`refused (HTTP 403): {"Message":"Forbidden"} (the Function URL refused the request`},
		{"gateway error", nil, 502, `upstream timed out`, exitError, "approve", "", "refused (HTTP 502): upstream timed out"},
		{"first of two approvals", nil, 202, pending(), exitOK, "approve",
			"recorded approval 1 of 2 of " + approveID, ""},
		{"delivery unknown", nil, 202, unknown(), exitOK, "approve", "DELIVERY UNKNOWN: Step Functions' answer was lost", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opsAWSEnv(t)
			api := newApprovalAPI(t, tt.status, tt.body)
			args := append([]string{"approve", approveID, "--reason", "miner confirmed", "--endpoint", api.srv.URL + "/"}, tt.args...)
			code, out, errOut := runCLI(args...)
			if code != tt.code || !strings.Contains(out, tt.stdout) || !strings.Contains(errOut, tt.stderr) {
				t.Fatalf("exit %d; want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
			if len(api.got) != 1 {
				t.Fatalf("%d requests", len(api.got))
			}
			r := api.got[0]
			if r.Method != http.MethodPost || r.URL.Path != "/approvals/"+approveID {
				t.Errorf("request %s %s", r.Method, r.URL.Path)
			}
			if !sigV4RE.MatchString(r.Header.Get("Authorization")) || r.Header.Get("X-Amz-Date") == "" {
				t.Errorf("not SigV4-signed: Authorization %q, X-Amz-Date %q", r.Header.Get("Authorization"), r.Header.Get("X-Amz-Date"))
			}
			if api.bodies[0].Decision != tt.decision || api.bodies[0].Reason != "miner confirmed" {
				t.Errorf("body %+v", api.bodies[0])
			}
		})
	}
}

func TestApproveUsage(t *testing.T) {
	opsAWSEnv(t)
	api := newApprovalAPI(t, 200, decided("approve", "APPROVED"))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no id", []string{"approve", "--reason", "r"}, "no approval id"},
		{"no reason", []string{"approve", approveID}, "--reason is required"},
		{"blank reason", []string{"approve", approveID, "--reason", "  "}, "--reason is required"},
		{"malformed id", []string{"approve", "case-7", "--reason", "r"}, "not an approval id"},
		{"two ids", []string{"approve", approveID, approveID, "--reason", "r"}, "one approval id at a time"},
		{"unknown flag", []string{"approve", approveID, "--reason", "r", "--force"}, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(append(tt.args, "--endpoint", api.srv.URL)...)
			if code != exitUsage || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d\n%s", code, errOut)
			}
		})
	}
	if len(api.got) != 0 {
		t.Errorf("a usage error still called the API %d time(s)", len(api.got))
	}
}

// TestApproveFindsURLInStack: without --endpoint the Function URL comes
// from the stack's ApprovalUrl output.
func TestApproveFindsURLInStack(t *testing.T) {
	ep := opsMoto(t)
	opsAWSEnv(t)
	api := newApprovalAPI(t, 200, decided("approve", "APPROVED"))
	stack := opsStack(t, ep, map[string]string{ops.OutputApprovalURL: api.srv.URL + "/"})
	code, out, errOut := runCLI("approve", approveID, "--reason", "ok", "--stack", stack, "--endpoint-url", ep)
	if code != exitOK || len(api.got) != 1 || !strings.Contains(out, "approved "+approveID) {
		t.Errorf("exit %d, %d requests\n%s\n%s", code, len(api.got), out, errOut)
	}
	code, _, errOut = runCLI("approve", approveID, "--reason", "ok", "--stack", "NoSuchStack", "--endpoint-url", ep)
	if code != exitError || !strings.Contains(errOut, "NoSuchStack") || !strings.Contains(errOut, "--endpoint") {
		t.Errorf("missing stack: exit %d %s", code, errOut)
	}
}

// TestOperatorHelp: every operator command explains itself with --help.
func TestOperatorHelp(t *testing.T) {
	for _, cmd := range []string{"approvals", "approve", "start", "audit"} {
		code, _, errOut := runCLI(cmd, "--help")
		if code != exitOK || !strings.Contains(errOut, "Usage: irflow "+cmd) || !strings.Contains(errOut, "-region") || !strings.Contains(errOut, "-profile") {
			t.Errorf("%s --help: exit %d\n%s", cmd, code, errOut)
		}
	}
	_, out, _ := runCLI("help")
	for _, cmd := range []string{"approvals", "approve", "start", "audit"} {
		if !strings.Contains(out, "  "+cmd+" ") {
			t.Errorf("irflow help does not list %s:\n%s", cmd, out)
		}
	}
}
