package workflows

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/irflow/irflow/tasks/catalog"
)

// gate is an approval step as compiled: the defaults of the playbook's
// approval: block already applied.
type gate struct {
	ID          string
	LaunchTypes []string
	Prompt      string
	Approvers   []string
	Timeout     time.Duration
	OnTimeout   string
	SelfApprove bool
}

// compiledGates reads the approval gates out of the ASL, the compiled truth
// (resolve fills in defaults the YAML does not show), in plan order.
func compiledGates(b *book) ([]gate, error) {
	var sm struct {
		States map[string]struct {
			Resource   string `json:"Resource"`
			Parameters struct {
				Payload struct {
					Step string `json:"step"`
					With struct {
						Prompt            string   `json:"prompt"`
						Approvers         []string `json:"approvers"`
						TimeoutSeconds    int      `json:"timeoutSeconds"`
						OnTimeout         string   `json:"onTimeout"`
						AllowSelfApproval bool     `json:"allowSelfApproval"`
					} `json:"with"`
				} `json:"Payload"`
			} `json:"Parameters"`
		} `json:"States"`
	}
	if err := json.Unmarshal(b.result.ASL, &sm); err != nil {
		return nil, err
	}
	byID := map[string]*gate{}
	for name, st := range sm.States {
		if !strings.HasSuffix(st.Resource, ".waitForTaskToken") {
			continue
		}
		lt, _, ok := strings.Cut(name, ": ")
		if !ok {
			return nil, fmt.Errorf("approval state %q has no launch type prefix", name)
		}
		w := st.Parameters.Payload.With
		id := st.Parameters.Payload.Step
		g, seen := byID[id]
		if !seen {
			g = &gate{ID: id, Prompt: w.Prompt, Approvers: w.Approvers, OnTimeout: w.OnTimeout,
				Timeout: time.Duration(w.TimeoutSeconds) * time.Second, SelfApprove: w.AllowSelfApproval}
			byID[id] = g
		}
		g.LaunchTypes = append(g.LaunchTypes, lt)
	}
	var out []gate
	for _, lt := range catalog.LaunchTypes {
		for _, s := range b.result.Steps[lt] {
			if g, ok := byID[s.ID]; ok {
				sort.Slice(g.LaunchTypes, func(i, j int) bool {
					return slices.Index(catalog.LaunchTypes, g.LaunchTypes[i]) < slices.Index(catalog.LaunchTypes, g.LaunchTypes[j])
				})
				out = append(out, *g)
				delete(byID, s.ID)
			}
		}
	}
	return out, nil
}

// shortDuration prints 30m for 30m0s and 2h for 2h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
