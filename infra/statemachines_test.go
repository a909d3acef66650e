package main

import (
	"reflect"
	"sort"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/irflow/irflow/tasks/catalog"
)

// TestStateMachinePerPlaybook: every playbook of workflows/ is one STANDARD
// state machine named <prefix>-<name>, logging ALL with execution data to
// its own log group, traced, whose definition is the generator's compact ASL
// with one substitution per function it uses.
func TestStateMachinePerPlaybook(t *testing.T) {
	s := defaultSynth(t)
	if len(s.playbooks) < 7 {
		t.Fatalf("loaded %d playbooks from %s; want the library's 7 or more", len(s.playbooks), s.cfg.PlaybookDir)
	}
	check(t, "state machine count", func() {
		// One per playbook, and irflow-release.
		s.template.ResourceCountIs(jsii.String("AWS::StepFunctions::StateMachine"), jsii.Number(float64(len(s.playbooks)+1)))
	})
	for _, pb := range s.playbooks {
		t.Run(pb.Result.Name, func(t *testing.T) {
			check(t, "logging and tracing", func() {
				s.template.HasResourceProperties(jsii.String("AWS::StepFunctions::StateMachine"), map[string]any{
					"StateMachineName":     "irflow-" + pb.Result.Name,
					"StateMachineType":     "STANDARD",
					"TracingConfiguration": map[string]any{"Enabled": true},
					"LoggingConfiguration": assertions.Match_ObjectLike(&map[string]any{
						"Level": "ALL", "IncludeExecutionData": true,
					}),
				})
			})
			_, sm := s.byPrefix(t, "AWS::StepFunctions::StateMachine", pascal(pb.Result.Name)+"StateMachine")
			if got := sm.Properties["DefinitionString"]; got != string(pb.Result.CompactASL()) {
				t.Errorf("DefinitionString is not the generator's compact ASL")
			}
			subs, _ := sm.Properties["DefinitionSubstitutions"].(map[string]any)
			var gotKeys, wantKeys []string
			for k, v := range subs {
				gotKeys = append(gotKeys, k)
				if id := getAtt(v); s.resources[id].Type != "AWS::Lambda::Function" {
					t.Errorf("substitution %s = %v; want a function ARN", k, v)
				}
			}
			for _, f := range pb.Result.Functions {
				wantKeys = append(wantKeys, catalog.FunctionPlaceholder(f))
			}
			sort.Strings(gotKeys)
			sort.Strings(wantKeys)
			if !reflect.DeepEqual(gotKeys, wantKeys) {
				t.Errorf("substitutions %v; want %v", gotKeys, wantKeys)
			}
			logs := getAtt(path(sm.Properties, "LoggingConfiguration", "Destinations").([]any)[0].(map[string]any)["CloudWatchLogsLogGroup"].(map[string]any)["LogGroupArn"])
			if lg := s.resources[logs]; lg.Type != "AWS::Logs::LogGroup" || lg.Properties["RetentionInDays"] != float64(365) || lg.Properties["KmsKeyId"] == nil {
				t.Errorf("execution log group %s: %v; want retention 365 days and the key", logs, lg.Properties)
			}
		})
	}
}

// TestStateMachineRoleInvokesOnlyItsFunctions: the role of each state
// machine may invoke exactly the functions its definition names (no
// function:* qualifier, nothing else in the invoke statement).
func TestStateMachineRoleInvokesOnlyItsFunctions(t *testing.T) {
	s := defaultSynth(t)
	fnID := map[string]string{}
	for _, spec := range functionSpecs() {
		id, _ := s.byPrefix(t, "AWS::Lambda::Function", pascal(spec.name)+"Function")
		fnID[id] = spec.name
	}
	for _, pb := range s.playbooks {
		t.Run(pb.Result.Name, func(t *testing.T) {
			_, sm := s.byPrefix(t, "AWS::StepFunctions::StateMachine", pascal(pb.Result.Name)+"StateMachine")
			roleID := getAtt(sm.Properties["RoleArn"])
			var invoked []string
			for _, st := range roleStatements(s, roleID) {
				for _, a := range strs(st["Action"]) {
					if a != "lambda:InvokeFunction" {
						continue
					}
					for _, r := range list(st["Resource"]) {
						name, ok := fnID[getAtt(r)]
						if !ok {
							t.Errorf("invoke resource %v is not a function ARN", r)
						}
						invoked = append(invoked, name)
					}
				}
			}
			want := append([]string(nil), pb.Result.Functions...)
			sort.Strings(invoked)
			sort.Strings(want)
			if !reflect.DeepEqual(invoked, want) {
				t.Errorf("role %s invokes %v; want %v", roleID, invoked, want)
			}
		})
	}
}

// roleStatements returns every statement a role holds: inline policies and
// the AWS::IAM::Policy resources attached to it.
func roleStatements(s *synthesized, roleID string) []map[string]any {
	var out []map[string]any
	add := func(doc any) {
		for _, st := range list(path(doc, "Statement")) {
			if m, ok := st.(map[string]any); ok {
				out = append(out, m)
			}
		}
	}
	for _, p := range list(s.resources[roleID].Properties["Policies"]) {
		add(path(p, "PolicyDocument"))
	}
	for _, id := range s.ofType("AWS::IAM::Policy") {
		for _, r := range list(s.resources[id].Properties["Roles"]) {
			if getAtt(r) == roleID {
				add(s.resources[id].Properties["PolicyDocument"])
			}
		}
	}
	return out
}

// TestReleaseStateMachine: irflow-release is deployed from
// generator.CompileRelease, its role invoking exactly release-containment,
// request-approval and finalize-case.
func TestReleaseStateMachine(t *testing.T) {
	s := defaultSynth(t)
	_, sm := s.byPrefix(t, "AWS::StepFunctions::StateMachine", "ReleaseStateMachine")
	if got := sm.Properties["StateMachineName"]; got != "irflow-release" {
		t.Errorf("name %v", got)
	}
	subs, _ := sm.Properties["DefinitionSubstitutions"].(map[string]any)
	var keys []string
	for k := range subs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if !reflect.DeepEqual(keys, []string{"Fn_finalize_case", "Fn_release_containment", "Fn_request_approval"}) {
		t.Errorf("substitutions %v", keys)
	}
}
