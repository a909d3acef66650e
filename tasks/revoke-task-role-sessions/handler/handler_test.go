package handler

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/ledger"
	"github.com/irflow/irflow/tasks/ledger/ledgertest"
)

type fakeIAM struct {
	role func(*iam.GetRoleInput) (*iam.GetRoleOutput, error)
	get  func(*iam.GetRolePolicyInput) (*iam.GetRolePolicyOutput, error)
	put  func(*iam.PutRolePolicyInput) (*iam.PutRolePolicyOutput, error)
	puts []*iam.PutRolePolicyInput
}

var _ iamAPI = (*fakeIAM)(nil)

func (f *fakeIAM) GetRole(_ context.Context, in *iam.GetRoleInput, _ ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	return f.role(in)
}

func (f *fakeIAM) GetRolePolicy(_ context.Context, in *iam.GetRolePolicyInput, _ ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error) {
	return f.get(in)
}

func (f *fakeIAM) PutRolePolicy(_ context.Context, in *iam.PutRolePolicyInput, _ ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error) {
	f.puts = append(f.puts, in)
	return f.put(in)
}

type fakeECS struct {
	describe func(*ecs.DescribeTaskDefinitionInput) (*ecs.DescribeTaskDefinitionOutput, error)
}

var _ taskDefAPI = (*fakeECS)(nil)

func (f *fakeECS) DescribeTaskDefinition(_ context.Context, in *ecs.DescribeTaskDefinitionInput, _ ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error) {
	return f.describe(in)
}

func apiErr(code string) error { return &smithy.GenericAPIError{Code: code, Message: code + " (fake)"} }

// newIAM is an in-memory store of inline policies: role -> name -> document.
// Documents come back URL-encoded, as IAM returns them.
func newIAM(policies map[string]map[string]string) *fakeIAM {
	f := &fakeIAM{}
	f.role = func(in *iam.GetRoleInput) (*iam.GetRoleOutput, error) {
		name := aws.ToString(in.RoleName)
		if _, ok := policies[name]; !ok {
			return nil, apiErr("NoSuchEntity")
		}
		path := "/ecs-tasks/"
		if name == "irflow-isolate-network" {
			path = "/irflow/"
		}
		return &iam.GetRoleOutput{Role: &iamtypes.Role{RoleName: in.RoleName, RoleId: aws.String(roleIDs[name]), Path: aws.String(path)}}, nil
	}
	f.get = func(in *iam.GetRolePolicyInput) (*iam.GetRolePolicyOutput, error) {
		doc, ok := policies[aws.ToString(in.RoleName)][aws.ToString(in.PolicyName)]
		if !ok {
			return nil, apiErr("NoSuchEntity")
		}
		return &iam.GetRolePolicyOutput{PolicyDocument: aws.String(url.PathEscape(doc))}, nil
	}
	f.put = func(in *iam.PutRolePolicyInput) (*iam.PutRolePolicyOutput, error) {
		if policies[aws.ToString(in.RoleName)] == nil {
			return nil, apiErr("NoSuchEntity")
		}
		policies[aws.ToString(in.RoleName)][aws.ToString(in.PolicyName)] = aws.ToString(in.PolicyDocument)
		return &iam.PutRolePolicyOutput{}, nil
	}
	return f
}

// roleIDs are the roles' unique ids, as IAM reports them.
var roleIDs = map[string]string{"payments-task": "AROAPAYMENTSTASK0001", "ecs-exec": "AROAECSEXEC000000001", "irflow-isolate-network": "AROAIRFLOW0000000001"}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 500_000_000, time.UTC)

func clock(t time.Time) func() time.Time { return func() time.Time { return t } }

func payload(caseID string, dry bool, with string) *contract.Payload {
	return &contract.Payload{Action: "revoke-task-role-sessions", Step: "revoke", With: json.RawMessage(with),
		Incident: &incident.Incident{CaseID: caseID, DryRun: dry},
		Target: &incident.Target{LaunchType: "FARGATE", TaskArn: "arn:aws:ecs:us-east-1:111122223333:task/prod/0f8e7d6c5b4a39281706f5e4d3c2b1a0", TaskRoleArn: "arn:aws:iam::111122223333:role/app/payments-task",
			ExecutionRoleArn: "arn:aws:iam::111122223333:role/ecs-exec", TaskDefinitionArn: "arn:aws:ecs:us-east-1:111122223333:task-definition/payments:3"}}
}

func rolesOf(r *contract.Result) []*roleChange { return r.Outputs["roles"].([]*roleChange) }

func TestRevokePutsDenyAndKeepsItOnRetry(t *testing.T) {
	store := map[string]map[string]string{"payments-task": {}, "ecs-exec": {}}
	f := newIAM(store)
	h := &Handler{IAM: f, Ledger: &ledgertest.Appender{}, Now: clock(t0)}
	res, err := h.Handle(context.Background(), payload("case-1", false, `{"scope":"role"}`))
	if err != nil {
		t.Fatal(err)
	}
	doc := store["payments-task"][defaultRolePolicy]
	want := `{"Statement":[{"Action":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-03-01T12:00:01Z"}},"Effect":"Deny","Resource":"*","Sid":"` + statementID("case-1") + `"}],"Version":"2012-10-17"}`
	if doc != want {
		t.Errorf("policy\n%s\nwant\n%s", doc, want)
	}
	if len(store["ecs-exec"]) != 0 {
		t.Error("touched the execution role without includeExecutionRole")
	}
	rc := rolesOf(res)
	if res.Status != contract.StatusOK || len(rc) != 1 || rc[0].Change != changePut || rc[0].TokenIssueTime != "2026-03-01T12:00:01Z" ||
		!strings.HasPrefix(res.Summary, "denied every action to sessions of task role payments-task issued before 2026-03-01T12:00:01Z") {
		t.Errorf("first run: %s %q %+v", res.Status, res.Summary, rc[0])
	}

	// A retry an hour later must not move the cut-off later.
	h.Now = clock(t0.Add(time.Hour))
	f.puts = nil
	res, err = h.Handle(context.Background(), payload("case-1", false, `{"scope":"role"}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.puts) != 0 || store["payments-task"][defaultRolePolicy] != want {
		t.Errorf("retry rewrote the policy: %v", store)
	}
	if rc := rolesOf(res); rc[0].Change != changeKept || rc[0].TokenIssueTime != "2026-03-01T12:00:01Z" || !strings.HasPrefix(res.Summary, "already denied") {
		t.Errorf("retry: %q %+v", res.Summary, rc[0])
	}
}

func TestRevokeExistingPolicies(t *testing.T) {
	console := `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-02-01T00:00:00.000Z"}}}}`
	tests := []struct {
		name, existing, wantChange, wantCut, wantPrev, wantErr string
	}{
		{name: "another case earlier", existing: policyDocument("case-0", t0.Add(-time.Hour)),
			wantChange: changeReplaced, wantCut: "2026-03-01T12:00:01Z", wantPrev: "2026-03-01T11:00:00Z"},
		{name: "another case later is never moved earlier", existing: policyDocument("case-9", t0.Add(time.Hour)),
			wantChange: changeReplaced, wantCut: "2026-03-01T13:00:00Z", wantPrev: "2026-03-01T13:00:00Z"},
		{name: "console revocation", existing: console, wantChange: changeReplaced, wantCut: "2026-03-01T12:00:01Z", wantPrev: "2026-02-01T00:00:00Z"},
		{name: "same case, other separator", existing: policyDocument("case_1", t0.Add(-time.Hour)), wantChange: changeReplaced, wantCut: "2026-03-01T12:00:01Z", wantPrev: "2026-03-01T11:00:00Z"},
		{name: "someone else's policy", existing: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`, wantErr: "PreconditionFailedError"},
		{name: "deny without the condition", existing: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`, wantErr: "PreconditionFailedError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := map[string]map[string]string{"payments-task": {defaultRolePolicy: tt.existing}}
			f := newIAM(store)
			res, err := (&Handler{IAM: f, Ledger: &ledgertest.Appender{}, Now: clock(t0)}).Handle(context.Background(), payload("case-1", false, `{"scope":"role"}`))
			if tt.wantErr != "" {
				if contract.ErrorName(err) != tt.wantErr || len(f.puts) != 0 {
					t.Fatalf("error %v, %d puts; want %s and no put", err, len(f.puts), tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rc := rolesOf(res)[0]
			if rc.Change != tt.wantChange || rc.TokenIssueTime != tt.wantCut || rc.PreviousTokenIssueTime != tt.wantPrev {
				t.Errorf("got %+v; want %s %s (previous %s)", rc, tt.wantChange, tt.wantCut, tt.wantPrev)
			}
			rev, ok := parseRevocation(store["payments-task"][defaultRolePolicy])
			if !ok || rev.Sid != statementID("case-1") || rev.Cutoff.Format(time.RFC3339) != tt.wantCut {
				t.Errorf("stored policy %s", store["payments-task"][defaultRolePolicy])
			}
		})
	}
}

func TestRevokeRoles(t *testing.T) {
	tests := []struct {
		name       string
		with       string
		target     func(*incident.Target)
		taskDef    *ecstypes.TaskDefinition
		wantRoles  []string
		wantNote   string
		wantErr    string
		wantPolicy string
	}{
		{name: "task role only", with: `{}`, wantRoles: []string{"payments-task"}},
		{name: "with execution role", with: `{"scope":"role","includeExecutionRole":true,"policyName":"ir-deny"}`, wantRoles: []string{"payments-task", "ecs-exec"}, wantPolicy: "ir-deny"},
		{name: "task scope names the policy after the task", with: `{"policyName":"ir-deny"}`, wantRoles: []string{"payments-task"}, wantPolicy: "ir-deny-0f8e7d6c5b4a39281706f5e4d3c2b1a0"},
		{name: "execution role in task scope", with: `{"includeExecutionRole":true}`, wantErr: "InvalidInputError"},
		{name: "the responder's own role", with: `{}`, target: func(t *incident.Target) {
			t.TaskRoleArn = "arn:aws:iam::111122223333:role/irflow/irflow-isolate-network"
		},
			wantErr: "PreconditionFailedError"},
		{name: "bad scope", with: `{"scope":"account"}`, wantErr: "InvalidInputError"},
		{name: "execution role is the task role", with: `{"scope":"role","includeExecutionRole":true}`,
			target: func(t *incident.Target) { t.ExecutionRoleArn = t.TaskRoleArn }, wantRoles: []string{"payments-task"}, wantNote: "is the task role"},
		{name: "no execution role", with: `{"scope":"role","includeExecutionRole":true}`, target: func(t *incident.Target) { t.ExecutionRoleArn = "" },
			taskDef: &ecstypes.TaskDefinition{}, wantRoles: []string{"payments-task"}, wantNote: "no execution role"},
		{name: "role from the task definition", with: `{}`, target: func(t *incident.Target) { t.TaskRoleArn = "" },
			taskDef: &ecstypes.TaskDefinition{TaskRoleArn: aws.String("arn:aws:iam::111122223333:role/payments-task")}, wantRoles: []string{"payments-task"}},
		{name: "no task role", with: `{"scope":"role","includeExecutionRole":true}`, target: func(t *incident.Target) { t.TaskRoleArn = "" },
			taskDef: &ecstypes.TaskDefinition{ExecutionRoleArn: aws.String("arn:aws:iam::111122223333:role/ecs-exec")}, wantErr: "PreconditionFailedError"},
		{name: "not a role ARN", with: `{}`, target: func(t *incident.Target) { t.TaskRoleArn = "arn:aws:iam::111122223333:user/bob" }, wantErr: "InvalidInputError"},
		{name: "bad policy name", with: `{"policyName":"deny all"}`, wantErr: "InvalidInputError"},
		{name: "unknown parameter", with: `{"policy":"x"}`, wantErr: "InvalidInputError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := map[string]map[string]string{"payments-task": {}, "ecs-exec": {}, "irflow-isolate-network": {}}
			f := newIAM(store)
			h := &Handler{IAM: f, Ledger: &ledgertest.Appender{}, Now: clock(t0), ECS: &fakeECS{describe: func(*ecs.DescribeTaskDefinitionInput) (*ecs.DescribeTaskDefinitionOutput, error) {
				if tt.taskDef == nil {
					t.Error("described the task definition although the target had the roles")
				}
				return &ecs.DescribeTaskDefinitionOutput{TaskDefinition: tt.taskDef}, nil
			}}}
			p := payload("case-1", false, tt.with)
			if tt.target != nil {
				tt.target(p.Target)
			}
			res, err := h.Handle(context.Background(), p)
			if contract.ErrorName(err) != tt.wantErr {
				t.Fatalf("error %v; want %q", err, tt.wantErr)
			}
			if err != nil {
				if len(f.puts) != 0 {
					t.Error("failed run still put a policy")
				}
				return
			}
			var got []string
			for _, rc := range rolesOf(res) {
				got = append(got, rc.RoleName)
			}
			if strings.Join(got, ",") != strings.Join(tt.wantRoles, ",") || len(f.puts) != len(tt.wantRoles) || !strings.Contains(res.Summary, tt.wantNote) {
				t.Errorf("roles %v, %d puts, summary %q", got, len(f.puts), res.Summary)
			}
			if tt.wantPolicy != "" && aws.ToString(f.puts[0].PolicyName) != tt.wantPolicy {
				t.Errorf("policy name %s; want %s", aws.ToString(f.puts[0].PolicyName), tt.wantPolicy)
			}
		})
	}
}

func TestRevokeDryRunPutsNothing(t *testing.T) {
	store := map[string]map[string]string{"payments-task": {}, "ecs-exec": {}}
	f := newIAM(store)
	res, err := (&Handler{IAM: f, Ledger: &ledgertest.Appender{}, Now: clock(t0)}).Handle(context.Background(), payload("case-1", true, `{"scope":"role","includeExecutionRole":true}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.puts) != 0 || len(store["payments-task"]) != 0 {
		t.Fatalf("dry run put %d policies", len(f.puts))
	}
	if res.Status != contract.StatusDryRun || len(rolesOf(res)) != 2 || !strings.HasPrefix(res.Summary, "would deny every action to sessions of task role payments-task issued before 2026-03-01T12:00:01Z") {
		t.Errorf("dry run: %s %q", res.Status, res.Summary)
	}
}

func TestRevokeAWSErrors(t *testing.T) {
	tests := []struct {
		name    string
		fault   func(*fakeIAM)
		store   map[string]map[string]string
		wantErr string
	}{
		{name: "role gone", store: map[string]map[string]string{}, wantErr: "TargetNotFoundError"},
		{name: "throttled role read", wantErr: "RetryableError", fault: func(f *fakeIAM) {
			f.role = func(*iam.GetRoleInput) (*iam.GetRoleOutput, error) { return nil, apiErr("Throttling") }
		}},
		{name: "throttled read", wantErr: "RetryableError", fault: func(f *fakeIAM) {
			f.get = func(*iam.GetRolePolicyInput) (*iam.GetRolePolicyOutput, error) { return nil, apiErr("Throttling") }
		}},
		{name: "denied write", wantErr: "PreconditionFailedError", fault: func(f *fakeIAM) {
			f.put = func(*iam.PutRolePolicyInput) (*iam.PutRolePolicyOutput, error) { return nil, apiErr("AccessDenied") }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := tt.store
			if store == nil {
				store = map[string]map[string]string{"payments-task": {}}
			}
			f := newIAM(store)
			if tt.fault != nil {
				tt.fault(f)
			}
			_, err := (&Handler{IAM: f, Ledger: &ledgertest.Appender{}, Now: clock(t0)}).Handle(context.Background(), payload("case-1", false, `{}`))
			if contract.ErrorName(err) != tt.wantErr {
				t.Errorf("error %v; want %s", err, tt.wantErr)
			}
		})
	}
}

func TestStatementIDAndCeil(t *testing.T) {
	a, b := statementID("case-1"), statementID("case_1")
	if a == b || strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
		t.Errorf("statement ids %q %q", a, b)
	}
	if got := ceilSecond(t0.Truncate(time.Second)); !got.Equal(t0.Truncate(time.Second)) {
		t.Errorf("ceil of a whole second moved it: %v", got)
	}
}

// TestRevokeTaskScope: the default denies everything to the task's own
// sessions (aws:userid RoleId:taskId) in a policy named after the task,
// recorded in the ledger before it is put; a retry keeps it; someone
// else's policy of that name is left alone.
func TestRevokeTaskScope(t *testing.T) {
	store := map[string]map[string]string{"payments-task": {}, "ecs-exec": {}}
	f := newIAM(store)
	lg := &ledgertest.Appender{}
	h := &Handler{IAM: f, Ledger: lg, Now: clock(t0)}
	res, err := h.Handle(context.Background(), payload("case-1", false, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	name := "irflow-deny-task-0f8e7d6c5b4a39281706f5e4d3c2b1a0"
	want := `{"Statement":[{"Action":"*","Condition":{"StringLike":{"aws:userid":"AROAPAYMENTSTASK0001:0f8e7d6c5b4a39281706f5e4d3c2b1a0"}},"Effect":"Deny","Resource":"*","Sid":"IrflowDenyTask0f8e7d6c5b4a39281706f5e4d3c2b1a0"}],"Version":"2012-10-17"}`
	if got := store["payments-task"][name]; got != want {
		t.Errorf("policy %s\n%s\nwant\n%s", name, got, want)
	}
	rc := rolesOf(res)[0]
	if res.Outputs["scope"] != "task" || rc.Change != changePut || rc.RoleID != "AROAPAYMENTSTASK0001" || rc.TokenIssueTime != "" ||
		!strings.Contains(res.Summary, "the task's own sessions") || !strings.Contains(res.Summary, "within minutes") {
		t.Errorf("result %q %+v", res.Summary, rc)
	}
	var d ledger.RolePolicyData
	if len(lg.Entries) != 1 || lg.Entries[0].ID != "role-policy:payments-task:"+name || lg.Entries[0].Decode(&d) != nil ||
		d.Scope != "task" || d.Sid != "IrflowDenyTask0f8e7d6c5b4a39281706f5e4d3c2b1a0" || !strings.HasPrefix(d.Condition, "StringLike aws:userid AROA") {
		t.Errorf("ledger %+v %+v", lg.Entries, d)
	}
	f.puts = nil
	res, err = h.Handle(context.Background(), payload("case-2", false, `{}`))
	if err != nil || len(f.puts) != 0 || rolesOf(res)[0].Change != changeKept || !strings.HasPrefix(res.Summary, "already denied") {
		t.Errorf("retry: %v %q %d puts", err, res.Summary, len(f.puts))
	}
	store["payments-task"][name] = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
	if _, err := h.Handle(context.Background(), payload("case-1", false, `{}`)); contract.ErrorName(err) != contract.ErrPreconditionFailed || len(f.puts) != 0 {
		t.Errorf("someone else's policy: %v", err)
	}
}

func TestRevokeLedgerFirst(t *testing.T) {
	f := newIAM(map[string]map[string]string{"payments-task": {}})
	lg := &ledgertest.Appender{Err: &contract.RetryableError{Op: "dynamodb:PutItem", Err: apiErr("Throttling")}}
	_, err := (&Handler{IAM: f, Ledger: lg, Now: clock(t0)}).Handle(context.Background(), payload("case-1", false, `{}`))
	if contract.ErrorName(err) != contract.ErrRetryable || len(f.puts) != 0 {
		t.Errorf("error %v, %d puts: nothing is put before the ledger has it", err, len(f.puts))
	}
}
