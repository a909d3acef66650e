package main

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/irflow/irflow/tasks/catalog"
)

const testAdmin, testOrg = "111122223333", "o-abcdefghij"

// memberSynth builds the member stack as main does for -c adminAccount=...
func memberSynth(t *testing.T, regions []any) (map[string]resource, assertions.Annotations) {
	t.Helper()
	app := NewApp(map[string]any{ctxAdminAccount: testAdmin, ctxOrganizationID: testOrg, ctxRegions: regions}, "")
	m, ok, err := MemberConfigFromContext(app.Node(), ".")
	if !ok || err != nil {
		t.Fatalf("member config: %v %v", ok, err)
	}
	stack := NewMemberStack(app, m.StackName, nil, m)
	ApplyNag(app)
	raw, err := json.Marshal(assertions.Template_FromStack(stack, nil).ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources  map[string]resource `json:"Resources"`
		Parameters map[string]any      `json:"Parameters"`
		Rules      map[string]any      `json:"Rules"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Parameters) > 0 || len(doc.Rules) > 0 {
		t.Errorf("member template has parameters %v, rules %v: StackSets deploy it into accounts without CDK bootstrap", doc.Parameters, doc.Rules)
	}
	return doc.Resources, assertions.Annotations_FromStack(stack)
}

// TestMemberStack: one responder role per action that acts in the target,
// /irflow/irflow-responder-<action>, trusted by the administrator account
// only for exactly that action's Lambda roles (one per region) in the
// organization, holding exactly the action's workload statements with no
// wildcard action; cdk-nag finds nothing unsuppressed.
func TestMemberStack(t *testing.T) {
	res, ann := memberSynth(t, []any{"us-east-1", "eu-west-1"})
	roles := map[string]resource{}
	for _, r := range res {
		if r.Type == "AWS::IAM::Role" {
			roles[r.Properties["RoleName"].(string)] = r
		}
	}
	for _, a := range catalog.All() {
		role, ok := roles[catalog.ResponderRoleName(a.Name)]
		if ok != a.ActsInTarget() {
			t.Errorf("%s: responder role %v, acts in target %v", a.Name, ok, a.ActsInTarget())
		}
		if !ok {
			continue
		}
		if role.Properties["Path"] != "/irflow/" {
			t.Errorf("%s: path %v", a.Name, role.Properties["Path"])
		}
		trust := statements(role.Properties["AssumeRolePolicyDocument"])
		if len(trust) != 1 {
			t.Fatalf("%s: trust %v", a.Name, trust)
		}
		st := trust[0]
		if p := jsonString(st["Principal"]); !strings.Contains(p, ":iam::"+testAdmin+":root") {
			t.Errorf("%s: principal %s", a.Name, p)
		}
		var arns []string
		for _, v := range list(path(st, "Condition", "ArnEquals", "aws:PrincipalArn")) {
			arns = append(arns, jsonString(v))
		}
		sort.Strings(arns)
		want := []string{":iam::" + testAdmin + ":role/irflow/irflow-" + a.Name + "-eu-west-1", ":iam::" + testAdmin + ":role/irflow/irflow-" + a.Name + "-us-east-1"}
		// Exactly: the ARN ends with the role's name (no longer name, no wildcard).
		if len(arns) != 2 || !strings.Contains(arns[0], want[0]+`"`) || !strings.Contains(arns[1], want[1]+`"`) || strings.Contains(jsonString(arns), "*") {
			t.Errorf("%s: trusted principals %v; want %v", a.Name, arns, want)
		}
		if org := path(st, "Condition", "StringEquals", "aws:PrincipalOrgID"); org != testOrg {
			t.Errorf("%s: aws:PrincipalOrgID %v", a.Name, org)
		}
		got, wantActions := map[string]bool{}, map[string]bool{}
		for _, pol := range list(role.Properties["Policies"]) {
			for _, s := range statements(path(pol, "PolicyDocument")) {
				for _, act := range strs(s["Action"]) {
					got[act] = true
					if strings.Contains(act, "*") {
						t.Errorf("%s: wildcard action %s", a.Name, act)
					}
				}
				for _, r := range strs(s["Resource"]) {
					if strings.Contains(r, "eu-west-2") {
						t.Errorf("%s: resource outside the regions: %s", a.Name, r)
					}
				}
				if r := jsonString(s["Resource"]); strings.Contains(r, "Table") || strings.Contains(r, "Bucket") || strings.Contains(r, "Key") {
					t.Errorf("%s: member statement on irflow's stores: %s", a.Name, r)
				}
			}
		}
		for _, st := range a.WorkloadIAM() {
			for _, act := range st.Actions {
				wantActions[act] = true
			}
		}
		if jsonString(got) != jsonString(wantActions) {
			t.Errorf("%s: actions %v; want the catalog's workload actions %v", a.Name, got, wantActions)
		}
	}
	for _, e := range *ann.FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))) {
		t.Errorf("cdk-nag error: %s %v", *e.Id, e.Entry.Data)
	}
	for _, w := range *ann.FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))) {
		t.Errorf("cdk-nag warning: %s %v", *w.Id, w.Entry.Data)
	}
}

func TestMemberConfigRefusals(t *testing.T) {
	for _, ctx := range []map[string]any{
		{ctxAdminAccount: "12", ctxOrganizationID: testOrg, ctxRegions: []any{"us-east-1"}},
		{ctxAdminAccount: testAdmin, ctxOrganizationID: "org", ctxRegions: []any{"us-east-1"}},
		{ctxAdminAccount: testAdmin, ctxOrganizationID: testOrg},
		{ctxAdminAccount: testAdmin, ctxOrganizationID: testOrg, ctxRegions: []any{"us-east-*"}},
	} {
		if _, ok, err := MemberConfigFromContext(mapContext(ctx), "."); !ok || err == nil {
			t.Errorf("%v: accepted", ctx)
		}
	}
	if _, ok, _ := MemberConfigFromContext(mapContext{}, "."); ok {
		t.Error("no adminAccount: member stack")
	}
}

// TestAdminAssumesOnlyItsResponder: in the administrator stack, each
// action's Lambda role may sts:AssumeRole exactly its own responder role
// pattern (any member account), has a name the member trust policies can
// name, and knows the home account; the others may assume nothing.
func TestAdminAssumesOnlyItsResponder(t *testing.T) {
	s := defaultSynth(t)
	for _, spec := range functionSpecs() {
		_, fn := s.byPrefix(t, "AWS::Lambda::Function", pascal(spec.name)+"Function")
		roleID := getAtt(fn.Properties["Role"])
		var assumes []string
		for _, st := range roleStatements(s, roleID) {
			for _, a := range strs(st["Action"]) {
				if strings.HasPrefix(a, "sts:") {
					assumes = append(assumes, a+" "+jsonString(st["Resource"]))
				}
			}
		}
		a := catalog.Lookup(spec.name)
		if a == nil || !a.ActsInTarget() {
			if len(assumes) > 0 {
				t.Errorf("%s: %v", spec.name, assumes)
			}
			continue
		}
		if len(assumes) != 1 || !strings.HasPrefix(assumes[0], "sts:AssumeRole ") ||
			!strings.Contains(assumes[0], ":iam::*:role/irflow/irflow-responder-"+spec.name+`"`) {
			t.Errorf("%s: %v; want sts:AssumeRole on its own responder role only", spec.name, assumes)
		}
		// The name and path the member trust policies name (AdminRoleName
		// under RolePath): irflow-<action>-<region> in /irflow/.
		if name := jsonString(s.resources[roleID].Properties["RoleName"]); !strings.Contains(name, `"irflow-`+spec.name+`-",{"Ref":"AWS::Region"}`) {
			t.Errorf("%s: role name %s; want irflow-%s-<region>", spec.name, name, spec.name)
		}
		if p := s.resources[roleID].Properties["Path"]; p != RolePath {
			t.Errorf("%s: role path %v; want %s", spec.name, p, RolePath)
		}
		if vars := jsonString(fn.Properties["Environment"]); !strings.Contains(vars, "IRFLOW_HOME_ACCOUNT") {
			t.Errorf("%s: no IRFLOW_HOME_ACCOUNT", spec.name)
		}
	}
}
