package incident

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/irflow/irflow/schemas"
)

func hostFinding(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile("testdata/guardduty-ec2-host-mount.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestNormalizeHostFinding(t *testing.T) {
	b, _ := os.ReadFile("testdata/guardduty-ec2-host-mount.json")
	inc, err := Normalize(b, exec0)
	if err != nil {
		t.Fatal(err)
	}
	want := Incident{CaseID: "gd-e4f5a6b7c8d94e0fa1b2c3d4e5f6a7b8", Source: SourceGuardDuty, LaunchType: "EC2", ResourceType: "Instance",
		InstanceID: "i-0b1c2d3e4f5a69788", ClusterArn: "arn:aws:ecs:us-east-1:111122223333:cluster/batch",
		Region: "us-east-1", Account: "111122223333", Partition: "aws"}
	if inc.CaseID != want.CaseID || inc.Source != want.Source || inc.LaunchType != want.LaunchType || inc.ResourceType != want.ResourceType ||
		inc.InstanceID != want.InstanceID || inc.ClusterArn != want.ClusterArn || inc.Region != want.Region || inc.Account != want.Account ||
		inc.Partition != want.Partition || inc.TaskArn != "" || !inc.IsHost() {
		t.Errorf("incident %+v", inc)
	}
	if f := inc.Finding; f == nil || f.Type != "PrivilegeEscalation:Runtime/ContainerMountsHostDirectory" || f.Severity != 8 || f.Process == nil || f.Process.Pid != 48211 {
		t.Errorf("finding %+v", inc.Finding)
	}
	if inc.LockKey() != "host#arn:aws:ec2:us-east-1:111122223333:instance/i-0b1c2d3e4f5a69788" {
		t.Errorf("lock key %s", inc.LockKey())
	}
	if !strings.Contains(inc.Reason, "i-0b1c2d3e4f5a69788") {
		t.Errorf("reason %q", inc.Reason)
	}
}

func TestNormalizeHostFindingRefusals(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(detail, res map[string]any)
		field string
	}{
		{"no instanceDetails", func(_, r map[string]any) { delete(r, "instanceDetails") }, "detail.resource.instanceDetails"},
		{"no instance id", func(_, r map[string]any) { delete(r["instanceDetails"].(map[string]any), "instanceId") }, "detail.resource.instanceDetails.instanceId"},
		{"not an instance id", func(_, r map[string]any) { r["instanceDetails"].(map[string]any)["instanceId"] = "i-0b1c; reboot" }, "detail.resource.instanceDetails.instanceId"},
		{"no account", func(d, _ map[string]any) { delete(d, "accountId") }, "detail.accountId"},
		{"a bad region", func(d, _ map[string]any) { d["region"] = "us-east-1;" }, "detail.region"},
		{"a region outside the partition", func(d, _ map[string]any) { d["partition"] = "aws-cn" }, "detail.region"},
		{"a cluster of another account", func(_, r map[string]any) {
			r["ecsClusterDetails"].(map[string]any)["arn"] = "arn:aws:ecs:us-east-1:444455556666:cluster/batch"
		}, "detail.resource.ecsClusterDetails.arn"},
		{"a cluster whose name and ARN differ", func(_, r map[string]any) { r["ecsClusterDetails"].(map[string]any)["name"] = "prod" }, "detail.resource.ecsClusterDetails.arn"},
		{"no severity", func(d, _ map[string]any) { delete(d, "severity") }, "detail.severity"},
		{"not a Runtime Monitoring finding", func(d, _ map[string]any) { d["type"] = "Recon:EC2/PortProbeUnprotectedPort" }, "detail.type"},
		{"Runtime only in the name", func(d, _ map[string]any) { d["type"] = "UnauthorizedAccess:EC2/Runtime" }, "detail.type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := hostFinding(t)
			d := m["detail"].(map[string]any)
			tt.edit(d, d["resource"].(map[string]any))
			b, _ := json.Marshal(m)
			_, err := Normalize(b, exec0)
			fe, ok := err.(*FieldError)
			if !ok || fe.Field != tt.field {
				t.Errorf("error %v; want one on %s", err, tt.field)
			}
		})
	}
}

// A host finding without ecsClusterDetails (GuardDuty did not name the
// cluster) leaves resolve-target to find the instance in every cluster; a
// name alone gives the ARN.
func TestNormalizeHostFindingCluster(t *testing.T) {
	for _, tt := range []struct {
		name string
		edit func(map[string]any)
		want string
	}{
		{"no ecsClusterDetails", func(r map[string]any) { delete(r, "ecsClusterDetails") }, ""},
		{"a name only", func(r map[string]any) { delete(r["ecsClusterDetails"].(map[string]any), "arn") }, "arn:aws:ecs:us-east-1:111122223333:cluster/batch"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := hostFinding(t)
			tt.edit(m["detail"].(map[string]any)["resource"].(map[string]any))
			b, _ := json.Marshal(m)
			inc, err := Normalize(b, exec0)
			if err != nil || inc.ClusterArn != tt.want {
				t.Errorf("cluster %q, %v; want %q", inc.ClusterArn, err, tt.want)
			}
		})
	}
}

// The execution-input schema (what EventBridge hands a state machine)
// accepts the host finding as Normalize does.
func TestHostFindingMatchesTheSchema(t *testing.T) {
	s := schemas.MustCompiled(schemas.ExecutionInputURL)
	m := hostFinding(t)
	var v any
	b, _ := json.Marshal(m)
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(v); err != nil {
		t.Errorf("host finding: %v", err)
	}
	delete(m["detail"].(map[string]any)["resource"].(map[string]any), "instanceDetails")
	b, _ = json.Marshal(m)
	_ = json.Unmarshal(b, &v)
	if err := s.Validate(v); err == nil {
		t.Error("a host finding without instanceDetails passes the schema")
	}
}
