package approval

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestID(t *testing.T) {
	exec := "arn:aws:states:us-east-1:123456789012:execution:irflow-crypto-mining:case-1"
	a, b := ID(exec, "approve"), ID(exec, "approve")
	if a != b {
		t.Errorf("ID is not deterministic: %s, %s", a, b)
	}
	if !ValidID(a) {
		t.Errorf("ID %s is not a ValidID", a)
	}
	if ID(exec, "approve-2") == a || ID(exec+"x", "approve") == a {
		t.Error("different gates share an id")
	}
	for _, bad := range []string{"", "apr-", "apr-XYZ", "apr-0123456789abcdef012", "x" + a[1:], a + "0"} {
		if ValidID(bad) {
			t.Errorf("ValidID(%q) = true", bad)
		}
	}
}

func sample() *Approval {
	return &Approval{ID: ID("arn:aws:states:us-east-1:123456789012:execution:irflow-x:c", "gate"), CaseID: "c",
		Step: "gate", Prompt: "Contain?", Approvers: []string{"arn:aws:iam::123456789012:role/IC"},
		RequestedBy: "arn:aws:iam::123456789012:role/Responder", OnTimeout: "reject", TimeoutSeconds: 600,
		Status: StatusPending, RequestedAt: "2026-01-02T03:04:05Z", ExpiresAt: time.Unix(1767326045, 0).UTC(),
		Attempts: 1, TaskToken: "SECRET-TOKEN"}
}

// TestTokenStaysInside: the token is in the item (approval-api needs it)
// but never in JSON or in the list projection.
func TestTokenStaysInside(t *testing.T) {
	a := sample()
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "SECRET-TOKEN") || strings.Contains(string(b), "taskToken") {
		t.Errorf("JSON carries the token: %s", b)
	}
	proj, names := Projection()
	for _, n := range names {
		if n == "taskToken" {
			t.Errorf("projection %s reads the token", proj)
		}
	}
	if len(names) < 20 {
		t.Errorf("projection reads only %d attributes", len(names))
	}
	item, err := a.Item()
	if err != nil {
		t.Fatal(err)
	}
	back, err := FromItem(item)
	if err != nil {
		t.Fatal(err)
	}
	if back.TaskToken != "SECRET-TOKEN" || !back.ExpiresAt.Equal(a.ExpiresAt) || back.Approvers[0] != a.Approvers[0] || back.Status != StatusPending {
		t.Errorf("round trip lost data: %+v", back)
	}
	if _, ok := item["decidedBy"]; ok {
		t.Error("empty decision fields are stored")
	}
}

func TestExpired(t *testing.T) {
	a := sample()
	if a.Expired(a.ExpiresAt.Add(-time.Second)) || !a.Expired(a.ExpiresAt) {
		t.Error("Expired is wrong at the deadline")
	}
}

func TestDecisionURL(t *testing.T) {
	for _, base := range []string{"https://x.lambda-url.us-east-1.on.aws/", "https://x.lambda-url.us-east-1.on.aws"} {
		if got := DecisionURL(base, "apr-1"); got != "https://x.lambda-url.us-east-1.on.aws/approvals/apr-1" {
			t.Errorf("DecisionURL(%q) = %q", base, got)
		}
	}
}

func TestParsePrincipal(t *testing.T) {
	tests := []struct {
		arn                          string
		kind, name, session, account string
		bad                          bool
	}{
		{arn: "arn:aws:iam::123456789012:user/alice", kind: KindUser, name: "alice", account: "123456789012"},
		{arn: "arn:aws:iam::123456789012:user/ops/alice", kind: KindUser, name: "alice", account: "123456789012"},
		{arn: "arn:aws:iam::123456789012:role/IC", kind: KindRole, name: "IC", account: "123456789012"},
		{arn: "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_IR_0a1b", kind: KindRole, name: "AWSReservedSSO_IR_0a1b", account: "123456789012"},
		{arn: "arn:aws:sts::123456789012:assumed-role/IC/alice", kind: KindAssumedRole, name: "IC", session: "alice", account: "123456789012"},
		{arn: "arn:aws-cn:sts::123456789012:assumed-role/IC/alice@example.com", kind: KindAssumedRole, name: "IC", session: "alice@example.com", account: "123456789012"},
		{arn: "arn:aws:iam::123456789012:root", kind: KindRoot, account: "123456789012"},
		{arn: "alice@example.com", bad: true},
		{arn: "arn:aws:iam::123456789012:group/IR", bad: true},
		{arn: "arn:aws:iam::123456789012:role/*", bad: true},
		{arn: "arn:aws:iam::12345678901:role/IC", bad: true},
		{arn: "arn:aws:iam:us-east-1:123456789012:role/IC", bad: true},
		{arn: "arn:aws:sts::123456789012:assumed-role/IC", bad: true},
		{arn: "arn:aws:sts::123456789012:federated-user/bob", bad: true},
		{arn: "arn:aws:iam::123456789012:role//IC", bad: true},
		{arn: "arn:aws:iam::123456789012:role/", bad: true},
		{arn: "", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.arn, func(t *testing.T) {
			p, err := ParsePrincipal(tt.arn)
			if tt.bad {
				if err == nil {
					t.Fatalf("got %+v; want an error", p)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Kind != tt.kind || p.Name != tt.name || p.Session != tt.session || p.Account != tt.account {
				t.Errorf("got %+v; want kind %s name %s session %s account %s", p, tt.kind, tt.name, tt.session, tt.account)
			}
		})
	}
}
