package main

import (
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/irflow/irflow/tasks/catalog"
)

// envVars are the variables docs/internals.md lists for every task Lambda.
var envVars = []string{
	"IRFLOW_APPROVALS_TABLE", "IRFLOW_APPROVAL_URL", "IRFLOW_AUDIT_TABLE", "IRFLOW_AVML_SHA256",
	"IRFLOW_AVML_URL", "IRFLOW_DEFAULT_APPROVERS", "IRFLOW_EVIDENCE_BUCKET", "IRFLOW_HOME_ACCOUNT", "IRFLOW_INCIDENTS_TABLE",
	"IRFLOW_KMS_KEY_ARN", "IRFLOW_MAC_KEY_ARN", "IRFLOW_TOPIC_ARN",
}

// TestFunctionPerCatalogAction: one provided.al2023 arm64 function per
// catalog action plus the approval and start APIs, each with the catalog's timeout and
// memory, its own role, its own log group with retention, and the runtime
// contract's environment.
func TestFunctionPerCatalogAction(t *testing.T) {
	s := defaultSynth(t)
	specs := functionSpecs()
	if len(specs) != len(catalog.All())+2 {
		t.Fatalf("%d function specs; want every catalog action, the approval API and the start API", len(specs))
	}
	check(t, "function count", func() {
		s.template.ResourceCountIs(jsii.String("AWS::Lambda::Function"), jsii.Number(float64(len(specs))))
	})
	roles := map[string]string{}
	for _, spec := range specs {
		t.Run(spec.name, func(t *testing.T) {
			_, fn := s.byPrefix(t, "AWS::Lambda::Function", pascal(spec.name)+"Function")
			p := fn.Properties
			if p["Runtime"] != "provided.al2023" || !reflect.DeepEqual(p["Architectures"], []any{"arm64"}) || p["Handler"] != "bootstrap" {
				t.Errorf("runtime %v %v %v; want provided.al2023 [arm64] bootstrap", p["Runtime"], p["Architectures"], p["Handler"])
			}
			if p["Timeout"] != float64(spec.timeout.Seconds()) || p["MemorySize"] != float64(spec.memoryMB) {
				t.Errorf("timeout %v memory %v; want the catalog's %d s and %d MB", p["Timeout"], p["MemorySize"], spec.timeout.Seconds(), spec.memoryMB)
			}
			role := getAtt(p["Role"])
			if prev, dup := roles[role]; dup {
				t.Errorf("role %s is shared with %s", role, prev)
			}
			roles[role] = spec.name
			if !strings.HasPrefix(role, pascal(spec.name)+"Role") {
				t.Errorf("role %s is not the function's own", role)
			}
			logs := getAtt(path(p, "LoggingConfig", "LogGroup"))
			if lg := s.resources[logs]; lg.Type != "AWS::Logs::LogGroup" || lg.Properties["RetentionInDays"] == nil {
				t.Errorf("log group %q: %v; want an explicit group with retention", logs, lg.Properties)
			}
			vars, _ := path(p, "Environment", "Variables").(map[string]any)
			var got []string
			for k := range vars {
				got = append(got, k)
			}
			sort.Strings(got)
			want := envVars
			switch spec.name {
			case catalog.ApprovalAPI.Name:
				// Its own URL in its environment would be a dependency cycle.
				want = without(envVars, "IRFLOW_APPROVAL_URL")
			case catalog.StartAPI.Name:
				// It starts state machines and seals their input: no store.
				want = []string{"IRFLOW_MAC_KEY_ARN", "IRFLOW_STATE_MACHINE_PREFIX"}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("environment %v; want %v", got, want)
			}
		})
	}
	check(t, "approval and start URLs", func() {
		s.template.HasResourceProperties(jsii.String("AWS::Lambda::Url"), map[string]any{"AuthType": "AWS_IAM"})
		s.template.ResourceCountIs(jsii.String("AWS::Lambda::Url"), jsii.Number(2))
	})
	for _, id := range s.ofType("AWS::Lambda::Url") {
		if a := s.resources[id].Properties["AuthType"]; a != "AWS_IAM" {
			t.Errorf("function URL %s auth %v; want AWS_IAM", id, a)
		}
	}
}

// TestFunctionRolesFromCatalog: a function's role allows exactly its catalog
// actions plus writing its own log streams, with "*" as a resource only in
// the statements where the catalog puts it and no placeholder left over.
func TestFunctionRolesFromCatalog(t *testing.T) {
	s := defaultSynth(t)
	for _, spec := range functionSpecs() {
		t.Run(spec.name, func(t *testing.T) {
			_, fn := s.byPrefix(t, "AWS::Lambda::Function", pascal(spec.name)+"Function")
			roleID := getAtt(fn.Properties["Role"])
			role := s.resources[roleID]
			if role.Properties["ManagedPolicyArns"] != nil {
				t.Errorf("managed policies %v; want none", role.Properties["ManagedPolicyArns"])
			}
			if svc := path(role.Properties, "AssumeRolePolicyDocument", "Statement"); !strings.Contains(jsonString(svc), "lambda.amazonaws.com") {
				t.Errorf("trust policy %v; want lambda.amazonaws.com", svc)
			}
			wantStar := map[string]bool{}
			for _, st := range spec.iam {
				for _, r := range st.Resources {
					if r == "*" {
						for _, a := range st.Actions {
							wantStar[a] = true
						}
					}
				}
			}
			actions := map[string]bool{}
			for _, st := range roleStatements(s, roleID) {
				if st["Effect"] != "Allow" {
					continue
				}
				star := false
				for _, r := range list(st["Resource"]) {
					if r == "*" {
						star = true
					}
					if str, ok := r.(string); ok && strings.Contains(str, "${") {
						t.Errorf("resource %q keeps a placeholder", str)
					}
				}
				for _, a := range strs(st["Action"]) {
					actions[a] = true
					if star && !wantStar[a] {
						t.Errorf("%s on \"*\"; the catalog scopes it", a)
					}
				}
			}
			var got []string
			for a := range actions {
				got = append(got, a)
			}
			sort.Strings(got)
			want := append(catalogActions(spec), "logs:CreateLogStream", "logs:PutLogEvents")
			if a := catalog.Lookup(spec.name); a != nil && a.ActsInTarget() {
				want = append(want, "sts:AssumeRole") // its member accounts' responder role (member_test.go)
			}
			sort.Strings(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("role actions %v; want %v", got, want)
			}
		})
	}
}

// TestApproversMayCallTheApprovalURL: each configured approver gets the
// two permissions a Function URL with AWS_IAM auth needs, and nobody else.
func TestApproversMayCallTheApprovalURL(t *testing.T) {
	approvers := []any{"arn:aws:iam::111122223333:role/IncidentCommander", "arn:aws:iam::111122223333:user/alice"}
	s := synthWith(t, map[string]any{ctxApprovers: approvers})
	got := map[string][]string{}
	for _, id := range s.ofType("AWS::Lambda::Permission") {
		p := s.resources[id].Properties
		if !strings.HasPrefix(getAtt(p["FunctionName"]), "ApprovalApiFunction") {
			t.Errorf("permission %s on %v; want the approval API only", id, p["FunctionName"])
		}
		principal, _ := p["Principal"].(string)
		action, _ := p["Action"].(string)
		got[principal] = append(got[principal], action)
		switch action {
		case "lambda:InvokeFunctionUrl":
			if p["FunctionUrlAuthType"] != "AWS_IAM" {
				t.Errorf("%s: URL permission without AWS_IAM auth type: %v", id, p)
			}
		case "lambda:InvokeFunction":
			if p["InvokedViaFunctionUrl"] != true {
				t.Errorf("%s: invoke permission not limited to calls through the URL: %v", id, p)
			}
		}
	}
	for _, a := range approvers {
		acts := got[a.(string)]
		sort.Strings(acts)
		if !reflect.DeepEqual(acts, []string{"lambda:InvokeFunction", "lambda:InvokeFunctionUrl"}) {
			t.Errorf("%s may %v; want lambda:InvokeFunction (via the URL) and lambda:InvokeFunctionUrl", a, acts)
		}
	}
	if len(got) != len(approvers) {
		t.Errorf("principals %v; want only the approvers", got)
	}
	_, fn := s.byPrefix(t, "AWS::Lambda::Function", "NotifyFunction")
	if v := path(fn.Properties, "Environment", "Variables", "IRFLOW_DEFAULT_APPROVERS"); v != approvers[0].(string)+","+approvers[1].(string) {
		t.Errorf("IRFLOW_DEFAULT_APPROVERS = %v", v)
	}
}

func catalogActions(spec functionSpec) []string {
	seen := map[string]bool{}
	var out []string
	for _, st := range spec.iam {
		for _, a := range st.Actions {
			if !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	return out
}

func without(in []string, drop string) []string {
	var out []string
	for _, s := range in {
		if s != drop {
			out = append(out, s)
		}
	}
	return out
}

// TestRolesApartFromTaskRoles: every role the stack creates for irflow
// lives under RolePath, and the only IAM write any role holds is on roles
// under the task role path, which cannot cover RolePath.
func TestRolesApartFromTaskRoles(t *testing.T) {
	s := defaultSynth(t)
	for id, r := range s.resources {
		if r.Type != "AWS::IAM::Role" || strings.HasPrefix(id, "CustomResource") || strings.Contains(id, "LogRetention") || strings.Contains(id, "AutoDelete") {
			continue
		}
		if r.Properties["Path"] != RolePath {
			t.Errorf("role %s has path %v; want %s", id, r.Properties["Path"], RolePath)
		}
		for _, st := range roleStatements(s, id) {
			for _, a := range strs(st["Action"]) {
				if !strings.HasPrefix(a, "iam:") {
					continue
				}
				for _, res := range list(st["Resource"]) {
					str := jsonString(res)
					if !strings.Contains(str, ":role/ecs-tasks/*") || strings.Contains(str, RolePath) {
						t.Errorf("role %s: %s on %s; want roles under /ecs-tasks/ only", id, a, str)
					}
				}
			}
		}
	}
}
