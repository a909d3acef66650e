package generator

import (
	"github.com/irflow/irflow/generator/internal/playbook"
	"github.com/irflow/irflow/tasks/catalog"
)

// node is a step as placed on one launch type's branch.
type node struct {
	step *playbook.Step
	info *stepInfo
	// branches is set for a parallel that kept at least two branches.
	branches [][]*node
	// cond is the step's condition on this branch (nil: it always runs).
	cond cond
	// onReject is what an approval runs when its gate is rejected.
	onReject []*node
	// each is a forEach's plan per launch type of the iterated task.
	each map[string][]*node
}

// lower plans each launch type's branch: the steps whose actions support it,
// with a parallel left with one branch becoming a sequence and one left
// with none disappearing.
func (c *compilation) lower() {
	c.plans = map[string][]*node{}
	for _, lt := range catalog.LaunchTypes {
		c.plans[lt] = c.lowerSeq(c.pb.Steps, lt)
	}
}

func (c *compilation) lowerSeq(steps []*playbook.Step, lt string) []*node {
	var out []*node
	for _, s := range steps {
		info := c.info[s]
		if info == nil || !info.runsOn(lt) {
			continue
		}
		when, ok := info.when.on(lt)
		if !ok {
			continue
		}
		switch s.Kind {
		case playbook.KindAction:
			out = append(out, &node{step: s, info: info, cond: when})
		case playbook.KindApproval:
			out = append(out, &node{step: s, info: info, cond: when, onReject: c.lowerSeq(s.OnReject, lt)})
		case playbook.KindForEach:
			each := map[string][]*node{}
			for _, inner := range catalog.LaunchTypes {
				if seq := c.lowerSeq(s.ForEach.Steps, inner); len(seq) > 0 {
					each[inner] = seq
				}
			}
			if len(each) > 0 {
				out = append(out, &node{step: s, info: info, cond: when, each: each})
			}
		case playbook.KindParallel:
			var kept [][]*node
			for _, b := range s.Branches {
				if seq := c.lowerSeq(b.Steps, lt); len(seq) > 0 {
					kept = append(kept, seq)
				}
			}
			switch {
			case len(kept) == 0:
			case len(kept) == 1 && len(when) == 0:
				out = append(out, kept[0]...)
			default:
				// A conditional parallel left with one branch stays a
				// Parallel: its condition needs one state to guard.
				out = append(out, &node{step: s, info: info, branches: kept, cond: when})
			}
		}
	}
	return out
}
