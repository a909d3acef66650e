package generator

import (
	"fmt"
	"strconv"

	"github.com/irflow/irflow/generator/diag"
)

// Matches reports whether a GuardDuty finding of this type and severity
// would start the playbook (what its EventBridge rule matches), and if not,
// why, in words for a person running a simulation.
func (t Triggers) Matches(findingType string, severity float64) (bool, string) {
	if len(t.FindingTypes) == 0 {
		return false, "the playbook has no GuardDuty trigger (triggers.guardduty)"
	}
	matched := false
	for _, p := range t.FindingTypes {
		if patternCovers(p, findingType) {
			matched = true
		}
	}
	switch {
	case !matched:
		return false, fmt.Sprintf("finding type %s is not in its triggers.guardduty.findingTypes", findingType)
	case severity < t.MinSeverity:
		return false, fmt.Sprintf("severity %s is below its triggers.guardduty.minSeverity %s",
			strconv.FormatFloat(severity, 'g', -1, 64), strconv.FormatFloat(t.MinSeverity, 'g', -1, 64))
	}
	return true, ""
}

// Member is a compiled playbook of a set checked together (irflow validate
// of a folder): the file it came from and its result.
type Member struct {
	File   string
	Result *Result
}

// CheckSet reports what is wrong with playbooks only together: two with one
// name (duplicate-id: one state machine name), and two that one finding
// starts (overlapping-triggers, a warning: both run, and whichever comes
// second ends DUPLICATE, at random). Each is reported on the later playbook,
// naming the earlier one's file and line.
func CheckSet(set []Member) Diagnostics {
	var ds Diagnostics
	for j, b := range set {
		for _, a := range set[:j] {
			if a.Result.Name == b.Result.Name {
				ds = append(ds, Diagnostic{Severity: diag.Error, Code: diag.CodeDuplicateID, File: b.File,
					Line: b.Result.NameLine, Column: b.Result.NameColumn, Path: "/metadata/name",
					Message: fmt.Sprintf("playbook name %q is also used by %s", b.Result.Name, a.File),
					Hint:    "state machines are named irflow-<name>: names must be unique"})
			}
		}
	}
	for j, b := range set {
		for bi, q := range b.Result.Triggers.FindingTypes {
			for _, a := range set[:j] {
				if a.Result.Name == b.Result.Name {
					continue
				}
				for ai, p := range a.Result.Triggers.FindingTypes {
					both, ok := overlap(p, q)
					if !ok {
						continue
					}
					at, here := a.Result.Triggers.FindingTypeAt[ai], b.Result.Triggers.FindingTypeAt[bi]
					ds = append(ds, Diagnostic{Severity: diag.Warning, Code: diag.CodeOverlappingTriggers, File: b.File,
						Line: here.Line, Column: here.Column, Path: here.Path,
						Message: fmt.Sprintf("playbook %q (%s:%d:%d) also starts on %s", a.Result.Name, a.File, at.Line, at.Column, both),
						Hint:    "both would run on one finding and one ends DUPLICATE: give each finding type one playbook"})
					break
				}
			}
		}
	}
	return ds
}

// overlap returns what two trigger patterns both match: the narrower one.
func overlap(p, q string) (string, bool) {
	switch {
	case patternCovers(p, q):
		return q, true
	case patternCovers(q, p):
		return p, true
	}
	return "", false
}
