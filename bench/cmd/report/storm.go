package main

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/irflow/irflow/internal/benchdoc"
)

// StormBench is `irflow-demo --world storm`'s storm.json: the storm's
// outcome as read back from moto and what its executions cost.
type StormBench = benchdoc.StormRun

// targetStormTransitionsPerTask bounds the case execution's state
// transitions per contained task (issue 17).
const targetStormTransitionsPerTask = 15

// loadStorm reads storm.json from dir; nil when the run has none (a bench
// run before the storm phase existed).
func loadStorm(dir string) (*StormBench, error) {
	var s StormBench
	err := readJSON(filepath.Join(dir, benchdoc.StormFile), &s)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// renderStorm is section 7: the finding storm.
func renderStorm(body *strings.Builder, s *StormBench, c *checker, headline *table) {
	st := s.Summary
	fmt.Fprintf(body, "## 7. Finding storm\n\n")
	fmt.Fprintf(body, "`irflow-demo --world storm --playbook workflows/crypto-mining.yaml --decide approve`: the storm world (internal/worlds) runs %d tasks of one service from a compromised image digest and tasks of a clean service on the same two hosts; the bench sends %d GuardDuty findings over the compromised tasks (one, then bursts while its case waits at the gate), each an execution through the real handlers against moto behind the AWS-strict layer, and reads the outcome back from moto. Transitions and invocations are counted by the simulator over every execution; the wall time is the storm's, from its first finding to the end of the judgement, on this machine (moto is slower than AWS by far: read it as an upper bound of the harness, not of Step Functions). The transitions target is held on the case's execution, the containment of every task; each finding that joins the case costs its own execution 3 transitions (Resolve target, Correlated, Done), shown apart.\n\n",
		st.CompromisedTasks, st.Findings)
	var outcomes []string
	for _, k := range slices.Sorted(maps.Keys(s.Outcomes)) {
		outcomes = append(outcomes, fmt.Sprintf("%d %s", s.Outcomes[k], k))
	}
	perTask := func(n int) float64 {
		if st.CompromisedTasksContained == 0 {
			return 0
		}
		return float64(n) / float64(st.CompromisedTasksContained)
	}
	var t table
	t.head = []string{"figure", "value", "target", "status"}
	t.add("findings recorded in the cases' audit chains", fmt.Sprint(st.Findings), "≥ 100", c.check(st.Findings >= 100, fmt.Sprintf("storm: %d findings (target ≥ 100)", st.Findings)))
	t.add("executions", fmt.Sprintf("%d (%s)", s.Executions, strings.Join(outcomes, ", ")), "-", "-")
	t.add("cases / compromised services", fmt.Sprintf("%d / %d", st.Cases, st.CompromisedServices), "equal", c.check(st.Cases == st.CompromisedServices, fmt.Sprintf("storm: %d cases for %d compromised services", st.Cases, st.CompromisedServices)))
	apOK := st.ApprovalsRequested == st.CompromisedServices
	t.add("approvals requested / compromised services", fmt.Sprintf("%d / %d", st.ApprovalsRequested, st.CompromisedServices), "equal", c.check(apOK, fmt.Sprintf("storm: %d approvals for %d compromised services", st.ApprovalsRequested, st.CompromisedServices)))
	t.add("compromised tasks contained", fmt.Sprintf("%d / %d", st.CompromisedTasksContained, st.CompromisedTasks), "all", c.check(st.CompromisedTasks > 0 && st.CompromisedTasksContained == st.CompromisedTasks, fmt.Sprintf("storm: %d of %d compromised tasks contained", st.CompromisedTasksContained, st.CompromisedTasks)))
	t.add("clean tasks touched", fmt.Sprint(st.InnocentTasksTouched), "0", c.check(st.InnocentTasksTouched == 0, fmt.Sprintf("storm: %d clean tasks touched", st.InnocentTasksTouched)))
	t.add("replacements from the compromised image", fmt.Sprintf("%d (of %d the bench's scheduler started)", st.ReplacementsFromCompromisedImage, s.Replacements), "0", c.check(st.ReplacementsFromCompromisedImage == 0, fmt.Sprintf("storm: %d replacements from the compromised image", st.ReplacementsFromCompromisedImage)))
	ptOK := st.CompromisedTasksContained > 0 && perTask(s.CaseTransitions) <= targetStormTransitionsPerTask
	t.add("state transitions of the case's execution per contained task", fmt.Sprintf("%d / %d = %.1f", s.CaseTransitions, st.CompromisedTasksContained, perTask(s.CaseTransitions)), fmt.Sprintf("≤ %d", targetStormTransitionsPerTask),
		c.check(ptOK, fmt.Sprintf("storm: %.1f transitions of the case per contained task (target ≤ %d)", perTask(s.CaseTransitions), targetStormTransitionsPerTask)))
	t.add("state transitions of every execution per contained task", fmt.Sprintf("%d / %d = %.1f", s.Transitions, st.CompromisedTasksContained, perTask(s.Transitions)), "none (informational)", "-")
	t.add("Lambda invocations, every execution", fmt.Sprint(s.Invocations), "-", "-")
	t.add("cost of every execution (Standard)", usd(float64(s.Transitions)*transitionUSD), "-", "-")
	t.add("wall time", fmtNs(float64(s.Wall)), "-", "-")
	t.write(body)
	headline.add("storm: approvals / compromised services", fmt.Sprintf("%d / %d", st.ApprovalsRequested, st.CompromisedServices), "equal", statusWord(apOK))
	headline.add("storm: transitions of the case per contained task", fmt.Sprintf("%.1f", perTask(s.CaseTransitions)), fmt.Sprintf("≤ %d", targetStormTransitionsPerTask), statusWord(ptOK))
}
