package generator

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/irflow/irflow/generator/diag"
	"github.com/irflow/irflow/generator/internal/playbook"
	"github.com/irflow/irflow/tasks/catalog"
)

// check runs the playbook-wide static checks: duplicate ids, the flow checks
// per launch type (approval-required, ssm-after-isolation,
// evidence-after-destruction), trigger sanity and empty branches.
func (c *compilation) check() {
	c.checkDuplicateIDs()
	c.checkTriggers()
	c.checkHostConditions()
	c.checkEmptyBranches()
	f := findings{}
	for _, lt := range catalog.LaunchTypes {
		c.flow(c.pb.Steps, lt, nil, flowState{}, f)
	}
	f.report(c)
}

func (c *compilation) checkDuplicateIDs() {
	first := map[string]*playbook.Step{}
	c.pb.Walk(func(s *playbook.Step) {
		if s.ID == "" {
			return
		}
		if prev, dup := first[s.ID]; dup {
			line := c.doc.Pos(prev.Path + "/id").Line
			c.errorAt(diag.CodeDuplicateID, s.Path+"/id", "step ids must be unique in the playbook", fmt.Sprintf("duplicate step id %q (first at line %d)", s.ID, line))
			return
		}
		first[s.ID] = s
	})
}

func (c *compilation) checkTriggers() {
	if !c.pb.Triggers.Manual && len(c.pb.Triggers.FindingTypes) == 0 && c.doc.Has("/triggers") {
		c.errorAt(diag.CodeSchema, "/triggers", "add guardduty.findingTypes or set manual: true", "the playbook can never start: manual is false and no GuardDuty finding triggers it")
	}
	c.checkFindingTypes(c.pb.Triggers.FindingTypes)
	c.pb.Walk(func(s *playbook.Step) {
		if s.When != nil {
			c.checkFindingTypes(s.When.FindingTypes)
		}
	})
}

// checkFindingTypes warns about finding types (and patterns) that name no
// known ECS runtime finding type: usually a typo.
func (c *compilation) checkFindingTypes(types []playbook.Located) {
	known := KnownFindingTypes()
	for _, ft := range types {
		if prefix, ok := strings.CutSuffix(ft.Value, "*"); ok {
			if len(MatchFindingTypes(ft.Value)) == 0 {
				c.warnAt(diag.CodeUnknownFindingType, ft.Path, "no known ECS runtime finding type starts with "+prefix, fmt.Sprintf("pattern %q matches no known finding type", ft.Value))
			}
			continue
		}
		if !contains(known, ft.Value) {
			c.warnAt(diag.CodeUnknownFindingType, ft.Path, diag.DidYouMean(ft.Value, known), fmt.Sprintf("%q is not a known GuardDuty Runtime Monitoring finding type for ECS", ft.Value))
		}
	}
}

func (c *compilation) checkEmptyBranches() {
	c.pb.Walk(func(s *playbook.Step) {
		for _, b := range s.Branches {
			if len(b.Steps) == 0 {
				c.warnAt(diag.CodeEmptyBranch, b.Path, "remove it or add steps", fmt.Sprintf("empty branch in parallel %q", s.ID))
			}
		}
	})
	unresolved := false
	c.pb.Walk(func(s *playbook.Step) {
		if info := c.info[s]; s.Kind == playbook.KindAction && (info == nil || info.action == nil) {
			unresolved = true
		}
	})
	if unresolved {
		return // "no step runs on X" would only echo the errors above
	}
	for _, lt := range catalog.LaunchTypes {
		runs := false
		c.pb.Walk(func(s *playbook.Step) {
			if info := c.info[s]; info != nil && info.action != nil && info.runsOn(lt) {
				runs = true
			}
		})
		if !runs && len(c.pb.Steps) > 0 {
			c.warnAt(diag.CodeEmptyBranch, "/steps", "add steps whose actions support "+lt+", or a notify step", fmt.Sprintf("no step runs on %s: that branch goes straight to finalize-case", lt))
		}
	}
}

// flowState is what has happened on a launch type's path before a step,
// each under the condition it happened under: a step that may or may not
// run (when:) counts as run for what it may break, and as not run for what
// it must guarantee.
type flowState struct {
	approvals  []effect // gates that approved (the path goes on only if they did)
	isolations []effect // isolate-network steps that cut SSM off
	stopped    []effect // steps that ended the task
}

// effect is a step that ran under a condition.
type effect struct {
	step *playbook.Step
	cond cond
}

// flow checks steps in order on one launch type, under the path's
// condition (what encloses them), and returns the state after them.
func (c *compilation) flow(steps []*playbook.Step, lt string, path cond, st flowState, f findings) flowState {
	for _, s := range steps {
		info := c.info[s]
		if info == nil || !info.runsOn(lt) {
			continue
		}
		own, ok := info.when.on(lt)
		if !ok {
			continue
		}
		under := path.and(own)
		switch s.Kind {
		case playbook.KindApproval:
			// A rejection runs onReject from the state before the gate,
			// without its consent (nor any earlier one: the response was
			// refused), then ends the run.
			c.flow(s.OnReject, lt, under, flowState{isolations: st.isolations, stopped: st.stopped}, f)
			st.approvals = append(slices.Clip(st.approvals), effect{s, under})
		case playbook.KindAction:
			if info.action != nil {
				st = c.flowAction(s, info, lt, under, st, f)
			}
		case playbook.KindParallel:
			st = c.flowParallel(s, lt, under, st, f)
		case playbook.KindForEach:
			c.flowForEach(s, under, st, f)
		}
	}
	return st
}

func (c *compilation) flowAction(s *playbook.Step, info *stepInfo, lt string, under cond, st flowState, f findings) flowState {
	a := info.action
	escaped := s.RequiresApproval != nil && !*s.RequiresApproval && strings.TrimSpace(s.Justification) != ""
	approved := slices.ContainsFunc(st.approvals, func(g effect) bool { return under.implies(g.cond) })
	if a.Destructive && !approved && !escaped {
		var gate *playbook.Step
		if n := len(st.approvals); n > 0 {
			gate = st.approvals[n-1].step // a conditional gate that does not cover it
		}
		f.add(diag.CodeApprovalRequired, s, lt, gate)
	}
	may := func(effects []effect) *playbook.Step {
		for _, e := range effects {
			if !under.disjoint(e.cond) {
				return e.step
			}
		}
		return nil
	}
	if cause := may(st.isolations); a.UsesSSM && cause != nil {
		f.add(diag.CodeSSMAfterIsolation, s, lt, cause)
	}
	if cause := may(st.stopped); a.NeedsRunningTarget && cause != nil {
		f.add(diag.CodeEvidenceAfterDestruction, s, lt, cause)
	}
	// A host finding's target is an EC2 container instance without a task:
	// on the EC2 branch of a playbook that takes them, an action that needs
	// a task runs only where the target is one (forEach iterations are).
	if a.NeedsTask && c.pb.Triggers.HostFindings && lt == catalog.EC2 && !under.implies(onlyTasks) {
		f.add(diag.CodeHostFindings, s, lt, nil)
	}
	if a.Name == "isolate-network" {
		if allow, _ := info.with["allowSsm"].(bool); !allow {
			st.isolations = append(slices.Clip(st.isolations), effect{s, under})
		}
	}
	if a.StopsTarget {
		st.stopped = append(slices.Clip(st.stopped), effect{s, under})
	}
	return st
}

// flowParallel checks each branch from the state before the parallel, then
// again with what its siblings may already have done (they race), and
// returns the state after the parallel.
func (c *compilation) flowParallel(s *playbook.Step, lt string, under cond, st flowState, f findings) flowState {
	added := make([]flowState, len(s.Branches)) // what each branch adds
	for i, b := range s.Branches {
		e := c.flow(b.Steps, lt, under, st, f)
		added[i] = flowState{isolations: e.isolations[len(st.isolations):], stopped: e.stopped[len(st.stopped):]}
	}
	after := st
	for i, b := range s.Branches {
		raced := st
		for j, e := range added {
			if j != i {
				raced.isolations = append(slices.Clip(raced.isolations), e.isolations...)
				raced.stopped = append(slices.Clip(raced.stopped), e.stopped...)
			}
		}
		c.flow(b.Steps, lt, under, raced, f)
		after.isolations = append(slices.Clip(after.isolations), added[i].isolations...)
		after.stopped = append(slices.Clip(after.stopped), added[i].stopped...)
	}
	return after
}

// flowForEach checks the steps of a forEach. Each iteration acts on another
// task (a sibling), on any launch type: what the run did to its own task
// (isolation, stop) does not hold there, and its own conditions say nothing
// about the sibling. The approvals before the forEach cover the loop when
// they held wherever the forEach runs; inside, they hold unconditionally.
// The state of the run's own task is unchanged after it.
func (c *compilation) flowForEach(s *playbook.Step, under cond, st flowState, f findings) {
	var covered []effect
	for _, g := range st.approvals {
		if under.implies(g.cond) {
			covered = append(covered, effect{g.step, nil})
		}
	}
	// Each iteration's target is a task of the list, never a host.
	for _, lt := range catalog.LaunchTypes {
		c.flow(s.ForEach.Steps, lt, onlyTasks, flowState{approvals: covered}, f)
	}
}

// checkHostConditions reports when: {target: host} where it never holds:
// inside a forEach (each iteration's target is a task of the list), and in
// a playbook that takes no host findings (the target is always a task).
func (c *compilation) checkHostConditions() {
	inLoop := map[*playbook.Step]bool{}
	for _, fe := range c.pb.Steps {
		if fe.ForEach == nil {
			continue
		}
		(&playbook.Playbook{Steps: fe.ForEach.Steps}).Walk(func(s *playbook.Step) {
			inLoop[s] = true
			if s.When != nil && s.When.Target == targetHost {
				c.errorAt(diag.CodeHostFindings, s.When.Path+"/target", fmt.Sprintf("put the condition on forEach %q, or remove it", fe.ID),
					fmt.Sprintf("step %q never runs: each iteration of forEach %q targets a task of its list, so when: {target: host} never holds", s.ID, fe.ID))
			}
		})
	}
	if c.pb.Triggers.HostFindings {
		return
	}
	c.pb.Walk(func(s *playbook.Step) {
		if !inLoop[s] && s.When != nil && s.When.Target == targetHost {
			c.errorAt(diag.CodeHostFindings, s.When.Path+"/target", "set triggers.guardduty.hostFindings: true, or remove the condition",
				fmt.Sprintf("step %q never runs: when: {target: host} needs a host finding, and the playbook takes none", s.ID))
		}
	})
}

// forEachOf returns the forEach step whose steps hold s, or nil.
func (c *compilation) forEachOf(s *playbook.Step) *playbook.Step {
	for _, fe := range c.pb.Steps {
		if fe.ForEach == nil {
			continue
		}
		found := false
		(&playbook.Playbook{Steps: fe.ForEach.Steps}).Walk(func(x *playbook.Step) { found = found || x == s })
		if found {
			return fe
		}
	}
	return nil
}

// rejectedBy returns the approval step whose onReject holds s, or nil.
func (c *compilation) rejectedBy(s *playbook.Step) *playbook.Step {
	var gate *playbook.Step
	c.pb.Walk(func(g *playbook.Step) {
		if gate != nil || len(g.OnReject) == 0 {
			return
		}
		sub := &playbook.Playbook{Steps: g.OnReject}
		sub.Walk(func(x *playbook.Step) {
			if x == s {
				gate = g
			}
		})
	})
	return gate
}

// findings collects flow diagnostics per code and step across launch types,
// so a problem on both branches is reported once.
type findings map[findingKey]*finding

type findingKey struct {
	code string
	step *playbook.Step
}

type finding struct {
	launchTypes []string
	cause       *playbook.Step
}

func (f findings) add(code string, s *playbook.Step, lt string, cause *playbook.Step) {
	k := findingKey{code, s}
	fd, ok := f[k]
	if !ok {
		fd = &finding{cause: cause}
		f[k] = fd
	}
	if !contains(fd.launchTypes, lt) {
		fd.launchTypes = append(fd.launchTypes, lt)
	}
}

func (f findings) report(c *compilation) {
	keys := make([]findingKey, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].step.Path != keys[j].step.Path {
			return keys[i].step.Path < keys[j].step.Path
		}
		return keys[i].code < keys[j].code
	})
	for _, k := range keys {
		fd := f[k]
		s := k.step
		a := c.info[s].action.Name
		on := "on the " + strings.Join(fd.launchTypes, " and ") + " branch"
		if len(fd.launchTypes) > 1 {
			on += "es"
		}
		ptr := s.Path + "/action"
		switch k.code {
		case diag.CodeApprovalRequired:
			hint := "add an approval: step before it, or requiresApproval: false with a justification"
			if fe := c.forEachOf(s); fe != nil {
				hint = fmt.Sprintf("add an approval: step before forEach %q (one approval covers every task of the loop), or requiresApproval: false with a justification", fe.ID)
			} else if g := c.rejectedBy(s); g != nil {
				hint = fmt.Sprintf("a rejection of %q approves nothing its onReject runs: set requiresApproval: false with a justification", g.ID)
			} else if g := fd.cause; g != nil {
				hint = fmt.Sprintf("approval %q runs only when %s; give %q a when: that implies it, or add an approval that covers it", g.ID, condOf(g.When), s.ID)
			}
			c.errorAt(k.code, ptr, hint, fmt.Sprintf("destructive action %q (step %q) runs without an approval before it %s", a, s.ID, on))
		case diag.CodeSSMAfterIsolation:
			c.errorAt(k.code, ptr, fmt.Sprintf("run it before %q, or set allowSsm: true on %q", fd.cause.ID, fd.cause.ID),
				fmt.Sprintf("step %q (%s) needs SSM but may run after step %q cut SSM off %s", s.ID, a, fd.cause.ID, on))
		case diag.CodeHostFindings:
			c.errorAt(k.code, ptr, fmt.Sprintf("give %q when: {target: task}, or run it per task in a forEach over the host's tasks (find-siblings, output siblings.sameInstance)", s.ID),
				fmt.Sprintf("step %q (%s) needs a task but may run on a host finding's target, a container instance without one, %s", s.ID, a, on))
		case diag.CodeEvidenceAfterDestruction:
			c.warnAt(k.code, ptr, fmt.Sprintf("run it before %q", fd.cause.ID),
				fmt.Sprintf("step %q (%s) collects evidence that may be gone after step %q (%s) %s", s.ID, a, fd.cause.ID, c.info[fd.cause].action.Name, on))
		}
	}
}
