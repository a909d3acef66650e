package worlds

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/irflow/irflow/tasks/incident"
)

func fakeWorld(launchType string) *World {
	w := &World{Account: "123456789012", Region: "us-east-1", ClusterName: "demo", ClusterArn: "arn:aws:ecs:us-east-1:123456789012:cluster/demo",
		Target: Task{Arn: "arn:aws:ecs:us-east-1:123456789012:task/demo/0123456789abcdef0123456789abcdef", LaunchType: launchType,
			TaskDefinitionArn: "arn:aws:ecs:us-east-1:123456789012:task-definition/api:1", ServiceName: "api", Container: "api", Image: ImagePayments}}
	if launchType == "EC2" {
		w.Target.InstanceID, w.Target.ServiceName = "i-0123456789abcdef0", ""
	}
	return w
}

// TestRetarget: a retargeted example finding is about the world's task,
// keeps its id and type, and normalizes like any GuardDuty finding; a
// console input keeps everything but its taskArn.
func TestRetarget(t *testing.T) {
	for _, tt := range []struct{ file, launchType, typ string }{
		{"guardduty-fargate-cryptominer.json", "FARGATE", "Impact:Runtime/CryptoMinerExecuted"},
		{"guardduty-ec2-reverse-shell.json", "EC2", "Execution:Runtime/ReverseShell"},
	} {
		raw, err := os.ReadFile(filepath.Join("..", "..", "examples", "inputs", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		w := fakeWorld(tt.launchType)
		out, kind, finding, err := w.Retarget(raw)
		if err != nil || kind != InputFinding {
			t.Fatalf("%s: %v %s", tt.file, err, kind)
		}
		inc, err := incident.Normalize(out, incident.Execution{Name: "x"})
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		var orig struct{ Detail struct{ ID, Type string } }
		_ = json.Unmarshal(raw, &orig)
		if inc.TaskArn != w.Target.Arn || inc.LaunchType != tt.launchType || inc.Account != w.Account || inc.ClusterArn != w.ClusterArn ||
			inc.Finding.ID != orig.Detail.ID || inc.Finding.Type != orig.Detail.Type || inc.RequestedBy != "aws.guardduty" {
			t.Errorf("%s: %+v", tt.file, inc)
		}
		var f struct {
			ID, AccountID string
		}
		if json.Unmarshal(finding, &f) != nil || f.ID != orig.Detail.ID || f.AccountID != w.Account {
			t.Errorf("%s: finding %s", tt.file, finding)
		}
	}
	// A finding about the container instance: the EC2 world's instance
	// in its cluster, no task; a Fargate world has no host for it (below).
	raw, err := os.ReadFile(filepath.Join("..", "..", "examples", "inputs", "guardduty-ec2-host-escape.json"))
	if err != nil {
		t.Fatal(err)
	}
	ec2w := fakeWorld("EC2")
	hostOut, hostKind, _, err := ec2w.Retarget(raw)
	if err != nil || hostKind != InputFinding {
		t.Fatalf("host finding: %v %s", err, hostKind)
	}
	if inc, err := incident.Normalize(hostOut, incident.Execution{Name: "x"}); err != nil || !inc.IsHost() || inc.InstanceID != ec2w.Target.InstanceID ||
		inc.ClusterArn != ec2w.ClusterArn || inc.Account != ec2w.Account || inc.TaskArn != "" {
		t.Errorf("host finding: %+v (%v)", inc, err)
	}
	w := fakeWorld("FARGATE")
	if _, _, _, err := w.Retarget(raw); err == nil {
		t.Error("a host finding retargeted to a Fargate world: want an InputError")
	}
	out, kind, finding, err := w.Retarget([]byte(`{"taskArn":"arn:aws:ecs:us-east-1:111122223333:task/x/y","reason":"r","requestedBy":"alice","caseId":"c-1"}`))
	var in map[string]string
	if err != nil || kind != InputConsole || finding != nil || json.Unmarshal(out, &in) != nil || in["taskArn"] != w.Target.Arn || in["caseId"] != "c-1" || in["requestedBy"] != "alice" {
		t.Errorf("console: %s %s %v", out, kind, err)
	}
	for _, bad := range []string{`{"a":1}`, `[1]`, `{"detail-type":"GuardDuty Finding","detail":{"id":"x","resource":{"resourceType":"Instance"}}}`,
		`{"detail-type":"GuardDuty Finding"}`} {
		var ie *InputError
		if _, _, _, err := w.Retarget([]byte(bad)); !errors.As(err, &ie) {
			t.Errorf("%s: got %v; want an InputError", bad, err)
		}
	}
}
