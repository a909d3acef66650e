package incident

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

var exec0 = Execution{ID: "arn:aws:states:us-east-1:111122223333:execution:irflow-crypto-mining:run-1", Name: "run-1",
	StartTime: time.Date(2026, 11, 20, 14, 2, 12, 0, time.UTC)}

func readSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../examples/inputs/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNormalizeSamples(t *testing.T) {
	tests := []struct {
		file, source, launchType, caseID string
		dryRun                           bool
	}{
		{"guardduty-fargate-cryptominer.json", SourceGuardDuty, "FARGATE", "gd-b2c6a1f0e4d94a1f8c7e5d3b2a190817", false},
		{"guardduty-ec2-reverse-shell.json", SourceGuardDuty, "EC2", "gd-c9d8e7f6a5b44c3d2e1f0a9b8c7d6e5f", false},
		{"console-fargate.json", SourceManual, "", "run-1", true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			inc, err := Normalize(readSample(t, tt.file), exec0)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if inc.Source != tt.source || inc.LaunchType != tt.launchType || inc.CaseID != tt.caseID || inc.DryRun != tt.dryRun {
				t.Errorf("got source %s launchType %q caseId %s dryRun %v; want %s %q %s %v",
					inc.Source, inc.LaunchType, inc.CaseID, inc.DryRun, tt.source, tt.launchType, tt.caseID, tt.dryRun)
			}
			if inc.Account != "111122223333" || inc.Region != "us-east-1" || inc.Partition != "aws" || !strings.HasPrefix(inc.ClusterArn, "arn:aws:ecs:us-east-1:111122223333:cluster/") {
				t.Errorf("task coordinates wrong: %+v", inc)
			}
			if inc.ReceivedAt != "2026-11-20T14:02:12Z" {
				t.Errorf("receivedAt = %q", inc.ReceivedAt)
			}
		})
	}
}

func TestNormalizeFindingDetails(t *testing.T) {
	inc, err := Normalize(readSample(t, "guardduty-fargate-cryptominer.json"), exec0)
	if err != nil {
		t.Fatal(err)
	}
	f := inc.Finding
	if f == nil || f.Type != "Impact:Runtime/CryptoMinerExecuted" || f.Severity != 8 || f.Process == nil || f.Process.Name != "xmrig" || f.Process.Pid != 4242 {
		t.Errorf("finding = %+v", f)
	}
	if f.Process.NamespacePid != 47 || strings.Join(f.Containers, ",") != "api" {
		t.Errorf("namespace pid %d, containers %v; want 47 and the finding's container api", f.Process.NamespacePid, f.Containers)
	}
}

func TestNormalizeOtherAccountsAndRegions(t *testing.T) {
	var ev map[string]any
	if err := json.Unmarshal(readSample(t, "guardduty-ec2-reverse-shell.json"), &ev); err != nil {
		t.Fatal(err)
	}
	detail := ev["detail"].(map[string]any)
	detail["accountId"], detail["region"] = "444455556666", "eu-central-1"
	td := detail["resource"].(map[string]any)["ecsClusterDetails"].(map[string]any)["taskDetails"].(map[string]any)
	td["arn"] = "arn:aws:ecs:eu-central-1:444455556666:task/batch/5a4b3c2d1e0f49a8b7c6d5e4f3a2b1c0"
	b, _ := json.Marshal(ev)
	inc, err := Normalize(b, exec0)
	if err != nil {
		t.Fatal(err)
	}
	if inc.Account != "444455556666" || inc.Region != "eu-central-1" {
		t.Errorf("got %s %s", inc.Account, inc.Region)
	}
}

// TestNormalizeRejects maps bad and hostile inputs to the field they name.
func TestNormalizeRejects(t *testing.T) {
	const arn = "arn:aws:ecs:us-east-1:111122223333:task/payments/0f8e7d6c5b4a39281706f5e4d3c2b1a0"
	console := func(fields string) string {
		return `{"taskArn":"` + arn + `","reason":"r","requestedBy":"alice@example.com"` + fields + `}`
	}
	withArn := func(a string) string {
		b, _ := json.Marshal(a)
		return `{"taskArn":` + string(b) + `,"reason":"r","requestedBy":"alice@example.com"}`
	}
	tests := []struct {
		name, input, field string
	}{
		{"not json", `taskArn: x`, "input"},
		{"empty", ``, "input"},
		{"array", `[]`, "input"},
		{"string", `"arn"`, "input"},
		{"null", `null`, "input"},
		{"two values", `{} {}`, "input"},
		{"empty object", `{}`, "taskArn"},
		{"missing reason", `{"taskArn":"` + arn + `","requestedBy":"a"}`, "reason"},
		{"empty reason", `{"taskArn":"` + arn + `","reason":"  ","requestedBy":"a"}`, "reason"},
		{"missing requestedBy", `{"taskArn":"` + arn + `","reason":"r"}`, "requestedBy"},
		{"typo dryRun", console(`,"dryrun":true`), "dryrun"},
		{"unknown key", console(`,"extra":1`), "extra"},
		{"dryRun string", console(`,"dryRun":"yes"`), "dryRun"},
		{"caseId spaces", console(`,"caseId":"a b"`), "caseId"},
		{"reason control char", `{"taskArn":"` + arn + `","reason":"r\u0007","requestedBy":"a"}`, "reason"},
		{"requestedBy shell", console(`,"requestedBy":"a; rm -rf /"`), "requestedBy"},
		{"arn wrong service", withArn("arn:aws:ec2:us-east-1:111122223333:task/payments/0f8e7d6c5b4a39281706f5e4d3c2b1a0"), "taskArn"},
		{"arn wrong partition", withArn("arn:aws-evil:ecs:us-east-1:111122223333:task/payments/0f8e7d6c5b4a39281706f5e4d3c2b1a0"), "taskArn"},
		{"arn region outside partition", withArn("arn:aws-cn:ecs:us-east-1:111122223333:task/payments/0f8e7d6c5b4a39281706f5e4d3c2b1a0"), "taskArn"},
		{"arn cn region in aws", withArn("arn:aws:ecs:cn-north-1:111122223333:task/payments/0f8e7d6c5b4a39281706f5e4d3c2b1a0"), "taskArn"},
		{"arn short format", withArn("arn:aws:ecs:us-east-1:111122223333:task/0f8e7d6c5b4a39281706f5e4d3c2b1a0"), "taskArn"},
		{"arn shell metacharacters", withArn("arn:aws:ecs:us-east-1:111122223333:task/pay$(reboot)/0f8e7d6c5b4a39281706f5e4d3c2b1a0"), "taskArn"},
		{"arn newline", withArn("arn:aws:ecs:us-east-1:111122223333:task/payments/0f8e7d6c5b4a39281706f5e4d3c2b1a0\n"), "taskArn"},
		{"arn bad account", withArn("arn:aws:ecs:us-east-1:1111:task/payments/0f8e7d6c5b4a39281706f5e4d3c2b1a0"), "taskArn"},
		{"arn service resource", withArn("arn:aws:ecs:us-east-1:111122223333:service/payments/api"), "taskArn"},
		{"arn huge", withArn("arn:aws:ecs:us-east-1:111122223333:task/" + strings.Repeat("a", 600) + "/0f8e7d6c5b4a39281706f5e4d3c2b1a0"), "taskArn"},
		{"taskArn number", `{"taskArn":5,"reason":"r","requestedBy":"a"}`, "taskArn"},
		{"other event source", `{"source":"aws.ec2","detail-type":"EC2 Instance State-change Notification","detail":{}}`, "source"},
		{"other guardduty detail type", `{"source":"aws.guardduty","detail-type":"GuardDuty Malware Protection Object Scan Result","detail":{}}`, "detail-type"},
		{"finding about an instance that names none", `{"source":"aws.guardduty","detail-type":"GuardDuty Finding","detail":{"id":"x","type":"Recon:EC2/Portscan","severity":2,"resource":{"resourceType":"Instance"}}}`, "detail.resource.instanceDetails"},
		{"finding about an access key", `{"source":"aws.guardduty","detail-type":"GuardDuty Finding","detail":{"id":"x","type":"Recon:IAMUser/MaliciousIPCaller","severity":2,"resource":{"resourceType":"AccessKey"}}}`, "detail.resource.resourceType"},
		{"ecs finding without task", `{"source":"aws.guardduty","detail-type":"GuardDuty Finding","detail":{"id":"x","type":"t","severity":5,"resource":{"resourceType":"ECSCluster","ecsClusterDetails":{"name":"c"}}}}`, "detail.resource.ecsClusterDetails.taskDetails"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Normalize([]byte(tt.input), exec0)
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("got %v; want a FieldError on %s", err, tt.field)
			}
			if fe.Field != tt.field {
				t.Errorf("field = %q (%v); want %q", fe.Field, fe, tt.field)
			}
		})
	}
}

func TestNormalizeEventFieldErrors(t *testing.T) {
	base := string(readSample(t, "guardduty-fargate-cryptominer.json"))
	tests := []struct{ name, from, to, field string }{
		{"bad launch type", `"launchType": "FARGATE"`, `"launchType": "far gate"`, "detail.resource.ecsClusterDetails.taskDetails.launchType"},
		{"missing launch type", `"launchType": "FARGATE",`, ``, "detail.resource.ecsClusterDetails.taskDetails.launchType"},
		{"bad arn", `"arn": "arn:aws:ecs:us-east-1:111122223333:task/payments/0f8e7d6c5b4a39281706f5e4d3c2b1a0"`, `"arn": "arn:aws:s3:::bucket"`, "detail.resource.ecsClusterDetails.taskDetails.arn"},
		{"severity text", `"severity": 8,`, `"severity": "high",`, "detail.severity"},
		{"account mismatch", `"accountId": "111122223333"`, `"accountId": "999999999999"`, "detail.resource.ecsClusterDetails.taskDetails.arn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := strings.Replace(base, tt.from, tt.to, 1)
			if in == base {
				t.Fatalf("sample does not contain %q", tt.from)
			}
			_, err := Normalize([]byte(in), exec0)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Errorf("got %v; want a FieldError on %s", err, tt.field)
			}
		})
	}
}

func TestExternalLaunchTypeIsValid(t *testing.T) {
	in := strings.Replace(string(readSample(t, "guardduty-ec2-reverse-shell.json")), `"launchType": "EC2"`, `"launchType": "EXTERNAL"`, 1)
	inc, err := Normalize([]byte(in), exec0)
	if err != nil || inc.LaunchType != "EXTERNAL" {
		t.Errorf("got %v, %v; want launch type EXTERNAL accepted", inc, err)
	}
}

func TestConsoleCaseID(t *testing.T) {
	b := []byte(`{"taskArn":"arn:aws:ecs:us-east-1:111122223333:task/payments/0f8e7d6c5b4a39281706f5e4d3c2b1a0","reason":"r","requestedBy":"a"}`)
	uuidExec := exec0
	uuidExec.Name = "3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
	a, _ := Normalize(b, uuidExec)
	again, _ := Normalize(b, uuidExec)
	if !strings.HasPrefix(a.CaseID, "case-") || a.CaseID != again.CaseID {
		t.Errorf("derived case ids %q, %q; want a stable case-… id", a.CaseID, again.CaseID)
	}
	named, _ := Normalize(b, exec0)
	if named.CaseID != "run-1" {
		t.Errorf("case id = %q; want the execution name run-1", named.CaseID)
	}
}

func FuzzNormalize(f *testing.F) {
	for _, name := range []string{"guardduty-fargate-cryptominer.json", "guardduty-ec2-reverse-shell.json", "guardduty-ec2-host-escape.json", "console-fargate.json"} {
		b, err := os.ReadFile("../../examples/inputs/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, in []byte) {
		inc, err := Normalize(in, exec0)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field == "" {
				t.Fatalf("rejection without a field: %v", err)
			}
			return
		}
		if inc.IsHost() {
			// A finding about a container instance names no task: its
			// instance instead.
			if inc.TaskArn != "" || !instanceIDRE.MatchString(inc.InstanceID) || inc.CaseID == "" {
				t.Fatalf("accepted a host incident with task %q instance %q case %q", inc.TaskArn, inc.InstanceID, inc.CaseID)
			}
			return
		}
		if _, perr := ParseTaskARN(inc.TaskArn); perr != nil || inc.CaseID == "" {
			t.Fatalf("accepted an incident with task %q case %q", inc.TaskArn, inc.CaseID)
		}
	})
}
