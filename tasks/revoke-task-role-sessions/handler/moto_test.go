package handler_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/stricttest"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/ledger"
	"github.com/irflow/irflow/tasks/revoke-task-role-sessions/handler"
)

func TestMain(m *testing.M) { stricttest.Main(m) }

// seed is the mototest world seeded through the strict layer, with an
// incidents table keyed by pk for the ledger.
func seed(t *testing.T) *mototest.World {
	t.Helper()
	w, _ := stricttest.SeedLedger(t)
	return w
}

// run invokes the action the way Lambda does, at a fixed clock.
func run(t *testing.T, w *mototest.World, payload []byte, now time.Time) (*contract.Result, error) {
	t.Helper()
	h := &handler.Handler{IAM: iam.NewFromConfig(w.Cfg), ECS: ecs.NewFromConfig(w.Cfg), Ledger: ledger.NewStore(w.Cfg, w.Env.IncidentsTable),
		Now: func() time.Time { return now }}
	return mototest.Run(t, w, "revoke-task-role-sessions", h.Handle, payload)
}

// policies returns a role's inline policies, name -> document (decoded).
func policies(t *testing.T, w *mototest.World, role string) map[string]string {
	t.Helper()
	c := iam.NewFromConfig(w.Cfg)
	ctx := context.Background()
	names, err := c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(role)})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, n := range names.PolicyNames {
		p, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(n)})
		if err != nil {
			t.Fatal(err)
		}
		doc, _ := url.PathUnescape(aws.ToString(p.PolicyDocument))
		out[n] = doc
	}
	return out
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// TestMotoRevokeTaskScopeTwice: the default denies the task's own sessions
// (aws:userid = the role's id, read from IAM, and the task id), recorded in
// the ledger; the retry changes nothing.
func TestMotoRevokeTaskScopeTwice(t *testing.T) {
	for _, lt := range []string{"FARGATE", "EC2"} {
		t.Run(lt, func(t *testing.T) {
			w := seed(t)
			role, err := iam.NewFromConfig(w.Cfg).GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String(w.TaskRoleName)})
			if err != nil {
				t.Fatal(err)
			}
			arn := w.FargateTaskArn
			if lt == "EC2" {
				arn = w.EC2TaskArn
			}
			taskID := arn[strings.LastIndexByte(arn, '/')+1:]
			name := "irflow-deny-task-" + taskID
			caseID := mototest.Unique("case-deny")
			for i := range 2 {
				res, err := run(t, w, w.Payload("revoke-task-role-sessions", "revoke", lt, caseID, false, nil, nil), t0.Add(time.Duration(i)*time.Hour))
				if err != nil {
					t.Fatal(err)
				}
				ps := policies(t, w, w.TaskRoleName)
				want := `"aws:userid":"` + aws.ToString(role.Role.RoleId) + ":" + taskID + `"`
				if len(ps) != 1 || !strings.Contains(ps[name], want) || !strings.Contains(ps[name], `"StringLike"`) {
					t.Fatalf("run %d: policies %v; want %s with %s", i+1, ps, name, want)
				}
				if wantStart := map[int]string{0: "denied every action", 1: "already denied"}[i]; !strings.HasPrefix(res.Summary, wantStart) {
					t.Errorf("run %d: %q", i+1, res.Summary)
				}
			}
			lg, err := ledger.NewStore(w.Cfg, w.Env.IncidentsTable).Read(context.Background(), caseID)
			if err != nil || len(lg.Entries) != 1 || lg.Entries[0].ID != "role-policy:"+w.TaskRoleName+":"+name {
				t.Errorf("ledger %+v %v", lg, err)
			}
			mototest.VerifyAudit(t, w, caseID, 4)
		})
	}
}

func TestMotoRevokeTwicePerLaunchType(t *testing.T) {
	for _, lt := range []string{"FARGATE", "EC2"} {
		t.Run(lt, func(t *testing.T) {
			w := seed(t)
			caseID := mototest.Unique("case-revoke")
			first, err := run(t, w, w.Payload("revoke-task-role-sessions", "revoke", lt, caseID, false, roleScope, nil), t0)
			if err != nil {
				t.Fatal(err)
			}
			ps := policies(t, w, w.TaskRoleName)
			doc := ps["irflow-revoke-older-sessions"]
			if len(ps) != 1 || !strings.Contains(doc, `"aws:TokenIssueTime":"2026-03-01T12:00:00Z"`) || !strings.Contains(doc, `"Effect":"Deny"`) {
				t.Fatalf("policies after the first run: %v", ps)
			}
			if first.Status != "OK" || !strings.HasPrefix(first.Summary, "denied every action to sessions of task role "+w.TaskRoleName) {
				t.Errorf("first run: %s %q", first.Status, first.Summary)
			}

			second, err := run(t, w, w.Payload("revoke-task-role-sessions", "revoke", lt, caseID, false, roleScope, nil), t0.Add(2*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if ps2 := policies(t, w, w.TaskRoleName); len(ps2) != 1 || ps2["irflow-revoke-older-sessions"] != doc {
				t.Errorf("the retry changed the policy:\n%s\n%v", doc, ps2)
			}
			if second.Status != "OK" || !strings.HasPrefix(second.Summary, "already denied") {
				t.Errorf("second run: %s %q", second.Status, second.Summary)
			}
			mototest.VerifyAudit(t, w, caseID, 4)
		})
	}
}

func TestMotoRevokeDryRunAndOtherCase(t *testing.T) {
	w := seed(t)
	dry := mototest.Unique("case-dry")
	res, err := run(t, w, w.Payload("revoke-task-role-sessions", "revoke", "FARGATE", dry, true, nil, nil), t0)
	if err != nil {
		t.Fatal(err)
	}
	if ps := policies(t, w, w.TaskRoleName); len(ps) != 0 || res.Status != "DRY_RUN" {
		t.Fatalf("dry run (task scope): %s, policies %v", res.Status, ps)
	}
	if lg, err := ledger.NewStore(w.Cfg, w.Env.IncidentsTable).Read(context.Background(), dry); err != nil || len(lg.Entries) != 0 {
		t.Fatalf("dry run wrote the ledger: %+v %v", lg, err)
	}
	res, err = run(t, w, w.Payload("revoke-task-role-sessions", "revoke", "FARGATE", dry, true, roleScope, nil), t0)
	if err != nil {
		t.Fatal(err)
	}
	if ps := policies(t, w, w.TaskRoleName); len(ps) != 0 || res.Status != "DRY_RUN" {
		t.Fatalf("dry run: %s, policies %v", res.Status, ps)
	}
	mototest.VerifyAudit(t, w, dry, 4)

	a, b := mototest.Unique("case-a"), mototest.Unique("case-b")
	if _, err := run(t, w, w.Payload("revoke-task-role-sessions", "revoke", "FARGATE", a, false, roleScope, nil), t0); err != nil {
		t.Fatal(err)
	}
	res, err = run(t, w, w.Payload("revoke-task-role-sessions", "revoke", "EC2", b, false, roleScope, nil), t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	ps := policies(t, w, w.TaskRoleName)
	if len(ps) != 1 || !strings.Contains(ps["irflow-revoke-older-sessions"], "2026-03-01T13:00:00Z") {
		t.Errorf("a later case did not move the cut-off to its time: %v", ps)
	}
	if !strings.Contains(mustJSON(res.Outputs), `"previousTokenIssueTime":"2026-03-01T12:00:00Z"`) {
		t.Errorf("outputs %s lack the replaced cut-off", mustJSON(res.Outputs))
	}
}

func TestMotoRevokeExecutionRole(t *testing.T) {
	w := seed(t)
	role, err := iam.NewFromConfig(w.Cfg).CreateRole(context.Background(), &iam.CreateRoleInput{RoleName: aws.String(mototest.Unique("exec-role")),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]any
	if err := json.Unmarshal(w.Payload("revoke-task-role-sessions", "revoke", "FARGATE", mototest.Unique("case-exec"), false,
		map[string]any{"scope": "role", "includeExecutionRole": true, "policyName": "ir-revoke"}, nil), &p); err != nil {
		t.Fatal(err)
	}
	p["target"].(map[string]any)["executionRoleArn"] = aws.ToString(role.Role.Arn)
	raw, _ := json.Marshal(p)
	if _, err := run(t, w, raw, t0); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{w.TaskRoleName, aws.ToString(role.Role.RoleName)} {
		if ps := policies(t, w, r); len(ps) != 1 || ps["ir-revoke"] == "" {
			t.Errorf("role %s policies %v", r, ps)
		}
	}
}

func TestMotoRevokeNoTaskRole(t *testing.T) {
	w := seed(t)
	var p map[string]any
	json.Unmarshal(w.Payload("revoke-task-role-sessions", "revoke", "FARGATE", mototest.Unique("case-norole"), false, nil, nil), &p)
	tg := p["target"].(map[string]any)
	tg["taskRoleArn"], tg["taskDefinitionArn"] = "", ""
	raw, _ := json.Marshal(p)
	if _, err := run(t, w, raw, t0); contract.ErrorName(err) != "PreconditionFailedError" {
		t.Errorf("no task role: %v", err)
	}
}

var roleScope = map[string]any{"scope": "role"}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
