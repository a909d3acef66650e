package main

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/irflow/irflow/tasks/catalog"
)

// placeholder is one ${Name} of catalog.Placeholders: the value it stands
// for in this stack, and how cdk-nag prints that value in a finding id.
type placeholder struct {
	value string
	nag   string
}

// catalogPlaceholder matches a ${Name} in a catalog resource pattern.
var catalogPlaceholder = regexp.MustCompile(`\$\{[A-Za-z]+\}`)

// resolver turns catalog IAM statements into this stack's policy statements.
type resolver struct {
	byName map[string]placeholder
}

// newResolver binds every catalog placeholder to the stack's resources.
// Missing one is a programming error: the catalog grew a placeholder the
// stack does not know, and a role would silently lose a permission.
func newResolver(stack awscdk.Stack, cfg Config, st *storage, topic awssns.ITopic, key, macKey awskms.IKey) *resolver {
	arn := func(c constructs.IConstruct, value *string) placeholder {
		return placeholder{value: *value, nag: "<" + logicalID(c) + ".Arn>"}
	}
	r := &resolver{byName: map[string]placeholder{
		"${Partition}":         {value: *stack.Partition(), nag: "<AWS::Partition>"},
		"${Region}":            {value: *stack.Region(), nag: "<AWS::Region>"},
		"${Account}":           {value: *stack.Account(), nag: "<AWS::AccountId>"},
		"${EvidenceBucketArn}": arn(st.evidence, st.evidence.BucketArn()),
		"${AuditTableArn}":     arn(st.audit, st.audit.TableArn()),
		"${ApprovalsTableArn}": arn(st.approvals, st.approvals.TableArn()),
		"${IncidentsTableArn}": arn(st.incidents, st.incidents.TableArn()),
		// A topic's Ref is its ARN.
		"${TopicArn}":  {value: *topic.TopicArn(), nag: "<" + logicalID(topic) + ">"},
		"${KeyArn}":    arn(key, key.KeyArn()),
		"${MacKeyArn}": arn(macKey, macKey.KeyArn()),
		// The state machines are <namePrefix>-<playbook>.
		"${NamePrefix}": {value: cfg.NamePrefix, nag: cfg.NamePrefix},
		// A deployment constant: task roles live under it (docs/deploy.md).
		"${TaskRolePath}": {value: cfg.TaskRolePath, nag: cfg.TaskRolePath},
	}}
	for _, p := range catalog.Placeholders {
		if _, ok := r.byName[p]; !ok {
			panic("infra: catalog placeholder " + p + " has no value in the stack")
		}
	}
	return r
}

// statements renders catalog statements as allow statements. It also
// returns the cdk-nag IAM5 finding ids of the resources with a wildcard
// ("Resource::<pattern>"), so the role's suppression names exactly those.
func (r *resolver) statements(in []catalog.Statement) ([]awsiam.PolicyStatement, []string) {
	var (
		out      []awsiam.PolicyStatement
		findings = map[string]bool{}
	)
	for _, st := range in {
		for _, a := range st.Actions {
			if strings.Contains(a, "*") || !strings.Contains(a, ":") {
				panic(fmt.Sprintf("infra: catalog action %q is not one IAM action", a))
			}
		}
		var resources []string
		for _, res := range st.Resources {
			value, nag := r.expand(res)
			resources = append(resources, value)
			if strings.Contains(nag, "*") {
				findings["Resource::"+nag] = true
			}
		}
		props := &awsiam.PolicyStatementProps{
			Effect:    awsiam.Effect_ALLOW,
			Actions:   jsii.Strings(st.Actions...),
			Resources: jsii.Strings(resources...),
		}
		if len(st.Condition) > 0 {
			cond := map[string]any{}
			for op, kv := range st.Condition {
				m := map[string]any{}
				for k, v := range kv {
					m[k], _ = r.expand(v)
				}
				cond[op] = m
			}
			props.Conditions = &cond
		}
		out = append(out, awsiam.NewPolicyStatement(props))
	}
	ids := make([]string, 0, len(findings))
	for f := range findings {
		ids = append(ids, f)
	}
	sort.Strings(ids)
	return out, ids
}

// expand replaces the placeholders of a resource pattern, once with the
// stack's values and once with cdk-nag's rendering of them.
func (r *resolver) expand(pattern string) (value, nag string) {
	for _, name := range catalogPlaceholder.FindAllString(pattern, -1) {
		if _, ok := r.byName[name]; !ok {
			panic(fmt.Sprintf("infra: unknown placeholder %s in catalog resource %q", name, pattern))
		}
	}
	value, nag = pattern, pattern
	for name, p := range r.byName {
		value = strings.ReplaceAll(value, name, p.value)
		nag = strings.ReplaceAll(nag, name, p.nag)
	}
	return value, nag
}

// logicalID is the CloudFormation logical id of an L2 construct's resource.
func logicalID(c constructs.IConstruct) string {
	el, ok := c.Node().DefaultChild().(awscdk.CfnElement)
	if !ok {
		panic("infra: " + *c.Node().Path() + " has no CloudFormation resource")
	}
	return *awscdk.Stack_Of(c).GetLogicalId(el)
}
