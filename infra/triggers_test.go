package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irflow/irflow/generator"
)

// TestGuardDutyRules: every playbook with finding types has one rule for
// GuardDuty findings on ECS at or above its minimum severity, whose only
// target is its state machine with a retry policy and the encrypted
// dead-letter queue.
func TestGuardDutyRules(t *testing.T) {
	s := defaultSynth(t)
	qID, _ := s.byPrefix(t, "AWS::SQS::Queue", "TriggerDeadLetterQueue")
	rules := 0
	for _, pb := range s.playbooks {
		if len(pb.Result.Triggers.FindingTypes) == 0 {
			continue
		}
		rules++
		t.Run(pb.Result.Name, func(t *testing.T) {
			smID, _ := s.byPrefix(t, "AWS::StepFunctions::StateMachine", pascal(pb.Result.Name)+"StateMachine")
			_, rule := s.byPrefix(t, "AWS::Events::Rule", pascal(pb.Result.Name)+"GuardDutyRule")
			pat := rule.Properties["EventPattern"].(map[string]any)
			if jsonString(pat["source"]) != `["aws.guardduty"]` || jsonString(pat["detail-type"]) != `["GuardDuty Finding"]` {
				t.Errorf("source %v detail-type %v", pat["source"], pat["detail-type"])
			}
			// A playbook that takes host findings also matches findings
			// about the container instance (resource type Instance).
			wantResources := `["ECSCluster"]`
			if pb.Result.Triggers.HostFindings {
				wantResources = `["ECSCluster","Instance"]`
			}
			if got := jsonString(path(pat, "detail", "resource", "resourceType")); got != wantResources {
				t.Errorf("resourceType %s; want %s", got, wantResources)
			}
			if got := jsonString(path(pat, "detail", "severity")); got != jsonString([]any{map[string]any{"numeric": []any{">=", pb.Result.Triggers.MinSeverity}}}) {
				t.Errorf("severity %s; want >= %v", got, pb.Result.Triggers.MinSeverity)
			}
			types := list(path(pat, "detail", "type"))
			if len(types) != len(pb.Result.Triggers.FindingTypes) {
				t.Errorf("detail.type %v; want one entry per finding type %v", types, pb.Result.Triggers.FindingTypes)
			}
			for i, ft := range pb.Result.Triggers.FindingTypes {
				want := any(ft)
				if prefix, ok := strings.CutSuffix(ft, "*"); ok {
					want = map[string]any{"prefix": prefix}
				}
				if i < len(types) && jsonString(types[i]) != jsonString(want) {
					t.Errorf("detail.type[%d] = %v; want %v", i, types[i], want)
				}
			}
			targets := list(rule.Properties["Targets"])
			if len(targets) != 1 {
				t.Fatalf("%d targets; want 1", len(targets))
			}
			tg := targets[0]
			if getAtt(path(tg, "Arn")) != smID {
				t.Errorf("target %v; want %s", path(tg, "Arn"), smID)
			}
			if getAtt(path(tg, "DeadLetterConfig", "Arn")) != qID {
				t.Errorf("dead-letter queue %v; want %s", path(tg, "DeadLetterConfig"), qID)
			}
			if path(tg, "RetryPolicy", "MaximumRetryAttempts") == nil || path(tg, "RetryPolicy", "MaximumEventAgeInSeconds") == nil {
				t.Errorf("retry policy %v", path(tg, "RetryPolicy"))
			}
		})
	}
	if got := len(s.ofType("AWS::Events::Rule")); got != rules || rules == 0 {
		t.Errorf("%d rules; want %d (one per playbook with finding types)", got, rules)
	}
}

// TestGuardDutyRulesMatchSamples runs the synthesized patterns on the sample
// GuardDuty events with a small EventBridge matcher (exact, prefix and
// numeric): each sample starts the playbooks written for it, and a lower
// severity or a non-ECS resource starts none.
func TestGuardDutyRulesMatchSamples(t *testing.T) {
	s := defaultSynth(t)
	patterns := map[string]map[string]any{}
	for _, pb := range s.playbooks {
		if len(pb.Result.Triggers.FindingTypes) > 0 {
			_, rule := s.byPrefix(t, "AWS::Events::Rule", pascal(pb.Result.Name)+"GuardDutyRule")
			patterns[pb.Result.Name] = rule.Properties["EventPattern"].(map[string]any)
		}
	}
	tests := []struct {
		name   string
		file   string
		edit   func(map[string]any)
		starts []string
	}{
		{"reverse shell", "guardduty-ec2-reverse-shell.json", nil, []string{"reverse-shell-c2"}},
		{"crypto miner", "guardduty-fargate-cryptominer.json", nil, []string{"crypto-mining"}},
		{"below every minimum", "guardduty-fargate-cryptominer.json", func(e map[string]any) { e["detail"].(map[string]any)["severity"] = 2.0 }, nil},
		{"not an ECS resource", "guardduty-ec2-reverse-shell.json", func(e map[string]any) {
			e["detail"].(map[string]any)["resource"].(map[string]any)["resourceType"] = "Instance"
		}, nil},
		{"prefix pattern", "guardduty-ec2-reverse-shell.json", func(e map[string]any) {
			e["detail"].(map[string]any)["type"] = "PrivilegeEscalation:Runtime/SomethingNew"
		}, []string{"container-escape"}},
		{"host finding", "guardduty-ec2-host-escape.json", nil, []string{"container-escape"}},
		{"host finding of a type no host-taking playbook has", "guardduty-ec2-host-escape.json", func(e map[string]any) {
			e["detail"].(map[string]any)["type"] = "Execution:Runtime/ReverseShell"
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("..", "examples", "inputs", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			var event map[string]any
			if err := json.Unmarshal(raw, &event); err != nil {
				t.Fatal(err)
			}
			if tt.edit != nil {
				tt.edit(event)
			}
			var got []string
			for _, pb := range s.playbooks {
				if p, ok := patterns[pb.Result.Name]; ok && matches(p, event) {
					got = append(got, pb.Result.Name)
				}
			}
			if jsonString(got) != jsonString(tt.starts) {
				t.Errorf("starts %v; want %v", got, tt.starts)
			}
		})
	}
}

// TestGuardDutyPattern pins the translation of finding types.
func TestGuardDutyPattern(t *testing.T) {
	p := guardDutyPattern(generator.Triggers{FindingTypes: []string{"Trojan:Runtime/*", "Execution:Runtime/ReverseShell"}, MinSeverity: 7})
	got := jsonString((*p.Detail)["type"])
	if want := `[{"prefix":"Trojan:Runtime/"},"Execution:Runtime/ReverseShell"]`; got != want {
		t.Errorf("type %s; want %s", got, want)
	}
	if got := jsonString((*p.Detail)["severity"]); got != `[{"numeric":[">=",7]}]` {
		t.Errorf("severity %s", got)
	}
	if got := jsonString((*p.Detail)["resource"]); got != `{"resourceType":["ECSCluster"]}` {
		t.Errorf("resource %s; want ECS findings only", got)
	}
	hosts := guardDutyPattern(generator.Triggers{FindingTypes: []string{"PrivilegeEscalation:Runtime/*"}, MinSeverity: 4, HostFindings: true})
	if got := jsonString((*hosts.Detail)["resource"]); got != `{"resourceType":["ECSCluster","Instance"]}` {
		t.Errorf("resource %s; want ECS and container-instance findings (hostFindings)", got)
	}
}

// matches implements the part of EventBridge pattern matching irflow's
// rules use: a field matches when any listed value (exact string, prefix,
// numeric comparisons) matches; objects recurse.
func matches(pattern, event map[string]any) bool {
	for k, want := range pattern {
		got, ok := event[k]
		if !ok {
			return false
		}
		if sub, ok := want.(map[string]any); ok {
			ev, ok := got.(map[string]any)
			if !ok || !matches(sub, ev) {
				return false
			}
			continue
		}
		if !matchesAny(list(want), got) {
			return false
		}
	}
	return true
}

func matchesAny(options []any, got any) bool {
	for _, o := range options {
		switch o := o.(type) {
		case string:
			if got == o {
				return true
			}
		case map[string]any:
			if prefix, ok := o["prefix"].(string); ok {
				if s, ok := got.(string); ok && strings.HasPrefix(s, prefix) {
					return true
				}
			}
			if num, ok := o["numeric"].([]any); ok {
				if n, ok := got.(float64); ok && numeric(num, n) {
					return true
				}
			}
		}
	}
	return false
}

func numeric(ops []any, n float64) bool {
	for i := 0; i+1 < len(ops); i += 2 {
		op, _ := ops[i].(string)
		v, _ := ops[i+1].(float64)
		ok := map[string]bool{">=": n >= v, ">": n > v, "<=": n <= v, "<": n < v, "=": n == v}[op]
		if !ok {
			return false
		}
	}
	return true
}
