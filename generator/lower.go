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
		switch s.Kind {
		case playbook.KindAction, playbook.KindApproval:
			out = append(out, &node{step: s, info: info})
		case playbook.KindParallel:
			var kept [][]*node
			for _, b := range s.Branches {
				if seq := c.lowerSeq(b.Steps, lt); len(seq) > 0 {
					kept = append(kept, seq)
				}
			}
			switch len(kept) {
			case 0:
			case 1:
				out = append(out, kept[0]...)
			default:
				out = append(out, &node{step: s, info: info, branches: kept})
			}
		}
	}
	return out
}
