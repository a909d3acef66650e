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
// four-eyes check. Sessions of one role count as one person: session names
// are chosen by whoever assumes the role, so they cannot tell people
// apart. A requester that is not an ARN (an e-mail address) matches a
// session or user of that name, as IAM Identity Center names sessions after
// the user.
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
		return r.RoleKey() != "" && r.RoleKey() == c.RoleKey()
	}
	if strings.HasPrefix(requester, "arn:") {
		return false
	}
	return strings.EqualFold(c.Session, requester) || (c.Kind == approval.KindUser && strings.EqualFold(c.Name, requester))
}
