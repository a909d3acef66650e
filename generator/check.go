package generator

import (
	"fmt"
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
	c.checkEmptyBranches()
	f := findings{}
	for _, lt := range catalog.LaunchTypes {
		c.flow(c.pb.Steps, lt, flowState{}, f)
	}
	f.report(c)
}

func (c *compilation) checkDuplicateIDs() {
	first := map[string]*playbook.Step{}
	c.pb.Walk(func(s *playbook.Step, _ *playbook.Step) {
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
	known := KnownFindingTypes()
	for _, ft := range c.pb.Triggers.FindingTypes {
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
	c.pb.Walk(func(s *playbook.Step, _ *playbook.Step) {
		for _, b := range s.Branches {
			if len(b.Steps) == 0 {
				c.warnAt(diag.CodeEmptyBranch, b.Path, "remove it or add steps", fmt.Sprintf("empty branch in parallel %q", s.ID))
			}
		}
	})
	unresolved := false
	c.pb.Walk(func(s *playbook.Step, _ *playbook.Step) {
		if info := c.info[s]; s.Kind == playbook.KindAction && (info == nil || info.action == nil) {
			unresolved = true
		}
	})
	if unresolved {
		return // "no step runs on X" would only echo the errors above
	}
	for _, lt := range catalog.LaunchTypes {
		runs := false
		c.pb.Walk(func(s *playbook.Step, _ *playbook.Step) {
			if info := c.info[s]; info != nil && info.action != nil && info.runsOn(lt) {
				runs = true
			}
		})
		if !runs && len(c.pb.Steps) > 0 {
			c.warnAt(diag.CodeEmptyBranch, "/steps", "add steps whose actions support "+lt+", or a notify step", fmt.Sprintf("no step runs on %s: that branch goes straight to finalize-case", lt))
		}
	}
}

// flowState is what has happened on a launch type's path before a step.
type flowState struct {
	approved  bool
	isolation *playbook.Step // an isolate-network that cuts SSM off
	stopped   *playbook.Step // a step that ended the task
}

func (c *compilation) flow(steps []*playbook.Step, lt string, st flowState, f findings) flowState {
	for _, s := range steps {
		info := c.info[s]
		if info == nil || !info.runsOn(lt) {
			continue
		}
		switch s.Kind {
		case playbook.KindApproval:
			st.approved = true
		case playbook.KindAction:
			if info.action != nil {
				st = c.flowAction(s, info, lt, st, f)
			}
		case playbook.KindParallel:
			st = c.flowParallel(s, lt, st, f)
		}
	}
	return st
}

func (c *compilation) flowAction(s *playbook.Step, info *stepInfo, lt string, st flowState, f findings) flowState {
	a := info.action
	escaped := s.RequiresApproval != nil && !*s.RequiresApproval && strings.TrimSpace(s.Justification) != ""
	if a.Destructive && !st.approved && !escaped {
		f.add(diag.CodeApprovalRequired, s, lt, nil)
	}
	if a.UsesSSM && st.isolation != nil {
		f.add(diag.CodeSSMAfterIsolation, s, lt, st.isolation)
	}
	if a.NeedsRunningTarget && st.stopped != nil {
		f.add(diag.CodeEvidenceAfterDestruction, s, lt, st.stopped)
	}
	if a.Name == "isolate-network" {
		if allow, _ := info.with["allowSsm"].(bool); !allow {
			st.isolation = s
		}
	}
	if a.StopsTarget && st.stopped == nil {
		st.stopped = s
	}
	return st
}

// flowParallel checks each branch from the state before the parallel, then
// again with what its siblings may already have done (they race), and
// returns the state after the parallel.
func (c *compilation) flowParallel(s *playbook.Step, lt string, st flowState, f findings) flowState {
	effects := make([]flowState, len(s.Branches))
	for i, b := range s.Branches {
		effects[i] = c.flow(b.Steps, lt, st, f)
	}
	after := st
	for i, b := range s.Branches {
		raced := st
		for j, e := range effects {
			if j == i {
				continue
			}
			if raced.isolation == nil {
				raced.isolation = e.isolation
			}
			if raced.stopped == nil {
				raced.stopped = e.stopped
			}
		}
		c.flow(b.Steps, lt, raced, f)
		if after.isolation == nil {
			after.isolation = effects[i].isolation
		}
		if after.stopped == nil {
			after.stopped = effects[i].stopped
		}
	}
	return after
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
			c.errorAt(k.code, ptr, "add an approval: step before it, or requiresApproval: false with a justification",
				fmt.Sprintf("destructive action %q (step %q) runs without an approval before it %s", a, s.ID, on))
		case diag.CodeSSMAfterIsolation:
			c.errorAt(k.code, ptr, fmt.Sprintf("run it before %q, or set allowSsm: true on %q", fd.cause.ID, fd.cause.ID),
				fmt.Sprintf("step %q (%s) needs SSM but may run after step %q cut SSM off %s", s.ID, a, fd.cause.ID, on))
		case diag.CodeEvidenceAfterDestruction:
			c.warnAt(k.code, ptr, fmt.Sprintf("run it before %q", fd.cause.ID),
				fmt.Sprintf("step %q (%s) collects evidence that may be gone after step %q (%s) %s", s.ID, a, fd.cause.ID, c.info[fd.cause].action.Name, on))
		}
	}
}
