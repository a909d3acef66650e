package generator

import (
	"regexp"
	"sort"
	"testing"
)

// findingTypePattern is the schema's pattern for one trigger (playbook.v1,
// triggers.guardduty.findingTypes): every known type must be writable.
var findingTypePattern = regexp.MustCompile(`^[A-Za-z]+:[A-Za-z0-9]+/([A-Za-z0-9.&!_-]+\*?|\*)$`)

func TestKnownFindingTypesSortedUniqueRuntime(t *testing.T) {
	known := KnownFindingTypes()
	if len(known) == 0 {
		t.Fatal("no known finding types")
	}
	if !sort.StringsAreSorted(known) {
		t.Errorf("KnownFindingTypes is not sorted")
	}
	seen := map[string]bool{}
	for _, ft := range known {
		if seen[ft] {
			t.Errorf("duplicate finding type %q", ft)
		}
		seen[ft] = true
		if !findingTypePattern.MatchString(ft) {
			t.Errorf("%q does not match the playbook schema's finding type pattern", ft)
		}
		if !regexp.MustCompile(`^[A-Za-z]+:Runtime/`).MatchString(ft) {
			t.Errorf("%q is not a Runtime Monitoring finding type", ft)
		}
	}
}

func TestKnownFindingTypesIsACopy(t *testing.T) {
	a := KnownFindingTypes()
	a[0] = "changed"
	if b := KnownFindingTypes(); b[0] == "changed" {
		t.Errorf("KnownFindingTypes returns the package's slice; callers can change it")
	}
}

func TestKnownFindingTypesContents(t *testing.T) {
	tests := []struct {
		name  string
		ft    string
		known bool
	}{
		{"reverse shell", "Execution:Runtime/ReverseShell", true},
		{"custom hash list", "Execution:Runtime/MaliciousFileExecuted.Custom", true},
		{"sensitive file persistence", "Persistence:Runtime/SensitiveFileModified", true},
		{"sensitive file privilege escalation", "PrivilegeEscalation:Runtime/SensitiveFileModified", true},
		{"sensitive file defense evasion", "DefenseEvasion:Runtime/SensitiveFileModified", true},
		{"kernel module: EC2 instances only", "DefenseEvasion:Runtime/KernelModuleLoaded", false},
		{"EC2 finding", "Backdoor:EC2/C&CActivity.B", false},
		{"malware scan finding", "Execution:ECS/MaliciousFile", false},
	}
	known := map[string]bool{}
	for _, ft := range KnownFindingTypes() {
		known[ft] = true
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := known[tt.ft]; got != tt.known {
				t.Errorf("known[%q] = %v; want %v", tt.ft, got, tt.known)
			}
		})
	}
}

func TestMatchFindingTypes(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		want    int
	}{
		{"exact", "Execution:Runtime/ReverseShell", 1},
		{"exact is not a prefix", "Execution:Runtime/MaliciousFileExecuted", 1},
		{"unknown exact", "Execution:Runtime/ReverseShel", 0},
		{"prefix wildcard", "Trojan:Runtime/*", 7},
		{"narrow wildcard", "Execution:Runtime/MaliciousFileExecuted*", 2},
		{"privilege escalation", "PrivilegeEscalation:Runtime/*", 8},
		{"no match", "Recon:Runtime/*", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MatchFindingTypes(tt.pattern)
			if len(got) != tt.want {
				t.Errorf("MatchFindingTypes(%q) = %v; want %d types", tt.pattern, got, tt.want)
			}
		})
	}
}
