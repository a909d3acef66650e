package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
)

var update = flag.Bool("update", false, "rewrite testdata/ golden reports")

const (
	execID = "arn:aws:states:us-east-1:123456789012:execution:irflow-crypto-mining:case-7"
	alice  = "arn:aws:sts::123456789012:assumed-role/IncidentCommander/alice"
	sha    = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// chain links records the way audit.Chain.Append does.
func chain(recs ...audit.Record) []audit.Record {
	prev := audit.GenesisHash
	for i := range recs {
		recs[i].CaseID, recs[i].ExecutionID = "case-7", execID
		recs[i].Seq, recs[i].PrevHash = int64(i+1), prev
		recs[i].At = t0.Add(time.Duration(i) * time.Second).Format(time.RFC3339Nano)
		recs[i].Hash = recs[i].ComputeHash()
		prev = recs[i].Hash
	}
	return recs
}

func detail(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// sample is a FARGATE case: metadata captured, a gate approved by alice,
// a second gate that timed out, isolation caught an error.
func sample() Input {
	ev := contract.Evidence{URI: "s3://evidence/cases/case-7/metadata/task.json", SHA256: sha, Bytes: 2048}
	records := chain(
		audit.Record{Action: "resolve-target", Event: "start"},
		audit.Record{Action: "resolve-target", Event: "result", Status: "OK", Summary: "FARGATE task", Detail: detail(map[string]any{"evidence": []any{}})},
		audit.Record{Step: "metadata", Action: "capture-task-metadata", Event: "start"},
		audit.Record{Step: "metadata", Action: "capture-task-metadata", Event: "result", Status: "OK", Summary: "task metadata | stored",
			Detail: detail(map[string]any{"evidence": []contract.Evidence{ev}})},
		audit.Record{Step: "approve", Action: "request-approval", Event: "start"},
		audit.Record{Step: "approve", Action: "request-approval", Event: "approval-requested", Status: "PENDING", Summary: "approval apr-1 requested",
			Detail: detail(map[string]any{"approvalId": "apr-1", "approvers": []string{"arn:aws:iam::123456789012:role/IncidentCommander"},
				"requestedBy": "arn:aws:iam::123456789012:role/Responder", "onTimeout": "reject", "expiresAt": "2026-11-25T12:30:00Z",
				"prompt": "Isolate the task?"})},
		audit.Record{Step: "approve", Action: "request-approval", Event: "result", Status: "OK"},
		audit.Record{Step: "approve", Action: "approval-api", Event: "approval-decided", Status: "APPROVED", Summary: "approved by " + alice + ": miner confirmed",
			Detail: detail(map[string]any{"approvalId": "apr-1", "approver": alice, "decision": "approve", "reason": "miner confirmed",
				"decidedAt": "2026-11-25T12:05:00Z"})},
		audit.Record{Step: "isolate", Action: "isolate-network", Event: "start"},
		audit.Record{Step: "isolate", Action: "isolate-network", Event: "error", Status: "ERROR", Summary: "precondition failed"},
		audit.Record{Step: "stop-ok", Action: "request-approval", Event: "approval-requested", Status: "PENDING",
			Detail: detail(map[string]any{"approvalId": "apr-2", "approvers": []string{"arn:aws:iam::123456789012:role/IncidentCommander"}, "onTimeout": "reject"})},
		audit.Record{Step: "stop-ok", Action: "request-approval", Event: "approval-timeout", Status: "TIMED_OUT",
			Detail: detail(map[string]any{"approvalId": "apr-2", "onTimeout": "reject", "decidedAt": "2026-11-25T13:00:00Z", "reason": "no decision within 30m0s; onTimeout: reject"})},
		audit.Record{Action: "finalize-case", Event: "start"},
	)
	raw := func(v any) json.RawMessage { b, _ := json.Marshal(v); return b }
	return Input{
		CaseID: "case-7", Outcome: "REJECTED", DryRun: true, ExecutionID: execID, Now: t0.Add(time.Hour),
		Incident: &incident.Incident{CaseID: "case-7", Source: "manual", TaskArn: "arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef",
			Reason: "miner | seen", RequestedBy: "arn:aws:iam::123456789012:role/Responder", DryRun: true},
		Target: &incident.Target{LaunchType: "FARGATE", NetworkMode: "awsvpc"},
		Steps: map[string]json.RawMessage{
			"metadata": raw(map[string]any{"status": "OK", "summary": "task metadata", "evidence": []contract.Evidence{ev,
				{URI: "s3://evidence/cases/case-7/metadata/taskdef.json", SHA256: sha, Bytes: 100}}, "outputs": map[string]any{}}),
			"approve": raw(map[string]any{"status": "OK", "summary": "approved", "evidence": []any{},
				"outputs": map[string]any{"approved": true, "approver": alice, "reason": "miner confirmed", "decidedAt": "2026-11-25T12:05:00Z"}}),
			"stop-ok": raw(map[string]any{"status": "OK", "summary": "timed out", "evidence": []any{},
				"outputs": map[string]any{"approved": false, "approver": "timeout", "timedOut": true}}),
			"gate-sim": raw(map[string]any{"Error": "ApprovalRejectedError", "Cause": "approval rejected by bob: not now"}),
		},
		Errors:  map[string]contract.StateError{"isolate": {Error: "PreconditionFailedError", Cause: "no ENI"}},
		Records: records,
	}
}

func TestBuild(t *testing.T) {
	r := Build(sample())
	if !r.Chain.Verified || r.Chain.Records != 13 {
		t.Errorf("chain %+v", r.Chain)
	}
	if len(r.Approvals) != 3 {
		t.Fatalf("approvals %+v", r.Approvals)
	}
	a := r.Approvals[0]
	if a.ApprovalID != "apr-1" || a.Status != "APPROVED" || a.Approver != alice || a.Reason != "miner confirmed" ||
		a.DecidedAt != "2026-11-25T12:05:00Z" || a.RequestedBy == "" || a.Prompt != "Isolate the task?" {
		t.Errorf("first approval %+v", a)
	}
	if b := r.Approvals[1]; b.Status != "TIMED_OUT" || b.Approver != "timeout" || b.Decision != "reject" {
		t.Errorf("second approval %+v", b)
	}
	if c := r.Approvals[2]; c.Step != "gate-sim" || c.Status != "REJECTED" || !strings.Contains(c.Reason, "bob") {
		t.Errorf("approval known only from the state %+v", c)
	}
	if len(r.Artifacts) != 2 || r.Artifacts[0].Action != "capture-task-metadata" || r.Artifacts[1].Step != "metadata" || r.Artifacts[0].SHA256 != sha {
		t.Errorf("artifacts %+v", r.Artifacts)
	}
	var ids []string
	for _, s := range r.Steps {
		ids = append(ids, s.ID)
	}
	if strings.Join(ids, ",") != "metadata,approve,stop-ok,gate-sim" {
		t.Errorf("steps in order %v", ids)
	}
	if len(r.Errors) != 1 || r.Errors[0].Step != "isolate" {
		t.Errorf("errors %+v", r.Errors)
	}
	if !bytes.Equal(r.JSON(), Build(sample()).JSON()) || !bytes.Equal(r.Markdown(), Build(sample()).Markdown()) {
		t.Error("the report is not deterministic")
	}
}

func TestTamperedChain(t *testing.T) {
	tests := []struct {
		name   string
		tamper func([]audit.Record) []audit.Record
		bad    int64
	}{
		{"edited summary", func(rs []audit.Record) []audit.Record { rs[7].Summary = "approved by someone else"; return rs }, 8},
		{"deleted record", func(rs []audit.Record) []audit.Record { return append(rs[:4], rs[5:]...) }, 5},
		{"rehashed edit", func(rs []audit.Record) []audit.Record {
			rs[2].Status = "X"
			rs[2].Hash = rs[2].ComputeHash()
			return rs
		}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := sample()
			in.Records = tt.tamper(in.Records)
			r := Build(in)
			if r.Chain.Verified || r.Chain.FirstBad != tt.bad {
				t.Errorf("chain %+v; want first bad %d", r.Chain, tt.bad)
			}
			if !strings.Contains(string(r.Markdown()), "NOT VERIFIED") {
				t.Error("the Markdown does not say the chain is broken")
			}
		})
	}
}

// TestGolden compares the rendered report with testdata (go test -update rewrites).
func TestGolden(t *testing.T) {
	r := Build(sample())
	man := r.Manifest(Artifact{URI: "s3://evidence/cases/case-7/finalize-case/report.json", SHA256: sha, Bytes: 1, Action: "finalize-case"})
	var timeline bytes.Buffer
	if err := WriteTimeline(&timeline, r.Timeline); err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][]byte{"report.json": r.JSON(), "report.md": r.Markdown(), "manifest.json": man.JSON(), "timeline.txt": timeline.Bytes()} {
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the golden file (go test ./tasks/finalize-case/report -update rewrites it):\n%s", name, got)
		}
	}
}
