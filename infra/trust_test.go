package main

import (
	"strings"
	"testing"

	"github.com/irflow/irflow/ops"
)

// TestMACKey: the HMAC key of audit records, manifest anchors and start
// envelopes is an HMAC_256 GENERATE_VERIFY_MAC key whose use the key
// policy delegates to IAM; only roles naming it may make MACs (every
// function that appends audit records, and the start API), and only
// resolve-target and release-containment may verify them among the functions.
func TestMACKey(t *testing.T) {
	s := defaultSynth(t)
	macID, key := s.byPrefix(t, "AWS::KMS::Key", "MacKey")
	if key.Properties["KeySpec"] != "HMAC_256" || key.Properties["KeyUsage"] != "GENERATE_VERIFY_MAC" {
		t.Fatalf("MAC key %v", key.Properties)
	}
	if doc := jsonString(key.Properties["KeyPolicy"]); !strings.Contains(doc, "kms:GenerateMac") || strings.Contains(doc, "kms:Decrypt") {
		t.Errorf("MAC key policy %s; want MAC use delegated, no encryption", doc)
	}
	uses := map[string][]string{} // function → MAC actions
	for _, spec := range functionSpecs() {
		_, fn := s.byPrefix(t, "AWS::Lambda::Function", pascal(spec.name)+"Function")
		for _, st := range roleStatements(s, getAtt(fn.Properties["Role"])) {
			for _, a := range strs(st["Action"]) {
				if a == "kms:GenerateMac" || a == "kms:VerifyMac" {
					if r := jsonString(st["Resource"]); !strings.Contains(r, macID) {
						t.Errorf("%s: %s on %s; want the MAC key only", spec.name, a, r)
					}
					uses[spec.name] = append(uses[spec.name], a)
				}
			}
		}
		vars := jsonString(fn.Properties["Environment"])
		if !strings.Contains(vars, "IRFLOW_MAC_KEY_ARN") || !strings.Contains(vars, macID) {
			t.Errorf("%s: no IRFLOW_MAC_KEY_ARN naming the MAC key", spec.name)
		}
	}
	for _, spec := range functionSpecs() {
		want := "kms:GenerateMac"
		// resolve-target and release-containment (irflow-release's first
		// state) verify the start API's seal.
		if spec.name == "resolve-target" || spec.name == "release-containment" {
			want = "kms:GenerateMac,kms:VerifyMac"
		}
		if got := strings.Join(uses[spec.name], ","); got != want {
			t.Errorf("%s may %s with the MAC key; want %s", spec.name, got, want)
		}
	}
	if !strings.Contains(jsonString(s.outputs[ops.OutputMACKey]), macID) {
		t.Errorf("output %s %v", ops.OutputMACKey, s.outputs[ops.OutputMACKey])
	}
	// irflow audit --verify finds the key by its alias when it cannot read
	// the stack's outputs.
	aliased := false
	for _, id := range s.ofType("AWS::KMS::Alias") {
		p := s.resources[id].Properties
		if p["AliasName"] == ops.MACKeyAlias("Irflow") && strings.Contains(jsonString(p["TargetKeyId"]), macID) {
			aliased = true
		}
	}
	if !aliased {
		t.Errorf("no AWS::KMS::Alias %s on the MAC key", ops.MACKeyAlias("Irflow"))
	}
}

// TestStartAPI: the start API has its own AWS_IAM Function URL (an
// output), starts only the stack's state machines and makes MACs, nothing
// else, and knows the state machines' ARN prefix.
func TestStartAPI(t *testing.T) {
	s := defaultSynth(t)
	_, fn := s.byPrefix(t, "AWS::Lambda::Function", "StartApiFunction")
	got := map[string]string{}
	for _, st := range roleStatements(s, getAtt(fn.Properties["Role"])) {
		for _, a := range strs(st["Action"]) {
			got[a] = jsonString(st["Resource"])
		}
	}
	if len(got) != 4 || !strings.Contains(got["states:StartExecution"], ":stateMachine:irflow-*") || got["kms:GenerateMac"] == "" ||
		got["logs:CreateLogStream"] == "" || got["logs:PutLogEvents"] == "" {
		t.Errorf("start API may %v; want states:StartExecution on irflow's state machines, kms:GenerateMac and its log stream", got)
	}
	if v := jsonString(fn.Properties["Environment"]); !strings.Contains(v, ":stateMachine:irflow-") {
		t.Errorf("environment %s; want IRFLOW_STATE_MACHINE_PREFIX", v)
	}
	found := false
	for _, id := range s.ofType("AWS::Lambda::Url") {
		p := s.resources[id].Properties
		if strings.HasPrefix(getAtt(p["TargetFunctionArn"]), "StartApiFunction") && p["AuthType"] == "AWS_IAM" {
			found = true
		}
	}
	if !found || !strings.Contains(jsonString(s.outputs[ops.OutputStartURL]), "FunctionUrl") {
		t.Errorf("no AWS_IAM Function URL for the start API, or no %s output (%v)", ops.OutputStartURL, s.outputs[ops.OutputStartURL])
	}
	if !strings.Contains(jsonString(s.outputs[ops.OutputEvidenceBucket]), "EvidenceBucket") {
		t.Errorf("output %s %v", ops.OutputEvidenceBucket, s.outputs[ops.OutputEvidenceBucket])
	}
}

// TestGuardDutyDetector: resolve-target may ask GuardDuty about findings
// (detectors of the stack's account and region only), and a configured
// detector reaches its environment.
func TestGuardDutyDetector(t *testing.T) {
	s := synthWith(t, map[string]any{ctxDetectorID: "12abc34d567e8fa901bc2d34e56789f0"})
	_, fn := s.byPrefix(t, "AWS::Lambda::Function", "ResolveTargetFunction")
	if v := jsonString(fn.Properties["Environment"]); !strings.Contains(v, `"IRFLOW_GUARDDUTY_DETECTOR_ID":"12abc34d567e8fa901bc2d34e56789f0"`) {
		t.Errorf("environment %s", v)
	}
	ok := false
	for _, st := range roleStatements(s, getAtt(fn.Properties["Role"])) {
		if strings.Join(strs(st["Action"]), ",") == "guardduty:GetFindings" && strings.Contains(jsonString(st["Resource"]), ":detector/*") {
			ok = true
		}
	}
	if !ok {
		t.Error("resolve-target may not guardduty:GetFindings on the account's detectors")
	}
	if _, err := build(map[string]any{ctxDetectorID: "not/a/detector"}); err == nil || !strings.Contains(err.Error(), ctxDetectorID) {
		t.Errorf("a bad detector id: %v", err)
	}
}
