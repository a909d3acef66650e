package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// mapContext is a contextReader over a map, standing in for app.Node().
type mapContext map[string]any

func (m mapContext) TryGetContext(key *string) interface{} { return m[*key] }

// TestConfigFromContext covers the defaults, both list forms and every
// validation.
func TestConfigFromContext(t *testing.T) {
	tests := []struct {
		name    string
		ctx     mapContext
		check   func(Config) bool
		wantErr string
	}{
		{"defaults", mapContext{}, func(c Config) bool {
			return c.ObjectLockMode == "GOVERNANCE" && c.EvidenceRetentionDays == 365 && c.RemovalPolicy == "retain" &&
				c.LogRetentionDays == 365 && c.NamePrefix == "irflow" && c.StackName == "Irflow" &&
				c.AssetDir == filepath.Join("/repo", "build", "tasks") && c.PlaybookDir == filepath.Join("/repo", "workflows")
		}, ""},
		{"cdk.json list", mapContext{ctxApprovers: []any{"arn:aws:iam::111122223333:role/A"}}, func(c Config) bool {
			return reflect.DeepEqual(c.Approvers, []string{"arn:aws:iam::111122223333:role/A"})
		}, ""},
		{"comma list from -c", mapContext{ctxEmails: "a@example.com, b@example.com"}, func(c Config) bool {
			return reflect.DeepEqual(c.NotificationEmails, []string{"a@example.com", "b@example.com"})
		}, ""},
		{"JSON list from -c", mapContext{ctxEmails: `["a@example.com"]`}, func(c Config) bool {
			return reflect.DeepEqual(c.NotificationEmails, []string{"a@example.com"})
		}, ""},
		{"numbers as strings", mapContext{ctxRetentionDays: "30", ctxLogRetentionDays: "90"}, func(c Config) bool {
			return c.EvidenceRetentionDays == 30 && c.LogRetentionDays == 90
		}, ""},
		{"relative dirs from the root", mapContext{ctxAssetDir: "out/tasks", ctxPlaybookDir: "/abs/pb"}, func(c Config) bool {
			return c.AssetDir == filepath.Join("/repo", "out", "tasks") && c.PlaybookDir == "/abs/pb"
		}, ""},
		{"compliance lower case", mapContext{ctxObjectLockMode: "compliance"}, func(c Config) bool { return c.ObjectLockMode == "COMPLIANCE" }, ""},
		{"bad mode", mapContext{ctxObjectLockMode: "LEGAL"}, nil, "objectLockMode"},
		{"bad approver", mapContext{ctxApprovers: []any{"arn:aws:iam::111122223333:group/G"}}, nil, "approvers"},
		{"wildcard approver", mapContext{ctxApprovers: "arn:aws:iam::111122223333:role/*"}, nil, "approvers"},
		{"bad e-mail", mapContext{ctxEmails: "soc"}, nil, "notificationEmails"},
		{"zero retention", mapContext{ctxRetentionDays: 0.0}, nil, "evidenceRetentionDays"},
		{"fractional retention", mapContext{ctxRetentionDays: 1.5}, nil, "evidenceRetentionDays"},
		{"log retention CloudWatch refuses", mapContext{ctxLogRetentionDays: 42.0}, nil, "logRetentionDays"},
		{"bad removal policy", mapContext{ctxRemovalPolicy: "snapshot"}, nil, "removalPolicy"},
		{"bad prefix", mapContext{ctxNamePrefix: "Irflow"}, nil, "namePrefix"},
		{"bad stack name", mapContext{ctxStackName: "irflow_prod"}, nil, "stackName"},
		{"bad hash", mapContext{ctxAVMLSha256: "abc"}, nil, "avmlSha256"},
		{"plain http tool", mapContext{ctxAVMLURL: "http://example.com/avml"}, nil, "avmlUrl"},
		{"list of numbers", mapContext{ctxApprovers: []any{1.0}}, nil, "approvers"},
		{"default task role path", mapContext{}, func(c Config) bool { return c.TaskRolePath == "/ecs-tasks/" }, ""},
		{"deeper task role path", mapContext{ctxTaskRolePath: "/workloads/ecs/"}, func(c Config) bool { return c.TaskRolePath == "/workloads/ecs/" }, ""},
		{"root task role path", mapContext{ctxTaskRolePath: "/"}, nil, "taskRolePath"},
		{"task role path without slashes", mapContext{ctxTaskRolePath: "ecs-tasks"}, nil, "taskRolePath"},
		{"task role path with a wildcard", mapContext{ctxTaskRolePath: "/ecs*/"}, nil, "taskRolePath"},
		{"irflow's own path", mapContext{ctxTaskRolePath: "/irflow/"}, nil, "irflow's own roles"},
		{"under irflow's own path", mapContext{ctxTaskRolePath: "/irflow/tasks/"}, nil, "irflow's own roles"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ConfigFromContext(tt.ctx, "/repo")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v; want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Errorf("got %+v", c)
			}
		})
	}
}

// TestLoadPlaybooks: errors of every file are reported together, a name
// used twice is an error, and a folder without playbooks is one too.
func TestLoadPlaybooks(t *testing.T) {
	good, err := readFile(filepath.Join("..", "workflows", "crypto-mining.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(good, "action: stop-task", "action: stop-tsk", 1)
	tests := []struct {
		name    string
		files   map[string]string
		wantErr []string
		want    int
	}{
		{"one", map[string]string{"a.yaml": good}, nil, 1},
		{"errors of every file", map[string]string{"a.yaml": bad, "b.yml": bad}, []string{"a.yaml:", "b.yml:", "unknown-action"}, 0},
		{"duplicate name", map[string]string{"a.yaml": good, "b.yaml": good}, []string{"duplicate-name", "crypto-mining"}, 0},
		{"empty", map[string]string{"README.md": "x"}, []string{"no *.yaml"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, src := range tt.files {
				if err := writeFile(filepath.Join(dir, name), src); err != nil {
					t.Fatal(err)
				}
			}
			pbs, err := LoadPlaybooks(dir)
			for _, w := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("err %v; want it to contain %q", err, w)
				}
			}
			if tt.wantErr == nil && (err != nil || len(pbs) != tt.want) {
				t.Errorf("got %d playbooks, err %v; want %d", len(pbs), err, tt.want)
			}
		})
	}
}

// TestCheckAssets names what `make build` must produce.
func TestCheckAssets(t *testing.T) {
	dir := t.TempDir()
	err := CheckAssets(dir)
	if err == nil || !strings.Contains(err.Error(), "approval-api") || !strings.Contains(err.Error(), "make build") {
		t.Fatalf("err %v; want the missing functions and the fix", err)
	}
	full, err := placeholderAssets()
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckAssets(full); err != nil {
		t.Errorf("complete asset dir: %v", err)
	}
}

func readFile(p string) (string, error) {
	b, err := os.ReadFile(p)
	return string(b), err
}

func writeFile(p, s string) error { return os.WriteFile(p, []byte(s), 0o644) }
