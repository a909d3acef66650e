package incident

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// AnyTagValue is the exclude: value that matches every value of its key.
const AnyTagValue = "*"

// Exclusion is a playbook's exclude.taskTags (tag key to value,
// AnyTagValue for any): a task carrying any one of them is left alone.
// find-siblings applies it to the tasks it lists (with.excludeTaskTags),
// the simulator's mock of it likewise; the generated Excluded? Choice
// applies the same rule to the run's own target.
type Exclusion map[string]string

// Match returns the rule a task's tags meet ("key=value", "key=*"; the
// first key in sorted order when several do), or "".
func (e Exclusion) Match(tags map[string]string) string {
	if len(e) == 0 || len(tags) == 0 {
		return ""
	}
	for _, k := range slices.Sorted(maps.Keys(e)) {
		if v, ok := tags[k]; ok && (e[k] == AnyTagValue || e[k] == v) {
			return k + "=" + e[k]
		}
	}
	return ""
}

// LeftAlone is the part of a summary that says how many tasks an
// exclusion left alone and by which rules (rule to count), "" for none:
// "; 2 task(s) left alone: tag canary=* (1), tag irflow=ignore (1) (exclude:)".
func LeftAlone(n int, rules map[string]int) string {
	if n == 0 {
		return ""
	}
	var parts []string
	for _, r := range slices.Sorted(maps.Keys(rules)) {
		part := "tag " + r
		if len(rules) > 1 {
			part += fmt.Sprintf(" (%d)", rules[r])
		}
		parts = append(parts, part)
	}
	return fmt.Sprintf("; %d task(s) left alone: %s (exclude:)", n, strings.Join(parts, ", "))
}
