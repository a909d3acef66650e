package handler

import "testing"

const (
	acct  = "123456789012"
	other = "210987654321"
)

func TestIsApprover(t *testing.T) {
	tests := []struct {
		name             string
		approver, caller string
		want             bool
	}{
		// Roles admit their sessions.
		{"role admits its session", "arn:aws:iam::" + acct + ":role/IncidentCommander", "arn:aws:sts::" + acct + ":assumed-role/IncidentCommander/alice", true},
		{"role with a path admits its session", "arn:aws:iam::" + acct + ":role/security/IncidentCommander", "arn:aws:sts::" + acct + ":assumed-role/IncidentCommander/bob", true},
		{"SSO role admits its session", "arn:aws:iam::" + acct + ":role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_IR_0a1b2c", "arn:aws:sts::" + acct + ":assumed-role/AWSReservedSSO_IR_0a1b2c/alice@example.com", true},
		{"gov partition role admits its session", "arn:aws-us-gov:iam::" + acct + ":role/IC", "arn:aws-us-gov:sts::" + acct + ":assumed-role/IC/s", true},
		// Lookalikes do not.
		{"role NameX is not role Name", "arn:aws:iam::" + acct + ":role/IncidentCommander", "arn:aws:sts::" + acct + ":assumed-role/IncidentCommanderX/alice", false},
		{"role Name is not role NameX", "arn:aws:iam::" + acct + ":role/IncidentCommanderX", "arn:aws:sts::" + acct + ":assumed-role/IncidentCommander/alice", false},
		{"prefix of the name", "arn:aws:iam::" + acct + ":role/Incident", "arn:aws:sts::" + acct + ":assumed-role/IncidentCommander/alice", false},
		{"name differs in case", "arn:aws:iam::" + acct + ":role/incidentcommander", "arn:aws:sts::" + acct + ":assumed-role/IncidentCommander/alice", false},
		{"same role name, other account", "arn:aws:iam::" + acct + ":role/IncidentCommander", "arn:aws:sts::" + other + ":assumed-role/IncidentCommander/alice", false},
		{"same role name, other partition", "arn:aws:iam::" + acct + ":role/IncidentCommander", "arn:aws-cn:sts::" + acct + ":assumed-role/IncidentCommander/alice", false},
		{"session named like the role", "arn:aws:iam::" + acct + ":role/IncidentCommander", "arn:aws:sts::" + acct + ":assumed-role/Other/IncidentCommander", false},
		{"role is not a user of that name", "arn:aws:iam::" + acct + ":role/alice", "arn:aws:iam::" + acct + ":user/alice", false},
		{"user is not a role session of that name", "arn:aws:iam::" + acct + ":user/alice", "arn:aws:sts::" + acct + ":assumed-role/alice/alice", false},
		// Users match themselves.
		{"exact user", "arn:aws:iam::" + acct + ":user/alice", "arn:aws:iam::" + acct + ":user/alice", true},
		{"user given without its path", "arn:aws:iam::" + acct + ":user/alice", "arn:aws:iam::" + acct + ":user/ops/alice", true},
		{"other user", "arn:aws:iam::" + acct + ":user/alice", "arn:aws:iam::" + acct + ":user/alice2", false},
		{"user in other account", "arn:aws:iam::" + acct + ":user/alice", "arn:aws:iam::" + other + ":user/alice", false},
		// A session approver names exactly one session.
		{"exact session", "arn:aws:sts::" + acct + ":assumed-role/IC/alice", "arn:aws:sts::" + acct + ":assumed-role/IC/alice", true},
		{"other session of the role", "arn:aws:sts::" + acct + ":assumed-role/IC/alice", "arn:aws:sts::" + acct + ":assumed-role/IC/mallory", false},
		// Nothing broad.
		{"root does not stand for the account", "arn:aws:iam::" + acct + ":root", "arn:aws:sts::" + acct + ":assumed-role/IC/alice", false},
		{"root matches root", "arn:aws:iam::" + acct + ":root", "arn:aws:iam::" + acct + ":root", true},
		{"wildcard approver", "arn:aws:iam::" + acct + ":role/*", "arn:aws:sts::" + acct + ":assumed-role/IC/alice", false},
		{"e-mail approver", "alice@example.com", "arn:aws:sts::" + acct + ":assumed-role/IC/alice@example.com", false},
		{"empty approver", "", "arn:aws:iam::" + acct + ":user/alice", false},
		{"empty caller", "arn:aws:iam::" + acct + ":user/alice", "", false},
		{"malformed caller", "arn:aws:iam::" + acct + ":role/IC", "arn:aws:sts::" + acct + ":assumed-role/IC", false},
		{"caller with extra segment", "arn:aws:iam::" + acct + ":role/IC", "arn:aws:sts::" + acct + ":assumed-role/IC/alice/x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsApprover(tt.approver, tt.caller); got != tt.want {
				t.Errorf("IsApprover(%q, %q) = %v; want %v", tt.approver, tt.caller, got, tt.want)
			}
		})
	}
}

func TestSamePerson(t *testing.T) {
	tests := []struct {
		name              string
		requester, caller string
		want              bool
	}{
		{"same session", "arn:aws:sts::" + acct + ":assumed-role/Responder/alice", "arn:aws:sts::" + acct + ":assumed-role/Responder/alice", true},
		{"other session of the same role", "arn:aws:sts::" + acct + ":assumed-role/Responder/alice", "arn:aws:sts::" + acct + ":assumed-role/Responder/bob", true},
		{"session of the requesting role", "arn:aws:iam::" + acct + ":role/Responder", "arn:aws:sts::" + acct + ":assumed-role/Responder/alice", true},
		{"requesting role given with a path", "arn:aws:iam::" + acct + ":role/sec/Responder", "arn:aws:sts::" + acct + ":assumed-role/Responder/alice", true},
		{"same user", "arn:aws:iam::" + acct + ":user/alice", "arn:aws:iam::" + acct + ":user/alice", true},
		{"e-mail and SSO session", "alice@example.com", "arn:aws:sts::" + acct + ":assumed-role/AWSReservedSSO_IR_1/Alice@Example.com", true},
		{"e-mail and user name", "alice", "arn:aws:iam::" + acct + ":user/alice", true},
		{"same person, two IAM Identity Center permission sets",
			"arn:aws:sts::" + acct + ":assumed-role/AWSReservedSSO_Responder_0a1b2c3d4e5f6a7b/alice",
			"arn:aws:sts::" + acct + ":assumed-role/AWSReservedSSO_IncidentCommander_9f8e7d6c5b4a3a2b/alice", true},
		{"same session name in another case", "arn:aws:sts::" + acct + ":assumed-role/AWSReservedSSO_Responder_0a1b/Alice",
			"arn:aws:sts::" + acct + ":assumed-role/AWSReservedSSO_IncidentCommander_9f8e/alice", true},
		{"same session name in another account", "arn:aws:sts::" + acct + ":assumed-role/AWSReservedSSO_Responder_0a1b/alice",
			"arn:aws:sts::" + other + ":assumed-role/AWSReservedSSO_IncidentCommander_9f8e/alice", true},
		{"user and a session of that name", "arn:aws:iam::" + acct + ":user/alice", "arn:aws:sts::" + acct + ":assumed-role/IncidentCommander/alice", true},
		{"session and a user of that name", "arn:aws:sts::" + acct + ":assumed-role/Responder/alice", "arn:aws:iam::" + acct + ":user/Alice", true},
		{"two users of one permission set", "arn:aws:sts::" + acct + ":assumed-role/AWSReservedSSO_IncidentCommander_9f8e/alice",
			"arn:aws:sts::" + acct + ":assumed-role/AWSReservedSSO_IncidentCommander_9f8e/bob", false},
		{"SSO-like name on a role that is not IAM Identity Center's", "arn:aws:sts::" + acct + ":assumed-role/Responder/alice",
			"arn:aws:sts::" + acct + ":assumed-role/Responder/AWSReservedSSO_x", true},
		{"other person, two permission sets", "arn:aws:sts::" + acct + ":assumed-role/AWSReservedSSO_Responder_0a1b/alice",
			"arn:aws:sts::" + acct + ":assumed-role/AWSReservedSSO_IncidentCommander_9f8e/bob", false},
		{"role requester names no person", "arn:aws:iam::" + acct + ":role/alice", "arn:aws:sts::" + acct + ":assumed-role/IncidentCommander/alice", false},
		{"different role", "arn:aws:iam::" + acct + ":role/Responder", "arn:aws:sts::" + acct + ":assumed-role/IncidentCommander/alice", false},
		{"lookalike role", "arn:aws:iam::" + acct + ":role/Responder", "arn:aws:sts::" + acct + ":assumed-role/ResponderX/alice", false},
		{"same role name, other account", "arn:aws:iam::" + acct + ":role/Responder", "arn:aws:sts::" + other + ":assumed-role/Responder/alice", false},
		{"other e-mail", "alice@example.com", "arn:aws:sts::" + acct + ":assumed-role/IC/bob@example.com", false},
		{"GuardDuty started the response", "aws.guardduty", "arn:aws:sts::" + acct + ":assumed-role/IC/alice", false},
		{"unparseable requester ARN", "arn:aws:iam::" + acct + ":group/IR", "arn:aws:sts::" + acct + ":assumed-role/IC/alice", false},
		{"no requester", "", "arn:aws:sts::" + acct + ":assumed-role/IC/alice", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SamePerson(tt.requester, tt.caller); got != tt.want {
				t.Errorf("SamePerson(%q, %q) = %v; want %v", tt.requester, tt.caller, got, tt.want)
			}
		})
	}
}

func TestIdentityPrincipal(t *testing.T) {
	tests := []struct {
		name string
		id   Identity
		ok   bool
	}{
		{"session", Identity{ARN: "arn:aws:sts::" + acct + ":assumed-role/IC/alice", Account: acct}, true},
		{"no account given", Identity{ARN: "arn:aws:iam::" + acct + ":user/alice"}, true},
		{"account mismatch", Identity{ARN: "arn:aws:sts::" + acct + ":assumed-role/IC/alice", Account: other}, false},
		{"no identity", Identity{}, false},
		{"not a principal", Identity{ARN: "anonymous"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.id.principal()
			if (err == nil) != tt.ok {
				t.Errorf("principal() error = %v; want ok %v", err, tt.ok)
			}
		})
	}
}
