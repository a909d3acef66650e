package demo

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"

	"github.com/irflow/irflow/internal/benchdoc"
	"github.com/irflow/irflow/internal/flowmodel"
)

// Summary is the bench's JSON summary (--summary; make demo writes
// build/demo/summary.json). Its keys are a contract: docs/design.md, "The
// test bench".
type Summary struct {
	Strict         bool              `json:"strict"`
	StrictRefusals []Refusal         `json:"strictRefusals"`
	Moto           *MotoInfo         `json:"moto,omitempty"`
	Env            map[string]string `json:"env"`
	Cases          []SummaryCase     `json:"cases"`
	// Storm is the storm world's outcome, read back from moto (--world storm).
	Storm *benchdoc.StormSummary `json:"storm,omitempty"`
}

// MotoInfo says how to reach a kept moto (--keep).
type MotoInfo struct {
	// Endpoint is what irflow talks to: the strict layer in front of moto
	// (or moto itself with IRFLOW_AWS_STRICT=0).
	Endpoint string `json:"endpoint"`
	// PID is moto server's process; StrictPID the strict layer's.
	PID       int    `json:"pid"`
	StrictPID int    `json:"strictPid,omitempty"`
	MotoURL   string `json:"motoUrl"`
	Region    string `json:"region"`
	Account   string `json:"account"`
	Tables    struct {
		Audit     string `json:"audit"`
		Approvals string `json:"approvals"`
		Incidents string `json:"incidents"`
	} `json:"tables"`
	Bucket string `json:"bucket"`
}

// SummaryCase is one case of the summary.
type SummaryCase struct {
	Case string `json:"case"`
	benchdoc.CaseHead
	// TargetAccount holds the world (a member account for an
	// organization world); ResponderAccount is where irflow runs and keeps
	// its stores (the GuardDuty administrator). The same account for a
	// single-account world.
	TargetAccount    string        `json:"targetAccount"`
	ResponderAccount string        `json:"responderAccount"`
	Target           SummaryTarget `json:"target"`
	Flows            []FlowResult  `json:"flows"`
	Task             struct {
		LastStatus string `json:"lastStatus"`
	} `json:"task"`
	Steps []SummaryStep `json:"steps"`
	// RoundTripsToContainment is the sequential AWS round trips from the
	// execution's start until its isolation was in effect (concurrent
	// requests once, a Parallel's branches by the longest); null when no
	// isolation took effect. ContainmentPath says how it was counted.
	RoundTripsToContainment *int                      `json:"roundTripsToContainment"`
	ContainmentPath         *benchdoc.ContainmentPath `json:"containmentPath,omitempty"`
	StrictRefusals          []Refusal                 `json:"strictRefusals"`
	Evidence                struct {
		Objects    int `json:"objects"`
		Mismatched int `json:"mismatched"`
	} `json:"evidence"`
	Audit struct {
		Records  int  `json:"records"`
		Verified bool `json:"verified"`
	} `json:"audit"`
	Problems []string `json:"problems,omitempty"`
}

// SummaryTarget is the compromised task as the world had it before the
// response: its ENIs (its own, or its instance's for bridge and host
// tasks), their addresses and their original security groups.
type SummaryTarget struct {
	TaskArn                string              `json:"taskArn"`
	VpcID                  string              `json:"vpcId"`
	ENIIDs                 []string            `json:"eniIds"`
	PrivateIPs             []string            `json:"privateIps"`
	InstanceID             string              `json:"instanceId,omitempty"`
	OriginalSecurityGroups map[string][]string `json:"originalSecurityGroups"`
}

// SummaryStep is one Task state of the run.
type SummaryStep struct {
	ID     string `json:"id"`
	Action string `json:"action"`
	Result string `json:"result"`
}

// summarize builds the summary of a run.
func summarize(res *Result, env *awsEnv) *Summary {
	s := &Summary{Strict: res.Strict, StrictRefusals: nonNilRefusals(res.Refusals), Moto: res.Moto, Env: env.vars(res.Env)}
	for _, c := range res.Cases {
		s.Cases = append(s.Cases, summarizeCase(c))
	}
	if res.Storm != nil {
		storm := res.Storm.Summary
		s.Storm = &storm
	}
	return s
}

func summarizeCase(c *Case) SummaryCase {
	t := c.World.Target
	sc := SummaryCase{Case: c.CaseID, CaseHead: benchdoc.CaseHead{World: c.WorldName, LaunchType: t.LaunchType, NetworkMode: t.NetworkMode},
		Flows: c.Flows, StrictRefusals: nonNilRefusals(c.Refusals), Problems: c.Problems}
	if c.Run != nil {
		sc.Playbook, sc.Status, sc.Outcome = c.Run.Playbook, c.Run.Status, c.Run.Outcome
		for _, st := range c.Run.Steps {
			id := st.Step
			if id == "" {
				id = st.Action
			}
			sc.Steps = append(sc.Steps, SummaryStep{ID: id, Action: st.Action, Result: st.Result})
		}
	}
	sc.TargetAccount, sc.ResponderAccount = c.World.Account, c.World.Account
	if c.World.ResponderAccount != "" {
		sc.ResponderAccount = c.World.ResponderAccount
	}
	sc.Task.LastStatus = c.TaskStatus
	if p := c.Path; p != nil {
		sc.ContainmentPath = p
		if p.Step != "" {
			n := p.RoundTrips
			sc.RoundTripsToContainment = &n
		}
	}
	sc.Target = targetOf(c)
	sc.Evidence.Objects = len(c.Evidence)
	for _, o := range c.Evidence {
		if len(o.Problems) > 0 {
			sc.Evidence.Mismatched++
		}
	}
	sc.Audit.Records, sc.Audit.Verified = len(c.Records), len(c.Records) > 0 && c.ChainErr == nil
	return sc
}

// targetOf reads the target's ENIs from the network before the response.
func targetOf(c *Case) SummaryTarget {
	w, t := c.World, c.World.Target
	st := SummaryTarget{TaskArn: t.Arn, VpcID: w.VpcID, InstanceID: t.InstanceID, OriginalSecurityGroups: map[string][]string{}}
	var enis []string
	switch {
	case t.ENI != "":
		enis = []string{t.ENI}
	case c.Baseline != nil:
		for id, e := range c.Baseline.ENIs {
			if e.Instance == t.InstanceID && t.InstanceID != "" && e.Kind == flowmodel.KindInterface {
				enis = append(enis, id)
			}
		}
		sort.Strings(enis)
	}
	for _, id := range enis {
		st.ENIIDs = append(st.ENIIDs, id)
		if c.Baseline == nil || c.Baseline.ENIs[id] == nil {
			continue
		}
		e := c.Baseline.ENIs[id]
		for _, ip := range e.PrivateIPs {
			st.PrivateIPs = append(st.PrivateIPs, ip.String())
		}
		st.OriginalSecurityGroups[id] = append([]string{}, e.Groups...)
	}
	return st
}

func nonNilRefusals(r []Refusal) []Refusal {
	if r == nil {
		return []Refusal{}
	}
	return r
}

// writeSummary writes the summary as indented JSON.
func writeSummary(path string, res *Result, env *awsEnv) error {
	b, err := json.MarshalIndent(summarize(res, env), "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
