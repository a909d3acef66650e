package worlds

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/irflow/irflow/internal/mototest"
)

// Organization worlds (issue 18, docs/design.md "Test worlds"): irflow runs
// in the GuardDuty administrator account, the account cfg acts in, with
// its stores there; the ECS world is in a member account of one moto
// server. moto gives the credentials of an sts:AssumeRole the role's
// account, so one server holds both accounts; the world is seeded, read
// back and judged with the member account's credentials (World.Cfg).
const (
	// MemberAccount has irflow's member stack: a responder role per
	// action (tasks/catalog, the derivation infra/member.go uses).
	MemberAccount = "222233334444"
	// NoStackAccount is a GuardDuty member without irflow's member stack.
	NoStackAccount = "333344445555"
)

// memberSpec is an organization world: single-account worlds (bases) built
// in a member account, with or without the member stack.
type memberSpec struct {
	summary string
	account string
	stack   bool
	// bases are the single-account worlds the bench runs in the member
	// account, one case each: "NAME" is "NAME/" + bases[0].
	bases []string
}

var memberSpecs = map[string]memberSpec{
	"member-account": {"the fargate and ec2-bridge worlds in member account " + MemberAccount +
		" with irflow's member stack (a responder role per action); irflow and its stores in the administrator account",
		MemberAccount, true, []string{"fargate", "ec2-bridge"}},
	"member-no-stack": {"the fargate world in member account " + NoStackAccount +
		" without irflow's member stack: the response must fail before changing anything",
		NoStackAccount, false, []string{"fargate"}},
}

// MemberNames lists the organization worlds, sorted.
func MemberNames() []string {
	return slices.Sorted(maps.Keys(memberSpecs))
}

// Cases are the worlds the bench builds for --world name, one case each:
// an organization world is each of its single-account worlds in the member
// account ("member-account/fargate", "member-account/ec2-bridge"); any
// other world is itself.
func Cases(name string) []string {
	s, ok := memberSpecs[name]
	if !ok {
		return []string{name}
	}
	out := make([]string, len(s.bases))
	for i, b := range s.bases {
		out[i] = name + "/" + b
	}
	return out
}

// InMemberAccount reports whether the world name (or --world name) is an
// organization world: the ECS world in a member account.
func InMemberAccount(name string) bool {
	_, _, ok := memberOf(name)
	return ok
}

// memberOf splits "member-account/fargate" (or "member-account") into the
// organization world and the base world.
func memberOf(name string) (memberSpec, string, bool) {
	org, base, _ := strings.Cut(name, "/")
	s, ok := memberSpecs[org]
	if !ok {
		return memberSpec{}, "", false
	}
	if base == "" {
		base = s.bases[0]
	}
	if _, known := specs[base]; !known {
		return memberSpec{}, "", false
	}
	return s, base, true
}

// buildMember seeds the base world in the member account and, with the
// member stack, its responder roles there. cfg acts in the administrator
// account (through the strict layer), direct in it at moto itself.
func buildMember(ctx context.Context, cfg, direct aws.Config, name string, s memberSpec, base string) (*World, error) {
	home, err := callerAccount(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if home == s.account {
		return nil, fmt.Errorf("the administrator account %s is the member account: use a single-account world", home)
	}
	// The member's credentials come from moto itself: the strict layer
	// refuses AssumeRole of a role the account lacks, and irflow-test-admin
	// stands for whoever administers the member account, not irflow.
	member, err := mototest.AccountConfig(ctx, cfg, aws.ToString(direct.BaseEndpoint), s.account)
	if err != nil {
		return nil, err
	}
	memberDirect := member.Copy()
	memberDirect.BaseEndpoint = direct.BaseEndpoint
	// Resource names take the world's name: no '/' in a cluster's or role's.
	b := newBuilder(member, strings.ReplaceAll(name, "/", "-"))
	b.w.Name = name
	b.direct = memberDirect
	if err := specs[base].build(ctx, b); err != nil {
		return nil, err
	}
	w := b.w
	if w.Account != s.account {
		return nil, fmt.Errorf("seeded in account %s, not the member account %s", w.Account, s.account)
	}
	w.ResponderAccount = home
	if s.stack {
		if w.ResponderRoles, err = mototest.CreateResponderRoles(ctx, member, home); err != nil {
			return nil, err
		}
		if len(w.ResponderRoles) == 0 {
			return nil, fmt.Errorf("the member stack has no responder role")
		}
	}
	return w, nil
}

// MemberStack reports whether the world's account has irflow's member
// stack: always for a single-account world (irflow acts with its own
// credentials), for an organization world when its responder roles exist.
func (w *World) MemberStack() bool { return w.ResponderAccount == "" || len(w.ResponderRoles) > 0 }

// callerAccount is the account cfg acts in.
func callerAccount(ctx context.Context, cfg aws.Config) (string, error) {
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("the administrator account: %w", err)
	}
	return aws.ToString(out.Account), nil
}
