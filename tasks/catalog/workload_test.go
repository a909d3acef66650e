package catalog

import (
	"strings"
	"testing"
)

// TestWorkloadIAM: a member account's responder role holds an action's
// statements on the workload and none on irflow's stores or GuardDuty.
func TestWorkloadIAM(t *testing.T) {
	home := map[string]bool{"notify": true, "request-approval": true, "finalize-case": true}
	for _, a := range All() {
		if a.ActsInTarget() == home[a.Name] {
			t.Errorf("%s: ActsInTarget = %v", a.Name, a.ActsInTarget())
		}
		for _, st := range a.WorkloadIAM() {
			for _, r := range st.Resources {
				for _, p := range storePlaceholders {
					if strings.Contains(r, p) {
						t.Errorf("%s: workload statement on %s", a.Name, r)
					}
				}
			}
			for _, act := range st.Actions {
				if strings.HasPrefix(act, "guardduty:") || strings.Contains(act, "*") {
					t.Errorf("%s: workload action %s", a.Name, act)
				}
			}
		}
	}
}
