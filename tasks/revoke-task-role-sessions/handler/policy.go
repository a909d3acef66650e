package handler

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strings"
	"time"
)

// conditionKey is the global condition key of a session's issue time.
const conditionKey = "aws:TokenIssueTime"

// Changes a run makes to a role's policy.
const (
	changePut      = "put"      // no policy of that name: created
	changeReplaced = "replaced" // another case's revocation: replaced, never with an earlier time
	changeKept     = "kept"     // this case's revocation: left as it is
)

// statementID ties a policy to its case. Statement ids allow only ASCII
// letters and digits, so the case id keeps those and a short hash of the
// whole id keeps two ids that differ only in '-' or '_' apart.
func statementID(caseID string) string {
	alnum := strings.Map(func(r rune) rune {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return r
		}
		return -1
	}, caseID)
	sum := sha256.Sum256([]byte(caseID))
	return "IrflowRevokeCase" + alnum + "H" + hex.EncodeToString(sum[:4])
}

// policyDocument is the deny for sessions issued before cutoff.
func policyDocument(caseID string, cutoff time.Time) string {
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Sid": statementID(caseID), "Effect": "Deny", "Action": "*", "Resource": "*",
			"Condition": map[string]any{"DateLessThan": map[string]string{conditionKey: cutoff.UTC().Format(time.RFC3339)}},
		}},
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

// revocation is what an existing policy of the action's name revokes.
type revocation struct {
	Sid    string
	Cutoff time.Time
}

// parseRevocation reads a policy document as IAM returns it (URL-encoded,
// RFC 3986) or as plain JSON. ok is false unless every statement is a deny
// of everything to sessions issued before a time, as irflow and the IAM
// console's "Revoke active sessions" write it.
func parseRevocation(doc string) (rev *revocation, ok bool) {
	stmts, ok := statements(doc)
	if !ok {
		return nil, false
	}
	rev = &revocation{Sid: stmts[0].Sid}
	for _, s := range stmts {
		if s.Effect != "Deny" || !isStar(s.Action) || !isStar(s.Resource) || len(s.Condition) != 1 {
			return nil, false
		}
		lt, found := s.Condition["DateLessThan"]
		if !found || len(lt) != 1 {
			return nil, false
		}
		at, valid := parseTime(lt[conditionKey])
		if !valid {
			return nil, false
		}
		if at.After(rev.Cutoff) {
			rev.Cutoff = at
		}
	}
	return rev, true
}

// statement is one statement of a policy document as irflow reads it.
type statement struct {
	Sid       string
	Effect    string
	Action    json.RawMessage
	Resource  json.RawMessage
	Condition map[string]map[string]json.RawMessage
}

// decodeDocument undoes the URL encoding (RFC 3986) IAM returns policy
// documents in; plain JSON is returned as it is.
func decodeDocument(doc string) string {
	doc = strings.TrimSpace(doc)
	if strings.HasPrefix(doc, "{") {
		return doc
	}
	if dec, err := url.PathUnescape(doc); err == nil {
		return dec
	}
	return doc
}

// statements reads a document's statements (a lone statement object, as
// the console writes it, is a list of one).
func statements(doc string) ([]statement, bool) {
	var p struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(decodeDocument(doc)), &p) != nil {
		return nil, false
	}
	if raw := bytes.TrimSpace(p.Statement); len(raw) > 0 && raw[0] == '{' {
		p.Statement = append(append([]byte("["), raw...), ']')
	}
	var stmts []statement
	if json.Unmarshal(p.Statement, &stmts) != nil || len(stmts) == 0 {
		return nil, false
	}
	return stmts, true
}

// taskStatementID names the task in the deny's statement id (letters and
// digits only).
func taskStatementID(taskID string) string {
	return "IrflowDenyTask" + strings.Map(func(r rune) rune {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return r
		}
		return -1
	}, taskID)
}

// taskPolicyDocument denies every action to the sessions whose aws:userid
// is userID ("<RoleId>:<taskId>"). StringLike with no wildcard in the
// value matches it exactly.
func taskPolicyDocument(sid, userID string) string {
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Sid": sid, "Effect": "Deny", "Action": "*", "Resource": "*",
			"Condition": map[string]any{"StringLike": map[string]string{userIDKey: userID}},
		}},
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

// userIDKey is the global condition key of the caller's unique id.
const userIDKey = "aws:userid"

// isTaskDeny reports whether doc is irflow's deny of userID's sessions.
func isTaskDeny(doc, userID string) bool {
	stmts, ok := statements(doc)
	if !ok || len(stmts) != 1 {
		return false
	}
	s := stmts[0]
	if s.Effect != "Deny" || !isStar(s.Action) || !isStar(s.Resource) || len(s.Condition) != 1 {
		return false
	}
	like, found := s.Condition["StringLike"]
	if !found || len(like) != 1 {
		return false
	}
	var v string
	return json.Unmarshal(like[userIDKey], &v) == nil && v == userID
}

// isStar matches "*" and ["*"].
func isStar(raw json.RawMessage) bool {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s == "*"
	}
	var l []string
	return json.Unmarshal(raw, &l) == nil && len(l) == 1 && l[0] == "*"
}

func parseTime(raw json.RawMessage) (time.Time, bool) {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return time.Time{}, false
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// decide returns the cut-off to keep on a role and what the run does: this
// case's existing policy stands, another case's gives way to the later of
// its time and now, so a retry never moves the cut-off later and no run
// ever moves it earlier.
func decide(existing *revocation, caseID string, now time.Time) (time.Time, string) {
	switch {
	case existing == nil:
		return now, changePut
	case existing.Sid == statementID(caseID):
		return existing.Cutoff, changeKept
	case existing.Cutoff.After(now):
		return existing.Cutoff, changeReplaced
	}
	return now, changeReplaced
}

// ceilSecond rounds up to a whole second, so a session issued in the
// second the revocation ran is revoked too.
func ceilSecond(t time.Time) time.Time {
	t = t.UTC()
	if r := t.Truncate(time.Second); !r.Equal(t) {
		return r.Add(time.Second)
	}
	return t
}
