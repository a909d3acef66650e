package approval

import (
	"fmt"
	"strings"
)

// Principal kinds irflow recognises in approver and caller ARNs.
const (
	KindUser        = "user"         // arn:P:iam::A:user/path/Name
	KindRole        = "role"         // arn:P:iam::A:role/path/Name
	KindAssumedRole = "assumed-role" // arn:P:sts::A:assumed-role/Name/session
	KindRoot        = "root"         // arn:P:iam::A:root
)

// Principal is an IAM principal ARN taken apart.
type Principal struct {
	ARN       string
	Partition string
	Account   string
	Kind      string
	// Name is the user or role name, without its path.
	Name string
	// Session is the role session name of an assumed-role ARN.
	Session string
}

// ParsePrincipal parses an IAM user, role, root or STS assumed-role ARN.
// Anything else (a group, a federated user, an e-mail address, a wildcard)
// is an error: it cannot name a caller.
func ParsePrincipal(arn string) (Principal, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return Principal{}, fmt.Errorf("%q is not an ARN", arn)
	}
	p := Principal{ARN: arn, Partition: parts[1], Account: parts[4]}
	service, region, resource := parts[2], parts[3], parts[5]
	if p.Partition == "" || !isAccount(p.Account) || region != "" {
		return Principal{}, fmt.Errorf("%q is not an IAM principal ARN (partition, global region, 12-digit account)", arn)
	}
	if strings.ContainsAny(resource, "*?") {
		return Principal{}, fmt.Errorf("%q: wildcards do not name a principal", arn)
	}
	segs := strings.Split(resource, "/")
	switch {
	case service == "iam" && resource == "root":
		p.Kind = KindRoot
	case service == "iam" && (segs[0] == "user" || segs[0] == "role") && len(segs) >= 2:
		p.Kind, p.Name = segs[0], segs[len(segs)-1]
	case service == "sts" && segs[0] == "assumed-role" && len(segs) == 3:
		p.Kind, p.Name, p.Session = KindAssumedRole, segs[1], segs[2]
	default:
		return Principal{}, fmt.Errorf("%q is not an IAM user, role or assumed-role ARN", arn)
	}
	for _, s := range segs[1:] {
		if s == "" {
			return Principal{}, fmt.Errorf("%q has an empty path segment", arn)
		}
	}
	return p, nil
}

// RoleKey identifies the principal for comparisons: a role and its sessions
// share one key, a user has its own; "" for root.
func (p Principal) RoleKey() string {
	switch p.Kind {
	case KindRole, KindAssumedRole:
		return strings.Join([]string{p.Partition, p.Account, "role", p.Name}, "|")
	case KindUser:
		return strings.Join([]string{p.Partition, p.Account, "user", p.Name}, "|")
	}
	return ""
}

func isAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
