package handler

import (
	"fmt"
	"strings"

	"github.com/irflow/irflow/tasks/approval-api/approval"
)

// Identity is the caller as the Function URL's AWS_IAM auth established it:
// RequestContext.Authorizer.IAM.UserARN and AccountID of the signed request.
type Identity struct {
	ARN     string
	Account string
}

// principal checks the identity and parses its ARN. The account of the
// signed request must be the ARN's: anything else is not an identity we
// can reason about.
func (id Identity) principal() (approval.Principal, error) {
	if id.ARN == "" {
		return approval.Principal{}, fmt.Errorf("the request carries no IAM identity (the Function URL must use AWS_IAM auth)")
	}
	p, err := approval.ParsePrincipal(id.ARN)
	if err != nil {
		return approval.Principal{}, fmt.Errorf("caller: %v", err)
	}
	if id.Account != "" && id.Account != p.Account {
		return approval.Principal{}, fmt.Errorf("caller %s does not belong to the request's account %s", id.ARN, id.Account)
	}
	return p, nil
}

// IsApprover reports whether caller may decide for approver. An exact ARN
// always matches; an IAM role ARN (any path) matches the STS assumed-role
// session ARNs of that role in the same partition and account; an IAM user
// ARN matches that user whatever its path. Nothing else matches: no
// prefixes, no wildcards, no account root standing for the whole account.
func IsApprover(approver, caller string) bool {
	a, err := approval.ParsePrincipal(approver)
	if err != nil {
		return false
	}
	c, err := approval.ParsePrincipal(caller)
	if err != nil {
		return false
	}
	if a.ARN == c.ARN {
		return true
	}
	switch a.Kind {
	case approval.KindRole:
		return c.Kind == approval.KindAssumedRole && a.RoleKey() == c.RoleKey()
	case approval.KindUser:
		return c.Kind == approval.KindUser && a.RoleKey() == c.RoleKey()
	}
	return false
}

// anyApprover reports whether caller matches one of approvers.
func anyApprover(approvers []string, caller string) bool {
	for _, a := range approvers {
		if IsApprover(a, caller) {
			return true
		}
	}
	return false
}

// SamePerson reports whether caller is, or acts as, the requester — the
// four-eyes check — or whether two approvals of one gate came from one
// person. Sessions of one role count as one person: session names are
// chosen by whoever assumes the role, so they cannot tell people apart —
// except the roles of IAM Identity Center permission sets, whose session
// names Identity Center sets to the user's name. Across roles, the session name is the person: IAM Identity Center
// names every session after its user, so
// assumed-role/AWSReservedSSO_Responder_…/alice and
// assumed-role/AWSReservedSSO_IncidentCommander_…/alice are one person
// holding two permission sets, in any account. Two sessions with the same
// name (compared case-insensitively), or a session named like an IAM user,
// are taken for one person: a false match only blocks an approval, the
// safe side. A requester that is not an ARN (an e-mail address) matches a
// session or user of that name.
func SamePerson(requester, caller string) bool {
	requester = strings.TrimSpace(requester)
	if requester == "" || caller == "" {
		return false
	}
	if strings.EqualFold(requester, caller) {
		return true
	}
	c, err := approval.ParsePrincipal(caller)
	if err != nil {
		return false
	}
	if r, err := approval.ParsePrincipal(requester); err == nil {
		rn, cn := personName(r), personName(c)
		if rn != "" && strings.EqualFold(rn, cn) {
			return true
		}
		if r.RoleKey() != "" && r.RoleKey() == c.RoleKey() {
			// Sessions of one role are one person, unless IAM Identity
			// Center named them: then their names are its users'.
			return !(identityCenterSession(r) && identityCenterSession(c))
		}
		return false
	}
	if strings.HasPrefix(requester, "arn:") {
		return false
	}
	return strings.EqualFold(personName(c), requester)
}

// identityCenterSession reports whether p is a session of a role IAM
// Identity Center created for a permission set (AWSReservedSSO_<set>_<id>).
// Identity Center names those sessions after the signed-in user, and the
// roles trust only its SAML provider, so nobody picks another session name
// for them: two such sessions with different names are two people.
// (https://docs.aws.amazon.com/singlesignon/latest/userguide/referencingpermissionsets.html)
func identityCenterSession(p approval.Principal) bool {
	return p.Kind == approval.KindAssumedRole && strings.HasPrefix(p.Name, "AWSReservedSSO_")
}

// personName is the name that stands for a person in a principal: the
// session name of an assumed role, the name of a user; "" for a role or the
// account root, which name no one person.
func personName(p approval.Principal) string {
	switch p.Kind {
	case approval.KindAssumedRole:
		return p.Session
	case approval.KindUser:
		return p.Name
	}
	return ""
}
