package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
)

// Config is everything a deployment chooses. It comes from CDK context
// (cdk.json, `-c key=value`), so one template shape serves every account.
type Config struct {
	// Approvers are IAM user or role ARNs that may decide approval gates
	// which name none (IRFLOW_DEFAULT_APPROVERS); each may call the approval URL.
	Approvers []string
	// EvidenceRetentionDays is the evidence bucket's default Object Lock retention.
	EvidenceRetentionDays int
	// ObjectLockMode is GOVERNANCE (privileged users may shorten it) or
	// COMPLIANCE (nobody can, not even the root user).
	ObjectLockMode string
	// NotificationEmails subscribe to the topic (notify, approvals, alarms).
	NotificationEmails []string
	// RemovalPolicy is "retain" (default: keep the evidence, the key, the
	// tables with deletion protection) or "destroy" (test accounts).
	RemovalPolicy string
	// LogRetentionDays keeps function and state machine logs; a value
	// CloudWatch Logs accepts.
	LogRetentionDays int
	// StackName is the CloudFormation stack's name.
	StackName string
	// NamePrefix names the state machines (<prefix>-<playbook>).
	NamePrefix string
	// AssetDir holds <function>/bootstrap for every function (make build).
	AssetDir string
	// PlaybookDir holds the playbooks compiled at synth time.
	PlaybookDir string
	// AVMLURL and AVMLSha256 locate the memory acquisition tool (optional).
	AVMLURL, AVMLSha256 string
	// GuardDutyDetectorID is the detector resolve-target asks to confirm
	// findings (a delegated administrator's sees its members'); empty: the
	// detector the finding's ARN names.
	GuardDutyDetectorID string
	// MemberAccounts are the member accounts (Organizations) whose VPC
	// flow logs enable-flow-logs delivers into the evidence bucket: the
	// bucket and key policies let delivery.logs.amazonaws.com write for
	// their log sources too (docs/deploy.md, "Organizations").
	MemberAccounts []string
	// TaskRolePath is the IAM path of the ECS task roles irflow may put a
	// deny on (revoke-task-role-sessions): the catalog's ${TaskRolePath}.
	// irflow's own roles live under RolePath, which it can never match.
	TaskRolePath string
}

// RolePath is the IAM path of every role the stack creates: apart from the
// task roles irflow may change.
const RolePath = "/irflow/"

// contextReader is the part of a construct node config needs, so tests can
// hand it a map.
type contextReader interface {
	TryGetContext(key *string) interface{}
}

// Context keys, as written in cdk.json.
const (
	ctxApprovers        = "approvers"
	ctxRetentionDays    = "evidenceRetentionDays"
	ctxObjectLockMode   = "objectLockMode"
	ctxEmails           = "notificationEmails"
	ctxRemovalPolicy    = "removalPolicy"
	ctxLogRetentionDays = "logRetentionDays"
	ctxStackName        = "stackName"
	ctxNamePrefix       = "namePrefix"
	ctxAssetDir         = "assetDir"
	ctxPlaybookDir      = "playbookDir"
	ctxAVMLURL          = "avmlUrl"
	ctxAVMLSha256       = "avmlSha256"
	ctxDetectorID       = "guardDutyDetectorId"
	ctxTaskRolePath     = "taskRolePath"
	ctxMemberAccounts   = "memberAccounts"
)

var (
	principalARN = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:(root|(user|role)/[\w+=,.@/-]+)$`)
	emailAddress = regexp.MustCompile(`^[^@\s,]+@[^@\s,]+\.[^@\s,]+$`)
	namePrefix   = regexp.MustCompile(`^[a-z][a-z0-9-]{0,15}$`)
	stackName    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,127}$`)
	sha256Hex    = regexp.MustCompile(`^[0-9a-f]{64}$`)
	detectorID   = regexp.MustCompile(`^[A-Za-z0-9]{1,300}$`)
	// iamPath is an IAM path of at least one level ("Path" in IAM
	// identifiers: / followed by segments, each ending in /), without the
	// policy wildcards * and ?, which would widen the resource it goes in.
	iamPath = regexp.MustCompile(`^/([\x21-\x29\x2b-\x2e\x30-\x3e\x40-\x7e]+/)+$`)
)

// ConfigFromContext reads and validates the deployment's context. Relative
// directories are taken from root (the folder of cdk.json).
func ConfigFromContext(ctx contextReader, root string) (Config, error) {
	c := Config{
		EvidenceRetentionDays: 365,
		ObjectLockMode:        "GOVERNANCE",
		RemovalPolicy:         "retain",
		LogRetentionDays:      365,
		StackName:             "Irflow",
		NamePrefix:            "irflow",
		AssetDir:              filepath.Join(root, "build", "tasks"),
		PlaybookDir:           filepath.Join(root, "workflows"),
		TaskRolePath:          "/ecs-tasks/",
	}
	var errs []string
	fail := func(key, format string, args ...any) {
		errs = append(errs, fmt.Sprintf("context %s: %s", key, fmt.Sprintf(format, args...)))
	}
	str := func(key string, into *string) {
		switch v := ctx.TryGetContext(&key).(type) {
		case nil:
		case string:
			*into = strings.TrimSpace(v)
		default:
			fail(key, "want a string, got %v", v)
		}
	}
	num := func(key string, into *int) {
		switch v := ctx.TryGetContext(&key).(type) {
		case nil:
		case float64:
			*into = int(v)
			if float64(*into) != v {
				fail(key, "want a whole number, got %v", v)
			}
		case string:
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				fail(key, "want a whole number, got %q", v)
			}
			*into = n
		default:
			fail(key, "want a number, got %v", v)
		}
	}
	list := func(key string) []string {
		out, err := stringList(ctx.TryGetContext(&key))
		if err != nil {
			fail(key, "%v", err)
		}
		return out
	}

	c.Approvers = list(ctxApprovers)
	c.NotificationEmails = list(ctxEmails)
	c.MemberAccounts = list(ctxMemberAccounts)
	for _, a := range c.MemberAccounts {
		if !accountID.MatchString(a) {
			fail(ctxMemberAccounts, "%q is not a 12-digit account id", a)
		}
	}
	num(ctxRetentionDays, &c.EvidenceRetentionDays)
	num(ctxLogRetentionDays, &c.LogRetentionDays)
	str(ctxObjectLockMode, &c.ObjectLockMode)
	str(ctxRemovalPolicy, &c.RemovalPolicy)
	str(ctxStackName, &c.StackName)
	str(ctxNamePrefix, &c.NamePrefix)
	str(ctxAssetDir, &c.AssetDir)
	str(ctxPlaybookDir, &c.PlaybookDir)
	str(ctxAVMLURL, &c.AVMLURL)
	str(ctxAVMLSha256, &c.AVMLSha256)
	str(ctxDetectorID, &c.GuardDutyDetectorID)
	str(ctxTaskRolePath, &c.TaskRolePath)

	for _, a := range c.Approvers {
		if !principalARN.MatchString(a) {
			fail(ctxApprovers, "%q is not an IAM user, role or root ARN", a)
		}
	}
	for _, e := range c.NotificationEmails {
		if !emailAddress.MatchString(e) {
			fail(ctxEmails, "%q is not an e-mail address", e)
		}
	}
	if c.EvidenceRetentionDays < 1 || c.EvidenceRetentionDays > 36500 {
		fail(ctxRetentionDays, "want 1 to 36500 days, got %d", c.EvidenceRetentionDays)
	}
	c.ObjectLockMode = strings.ToUpper(c.ObjectLockMode)
	if c.ObjectLockMode != "GOVERNANCE" && c.ObjectLockMode != "COMPLIANCE" {
		fail(ctxObjectLockMode, "want GOVERNANCE or COMPLIANCE, got %q", c.ObjectLockMode)
	}
	c.RemovalPolicy = strings.ToLower(c.RemovalPolicy)
	if c.RemovalPolicy != "retain" && c.RemovalPolicy != "destroy" {
		fail(ctxRemovalPolicy, "want retain or destroy, got %q", c.RemovalPolicy)
	}
	if _, ok := logRetention[c.LogRetentionDays]; !ok {
		fail(ctxLogRetentionDays, "%d is not a CloudWatch Logs retention (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, ... 3653)", c.LogRetentionDays)
	}
	if !namePrefix.MatchString(c.NamePrefix) {
		fail(ctxNamePrefix, "%q does not match %s", c.NamePrefix, namePrefix)
	}
	if !stackName.MatchString(c.StackName) {
		fail(ctxStackName, "%q is not a CloudFormation stack name", c.StackName)
	}
	if c.GuardDutyDetectorID != "" && !detectorID.MatchString(c.GuardDutyDetectorID) {
		fail(ctxDetectorID, "want a GuardDuty detector id (1 to 300 letters and digits)")
	}
	if c.AVMLSha256 != "" && !sha256Hex.MatchString(c.AVMLSha256) {
		fail(ctxAVMLSha256, "want 64 lower-case hex digits")
	}
	if c.AVMLURL != "" && !strings.HasPrefix(c.AVMLURL, "https://") {
		fail(ctxAVMLURL, "want an https:// URL")
	}
	switch {
	case !iamPath.MatchString(c.TaskRolePath) || len(c.TaskRolePath) > 512:
		fail(ctxTaskRolePath, "%q is not an IAM path below the root (/name/.../)", c.TaskRolePath)
	case strings.HasPrefix(c.TaskRolePath, RolePath) || strings.HasPrefix(RolePath, c.TaskRolePath):
		fail(ctxTaskRolePath, "%q would cover irflow's own roles (under %s): the responder must never revoke itself", c.TaskRolePath, RolePath)
	}
	c.AssetDir = fromRoot(root, c.AssetDir)
	c.PlaybookDir = fromRoot(root, c.PlaybookDir)
	if len(errs) > 0 {
		return c, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return c, nil
}

// stringList accepts a JSON list (cdk.json), a JSON list in a string or a
// comma-separated string (`-c approvers=a,b`).
func stringList(v any) ([]string, error) {
	var raw []any
	switch v := v.(type) {
	case nil:
		return nil, nil
	case []any:
		raw = v
	case string:
		s := strings.TrimSpace(v)
		if strings.HasPrefix(s, "[") {
			if err := json.Unmarshal([]byte(s), &raw); err != nil {
				return nil, fmt.Errorf("bad JSON list: %v", err)
			}
			break
		}
		for _, part := range strings.Split(s, ",") {
			raw = append(raw, part)
		}
	default:
		return nil, fmt.Errorf("want a list of strings, got %v", v)
	}
	var out []string
	for _, item := range raw {
		s, ok := item.(string)
		if !ok {
			return nil, fmt.Errorf("want strings, got %v", item)
		}
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

func fromRoot(root, dir string) string {
	if filepath.IsAbs(dir) {
		return dir
	}
	return filepath.Join(root, dir)
}

// RepoRoot returns the nearest folder at or above dir holding cdk.json: the
// CLI runs the app from infra/, but paths in context are the repository's.
func RepoRoot(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "cdk.json")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

// logRetention maps the retention periods CloudWatch Logs accepts to CDK's enum.
var logRetention = map[int]awslogs.RetentionDays{
	1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS, 5: awslogs.RetentionDays_FIVE_DAYS,
	7: awslogs.RetentionDays_ONE_WEEK, 14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
	60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS, 120: awslogs.RetentionDays_FOUR_MONTHS,
	150: awslogs.RetentionDays_FIVE_MONTHS, 180: awslogs.RetentionDays_SIX_MONTHS, 365: awslogs.RetentionDays_ONE_YEAR,
	400: awslogs.RetentionDays_THIRTEEN_MONTHS, 545: awslogs.RetentionDays_EIGHTEEN_MONTHS, 731: awslogs.RetentionDays_TWO_YEARS,
	1096: awslogs.RetentionDays_THREE_YEARS, 1827: awslogs.RetentionDays_FIVE_YEARS, 2192: awslogs.RetentionDays_SIX_YEARS,
	2557: awslogs.RetentionDays_SEVEN_YEARS, 2922: awslogs.RetentionDays_EIGHT_YEARS, 3288: awslogs.RetentionDays_NINE_YEARS,
	3653: awslogs.RetentionDays_TEN_YEARS,
}
