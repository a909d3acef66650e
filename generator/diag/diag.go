package diag

import (
	"fmt"
	"sort"
	"strings"

	"github.com/irflow/irflow/tasks/termsafe"
)

// Severity of a diagnostic.
type Severity string

// Severities.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// The stable diagnostic codes (docs/design.md, "Diagnostics"). Tools match on them.
const (
	CodeYAML                     = "yaml"
	CodeSchema                   = "schema"
	CodeUnknownAction            = "unknown-action"
	CodeDuplicateID              = "duplicate-id"
	CodeUnsupportedLaunchType    = "unsupported-launch-type"
	CodeApprovalRequired         = "approval-required"
	CodeSSMAfterIsolation        = "ssm-after-isolation"
	CodeLimit                    = "limit"
	CodeUnknownFindingType       = "unknown-finding-type"
	CodeEvidenceAfterDestruction = "evidence-after-destruction"
	CodeEmptyBranch              = "empty-branch"
	// CodeForEach is a forEach whose list cannot be known to exist: an
	// unknown or later step, an output that is not a task list, a step
	// that may be skipped or may fail.
	CodeForEach = "for-each"
	// CodeOverlappingTriggers is a cross-file warning: two playbooks of a
	// set start on one finding type.
	CodeOverlappingTriggers = "overlapping-triggers"
	// CodeHostFindings is a step whose action needs a task that may run on
	// a host finding's target (a container instance, no task), or a
	// when: {target: host} in a playbook that takes no host findings.
	CodeHostFindings = "host-findings"
)

// Codes is every stable code above, in the order docs/design.md lists them.
// TestCodesListsEveryConstant reads the const block, so a new code cannot be
// left out of it (the compile fuzz target and the docs check match on it).
var Codes = []string{
	CodeYAML, CodeSchema, CodeUnknownAction, CodeDuplicateID, CodeUnsupportedLaunchType,
	CodeApprovalRequired, CodeSSMAfterIsolation, CodeLimit, CodeUnknownFindingType,
	CodeEvidenceAfterDestruction, CodeEmptyBranch, CodeForEach, CodeOverlappingTriggers,
	CodeHostFindings,
}

// MaxPerFile caps how many diagnostics one file reports, so a pathological
// input cannot bury the terminal; the last one says how many were dropped.
const MaxPerFile = 200

// Diagnostic is one finding about a playbook.
type Diagnostic struct {
	Severity Severity `json:"severity"`
	Code     string   `json:"code"`
	File     string   `json:"file"`
	Line     int      `json:"line"`
	Column   int      `json:"column"`
	// Path is a JSON Pointer into the playbook ("" is the document).
	Path    string `json:"path"`
	Message string `json:"message"`
	Hint    string `json:"hint"`
}

// String formats the diagnostic as file:line:col: severity code: message (hint).
func (d Diagnostic) String() string {
	var b strings.Builder
	// A message may quote the playbook (a key, a value): escape what could
	// act on the terminal.
	fmt.Fprintf(&b, "%s:%d:%d: %s %s: %s", termsafe.Line(d.File), d.Line, d.Column, d.Severity, d.Code, termsafe.Line(d.Message))
	if d.Hint != "" {
		fmt.Fprintf(&b, " (%s)", termsafe.Line(d.Hint))
	}
	return b.String()
}

// Diagnostics is an ordered list of diagnostics. It implements error.
type Diagnostics []Diagnostic

// Error joins every diagnostic, one per line.
func (ds Diagnostics) Error() string {
	lines := make([]string, len(ds))
	for i, d := range ds {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

// HasErrors reports whether any diagnostic is an error.
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// Errors counts error diagnostics.
func (ds Diagnostics) Errors() int {
	n := 0
	for _, d := range ds {
		if d.Severity == Error {
			n++
		}
	}
	return n
}

// Strict returns a copy where warnings are errors.
func (ds Diagnostics) Strict() Diagnostics {
	out := make(Diagnostics, len(ds))
	for i, d := range ds {
		if d.Severity == Warning {
			d.Severity = Error
		}
		out[i] = d
	}
	return out
}

// Normalize sorts by file and position, drops exact repeats and repeats of
// the same code on the same line, and caps the count at MaxPerFile per file.
func (ds Diagnostics) Normalize() Diagnostics {
	sorted := make(Diagnostics, len(ds))
	copy(sorted, ds)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		if a.Code != b.Code {
			return a.Code < b.Code
		}
		return a.Message < b.Message
	})
	type key struct {
		file, code, msg string
		line            int
	}
	seen := map[key]bool{}
	perFile := map[string]int{}
	dropped := map[string]int{}
	lastOf := map[string]Diagnostic{}
	var files []string
	out := sorted[:0:0]
	for _, d := range sorted {
		k := key{d.File, d.Code, d.Message, d.Line}
		if seen[k] {
			continue
		}
		seen[k] = true
		if perFile[d.File] >= MaxPerFile {
			if dropped[d.File] == 0 {
				files = append(files, d.File)
			}
			dropped[d.File]++
			continue
		}
		lastOf[d.File] = d
		perFile[d.File]++
		out = append(out, d)
	}
	for _, file := range files {
		last := lastOf[file]
		out = append(out, Diagnostic{Severity: Error, Code: CodeLimit, File: file, Line: last.Line, Column: last.Column,
			Message: fmt.Sprintf("%d more diagnostics not shown", dropped[file]), Hint: "fix the ones above first"})
	}
	return out
}
