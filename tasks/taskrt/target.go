package taskrt

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/irflow/irflow/tasks/catalog"
	"github.com/irflow/irflow/tasks/contract"
)

// The responder roles of member accounts (tasks/catalog).
const (
	ResponderRolePath   = catalog.ResponderRolePath
	ResponderRolePrefix = catalog.ResponderRolePrefix
)

// ResponderRoleName is the name of the action's role in a member account.
func ResponderRoleName(action string) string { return catalog.ResponderRoleName(action) }

// ResponderRoleARN is the ARN of the action's role in a member account.
func ResponderRoleARN(partition, account, action string) string {
	if partition == "" {
		partition = "aws"
	}
	return fmt.Sprintf("arn:%s:iam::%s:role%s%s", partition, account, ResponderRolePath, ResponderRoleName(action))
}

// sessionChar is what a RoleSessionName may hold: [\w+=,.@-], 2 to 64
// characters (AssumeRole, "RoleSessionName" —
// https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html).
var sessionChar = regexp.MustCompile(`[^\w+=,.@-]`)

// SessionName is the RoleSessionName of a case's calls in a member account:
// the case id, invalid characters replaced by '-', clipped to 64. CloudTrail
// in the member account records it in the assumed role's ARN
// (arn:aws:sts::MEMBER:assumed-role/irflow-responder-ACTION/CASE), so the
// member's own trail shows which case did what.
func SessionName(caseID string) string {
	s := sessionChar.ReplaceAllString(caseID, "-")
	if len(s) > 64 {
		s = s[:64]
	}
	for len(s) < 2 {
		s += "-"
	}
	return s
}

// STSAPI is the part of STS the targets use.
type STSAPI interface {
	AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, opts ...func(*sts.Options)) (*sts.AssumeRoleOutput, error)
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, opts ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// Target is where a step acts: the incident's account and region.
type Target struct {
	Partition, Account, Region string
}

// Targets gives a step the AWS config of its target. The home account is
// where irflow runs (the GuardDuty administrator): its stores (evidence
// bucket, tables, topic, KMS keys) always use Home. A target in the home
// account and region uses Home as is; another region of the home account, a
// copy of Home for that region; another account, the credentials of that
// account's responder role for the action (sts:AssumeRole, session name =
// the case id).
type Targets struct {
	Home aws.Config
	// HomeAccount is IRFLOW_HOME_ACCOUNT; "" asks STS GetCallerIdentity,
	// once per process.
	HomeAccount string
	STS         STSAPI

	mu   sync.Mutex
	home string
}

// NewTargets returns the targets of the deployment: home config and account.
func NewTargets(home aws.Config, env Env) *Targets {
	return &Targets{Home: home, HomeAccount: env.HomeAccount, STS: sts.NewFromConfig(home)}
}

// Account returns the home account.
func (t *Targets) Account(ctx context.Context) (string, error) {
	if t.HomeAccount != "" {
		return t.HomeAccount, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.home == "" {
		// Once per process; a failed look-up is retried by the next invocation.
		out, err := t.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return "", contract.AWSError("sts:GetCallerIdentity", err)
		}
		t.home = aws.ToString(out.Account)
	}
	return t.home, nil
}

// Config returns the config for action's workload calls on target, and
// whether it differs from Home. For another account it assumes the
// responder role now, so that a member account without it fails the step
// before anything is changed, and the credentials are cached for the rest
// of the config's use (one invocation).
func (t *Targets) Config(ctx context.Context, action, caseID string, target Target) (aws.Config, bool, error) {
	home, err := t.Account(ctx)
	if err != nil {
		return aws.Config{}, false, err
	}
	region := target.Region
	if region == "" {
		region = t.Home.Region
	}
	if target.Account == "" || target.Account == home {
		if region == t.Home.Region {
			return t.Home, false, nil
		}
		cfg := t.Home.Copy()
		cfg.Region = region
		return cfg, true, nil
	}
	role := ResponderRoleARN(target.Partition, target.Account, action)
	creds := aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(t.STS, role, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = SessionName(caseID)
	}))
	if _, err := creds.Retrieve(ctx); err != nil {
		return aws.Config{}, false, assumeError(target.Account, role, err)
	}
	cfg := t.Home.Copy()
	cfg.Region = region
	cfg.Credentials = creds
	return cfg, true, nil
}

// assumeError names the member account and the role irflow could not
// assume. STS answers AccessDenied both for a role that does not exist and
// for one that does not trust the caller: either way the member stack is
// missing or not this deployment's.
func assumeError(account, role string, err error) error {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "AccessDenied", "AccessDeniedException", "NoSuchEntity", "InvalidClientTokenId", "RegionDisabledException":
			return &contract.PreconditionFailedError{Reason: fmt.Sprintf(
				"account %s: cannot assume responder role %s (is the irflow member stack deployed there, trusting this deployment?): %s: %s",
				account, role, api.ErrorCode(), api.ErrorMessage())}
		}
	}
	return contract.AWSError("sts:AssumeRole "+role, err)
}

type targetKey struct{}

// WithTarget returns ctx carrying the invocation's target; the runtime
// sets it from the incident, so evidence can name where it came from.
func WithTarget(ctx context.Context, t Target) context.Context {
	return context.WithValue(ctx, targetKey{}, t)
}

// TargetFrom returns the target WithTarget put in ctx.
func TargetFrom(ctx context.Context) (Target, bool) {
	t, ok := ctx.Value(targetKey{}).(Target)
	return t, ok
}
