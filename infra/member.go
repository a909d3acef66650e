package main

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/irflow/irflow/tasks/catalog"
)

// The member stack (docs/deploy.md, "Organizations"): in every member
// account, one responder role per action that acts on the target, which
// that action's Lambda role in the administrator account assumes
// (tasks/taskrt Targets). Deployed once per member account, for every
// region irflow responds in, with CloudFormation StackSets from the
// administrator (or `cdk deploy` into one account).

// Context keys of the member stack.
const (
	ctxAdminAccount   = "adminAccount"
	ctxOrganizationID = "organizationId"
	ctxRegions        = "regions"
)

var (
	accountID      = regexp.MustCompile(`^[0-9]{12}$`)
	organizationID = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	regionName     = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]$`)
)

// MemberConfig is the member stack's configuration.
type MemberConfig struct {
	// AdminAccount runs irflow (the GuardDuty delegated administrator).
	AdminAccount string
	// OrganizationID is the organization both accounts belong to
	// (aws:PrincipalOrgID in every trust policy).
	OrganizationID string
	// Regions are the regions irflow responds in: one administrator stack
	// in each, and the responder roles act in each.
	Regions []string
	// NamePrefix is the administrator stack's namePrefix.
	NamePrefix string
	// TaskRolePath is the administrator stack's taskRolePath.
	TaskRolePath string
	StackName    string
}

// MemberConfigFromContext reads the member stack's context: adminAccount
// set means the app synthesizes the member stack.
func MemberConfigFromContext(ctx contextReader, root string) (MemberConfig, bool, error) {
	key := ctxAdminAccount
	if ctx.TryGetContext(&key) == nil {
		return MemberConfig{}, false, nil
	}
	base, err := ConfigFromContext(ctx, root)
	if err != nil {
		return MemberConfig{}, true, err
	}
	m := MemberConfig{NamePrefix: base.NamePrefix, TaskRolePath: base.TaskRolePath, StackName: base.StackName + "Member"}
	var errs []string
	str := func(key string) string {
		v, _ := ctx.TryGetContext(&key).(string)
		return strings.TrimSpace(v)
	}
	m.AdminAccount, m.OrganizationID = str(ctxAdminAccount), str(ctxOrganizationID)
	key = ctxRegions
	m.Regions, err = stringList(ctx.TryGetContext(&key))
	if err != nil {
		errs = append(errs, fmt.Sprintf("context %s: %v", ctxRegions, err))
	}
	if !accountID.MatchString(m.AdminAccount) {
		errs = append(errs, fmt.Sprintf("context %s: %q is not a 12-digit account id", ctxAdminAccount, m.AdminAccount))
	}
	if !organizationID.MatchString(m.OrganizationID) {
		errs = append(errs, fmt.Sprintf("context %s: %q is not an organization id (o-...)", ctxOrganizationID, m.OrganizationID))
	}
	if len(m.Regions) == 0 {
		errs = append(errs, fmt.Sprintf("context %s: name the regions irflow responds in (one administrator stack in each)", ctxRegions))
	}
	for _, r := range m.Regions {
		if !regionName.MatchString(r) {
			errs = append(errs, fmt.Sprintf("context %s: %q is not a region", ctxRegions, r))
		}
	}
	if len(errs) > 0 {
		return m, true, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return m, true, nil
}

// AdminRoleName is the name of an action's Lambda role in the
// administrator stack of a region: IAM names are global, so the region is
// in it (one administrator stack per region).
func AdminRoleName(prefix, action, region string) string {
	return prefix + "-" + action + "-" + region
}

// responderPattern is the member role of an action in any account: what
// the administrator Lambda of that action may assume.
func responderPattern(partition, action string) string {
	return "arn:" + partition + ":iam::*:role" + catalog.ResponderRolePath + catalog.ResponderRoleName(action)
}

// NewMemberStack creates the responder roles of a member account.
func NewMemberStack(scope constructs.Construct, id string, props *awscdk.StackProps, m MemberConfig) awscdk.Stack {
	p := awscdk.StackProps{}
	if props != nil {
		p = *props
	}
	// No assets and no bootstrap: StackSets deploy the template into
	// accounts that were never bootstrapped (no BootstrapVersion check).
	p.Synthesizer = awscdk.NewBootstraplessSynthesizer(nil)
	stack := awscdk.NewStack(scope, &id, &p)
	for _, a := range catalog.All() {
		if !a.ActsInTarget() {
			continue
		}
		var admins []string
		for _, r := range m.Regions {
			admins = append(admins, "arn:"+*stack.Partition()+":iam::"+m.AdminAccount+":role"+RolePath+AdminRoleName(m.NamePrefix, a.Name, r))
		}
		// The administrator account as principal, narrowed to exactly the
		// action's Lambda roles (aws:PrincipalArn) in the organization
		// (aws:PrincipalOrgID): naming the roles as principals would make
		// the member stack fail wherever an administrator stack is not
		// deployed yet.
		trust := awsiam.NewAccountPrincipal(jsii.String(m.AdminAccount)).WithConditions(&map[string]any{
			"ArnEquals":    map[string]any{"aws:PrincipalArn": admins},
			"StringEquals": map[string]any{"aws:PrincipalOrgID": m.OrganizationID},
		})
		statements, findings := memberStatements(stack, m, a)
		role := awsiam.NewRole(stack, jsii.String(pascal(a.Name)+"Responder"), &awsiam.RoleProps{
			RoleName:    jsii.String(catalog.ResponderRoleName(a.Name)),
			Path:        jsii.String(catalog.ResponderRolePath),
			AssumedBy:   trust,
			Description: jsii.String("irflow " + a.Name + " in this account: the catalog's workload statements, for the administrator's " + a.Name + " Lambda"),
			InlinePolicies: &map[string]awsiam.PolicyDocument{
				"catalog": awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{Statements: &statements}),
			},
		})
		if len(findings) > 0 {
			suppressCatalogWildcards(role, a.Name, findings)
		}
	}
	return stack
}

// memberStatements are the action's workload statements (catalog
// WorkloadIAM, the same derivation as the administrator's roles), each
// resource pattern once per region irflow responds in.
func memberStatements(stack awscdk.Stack, m MemberConfig, a *catalog.Action) ([]awsiam.PolicyStatement, []string) {
	var in []catalog.Statement
	for _, st := range a.WorkloadIAM() {
		var res []string
		seen := map[string]bool{}
		for _, pattern := range st.Resources {
			for _, region := range m.Regions {
				if r := strings.ReplaceAll(pattern, "${Region}", region); !seen[r] {
					seen[r] = true
					res = append(res, r)
				}
			}
		}
		in = append(in, catalog.Statement{Actions: st.Actions, Resources: res, Condition: st.Condition})
	}
	r := &resolver{byName: map[string]placeholder{
		"${Partition}":    {value: *stack.Partition(), nag: "<AWS::Partition>"},
		"${Account}":      {value: *stack.Account(), nag: "<AWS::AccountId>"},
		"${TaskRolePath}": {value: m.TaskRolePath, nag: m.TaskRolePath},
	}}
	return r.statements(in)
}
