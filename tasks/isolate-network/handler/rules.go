package handler

import (
	"errors"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

// rule is one security group rule with a single destination, so rule sets
// can be compared and changed one destination at a time.
type rule struct {
	Proto      string
	From, To   *int32
	CIDR       string // IPv4 CIDR
	CIDRv6     string
	PrefixList string
	Group      string
	Note       string // description; not part of the rule's identity
}

// https returns a TCP 443 rule; set exactly one destination on it.
func https(note string) rule {
	return rule{Proto: "tcp", From: aws.Int32(443), To: aws.Int32(443), Note: note}
}

// key identifies a rule regardless of its description.
func (r rule) key() string {
	port := func(p *int32) string {
		if p == nil {
			return "*"
		}
		return fmt.Sprint(*p)
	}
	return fmt.Sprintf("%s/%s-%s>%s|%s|%s|%s", r.Proto, port(r.From), port(r.To), r.CIDR, r.CIDRv6, r.PrefixList, r.Group)
}

// String is the rule as a reader would say it, e.g. "tcp/443 to 10.0.1.5/32".
func (r rule) String() string {
	dest := r.CIDR + r.CIDRv6 + r.PrefixList + r.Group
	port := "all"
	if r.From != nil && r.To != nil {
		port = fmt.Sprint(*r.From)
		if *r.To != *r.From {
			port += "-" + fmt.Sprint(*r.To)
		}
	}
	proto := r.Proto
	if proto == "-1" {
		proto = "all"
	}
	return fmt.Sprintf("%s/%s to %s", proto, port, dest)
}

// permission is the rule as the EC2 API takes it.
func (r rule) permission() ec2types.IpPermission {
	p := ec2types.IpPermission{IpProtocol: aws.String(r.Proto), FromPort: r.From, ToPort: r.To}
	desc := func() *string {
		if r.Note == "" {
			return nil
		}
		return aws.String(r.Note)
	}
	switch {
	case r.CIDR != "":
		p.IpRanges = []ec2types.IpRange{{CidrIp: aws.String(r.CIDR), Description: desc()}}
	case r.CIDRv6 != "":
		p.Ipv6Ranges = []ec2types.Ipv6Range{{CidrIpv6: aws.String(r.CIDRv6), Description: desc()}}
	case r.PrefixList != "":
		p.PrefixListIds = []ec2types.PrefixListId{{PrefixListId: aws.String(r.PrefixList), Description: desc()}}
	case r.Group != "":
		p.UserIdGroupPairs = []ec2types.UserIdGroupPair{{GroupId: aws.String(r.Group), Description: desc()}}
	}
	return p
}

// explode splits the API's permissions into single-destination rules.
func explode(perms []ec2types.IpPermission) []rule {
	var out []rule
	for _, p := range perms {
		base := rule{Proto: aws.ToString(p.IpProtocol), From: p.FromPort, To: p.ToPort}
		out = perDestination(out, base, p.IpRanges, func(x *rule, r ec2types.IpRange) { x.CIDR = aws.ToString(r.CidrIp) })
		out = perDestination(out, base, p.Ipv6Ranges, func(x *rule, r ec2types.Ipv6Range) { x.CIDRv6 = aws.ToString(r.CidrIpv6) })
		out = perDestination(out, base, p.PrefixListIds, func(x *rule, r ec2types.PrefixListId) { x.PrefixList = aws.ToString(r.PrefixListId) })
		out = perDestination(out, base, p.UserIdGroupPairs, func(x *rule, r ec2types.UserIdGroupPair) { x.Group = aws.ToString(r.GroupId) })
	}
	return out
}

// perDestination appends to out one copy of base per destination, set on it by set.
func perDestination[T any](out []rule, base rule, dsts []T, set func(*rule, T)) []rule {
	for _, d := range dsts {
		x := base
		set(&x, d)
		out = append(out, x)
	}
	return out
}

// diff returns the rules of want missing from have, and those of have not in want.
func diff(have, want []rule) (add, remove []rule) {
	in := func(rs []rule) map[string]bool {
		m := map[string]bool{}
		for _, r := range rs {
			m[r.key()] = true
		}
		return m
	}
	h, w := in(have), in(want)
	for _, r := range want {
		if !h[r.key()] {
			add = append(add, r)
			h[r.key()] = true
		}
	}
	for _, r := range have {
		if !w[r.key()] {
			remove = append(remove, r)
			w[r.key()] = true
		}
	}
	return add, remove
}

func permissions(rs []rule) []ec2types.IpPermission {
	out := make([]ec2types.IpPermission, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.permission())
	}
	return out
}

func ruleStrings(rs []rule) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.String())
	}
	sort.Strings(out)
	return out
}

// apiCode is the AWS error code of err, or "".
func apiCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// denied reports whether err is an authorization failure.
func denied(err error) bool {
	switch apiCode(err) {
	case "UnauthorizedOperation", "AccessDenied", "AccessDeniedException":
		return true
	}
	return false
}
