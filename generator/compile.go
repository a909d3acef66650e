package generator

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/irflow/irflow/generator/diag"
	"github.com/irflow/irflow/generator/internal/asl"
	"github.com/irflow/irflow/generator/internal/playbook"
	"github.com/irflow/irflow/tasks/catalog"
)

// Options tune a compile.
type Options struct {
	// Strict turns warnings into errors (irflow validate --strict).
	Strict bool
}

// Result is a compiled playbook: the ASL and what a deployer needs around it.
type Result struct {
	// Name is metadata.name; the state machine is irflow-<Name>.
	Name string
	// NameLine and NameColumn locate metadata.name in the file.
	NameLine, NameColumn int
	Title                string
	Description          string
	Severity             string
	// ASL is the state machine definition, deterministic indented bytes.
	ASL []byte
	// Functions are the actions whose Lambdas the definition invokes, in
	// catalog order; each appears as ${Fn_<action_with_underscores>}.
	Functions []string
	Triggers  Triggers
	// Approvers are the playbook-level approver ARNs.
	Approvers []string
	// Steps per launch type, in the order the compiler planned them (for
	// docs and tests): the step ids a run of that branch can execute.
	Steps map[string][]PlannedStep

	machine *asl.StateMachine
}

// Triggers are the playbook's execution triggers.
type Triggers struct {
	// FindingTypes are GuardDuty finding types; a trailing * is a prefix match.
	FindingTypes []string
	// FindingTypeAt locates each of FindingTypes in the file.
	FindingTypeAt []Position
	MinSeverity   float64
	// HostFindings: the playbook also takes findings about a container
	// instance (resourceType Instance), triggers.guardduty.hostFindings.
	HostFindings bool
	Manual       bool
}

// Position is where a value is in the playbook file.
type Position struct {
	Line, Column int
	// Path is a JSON Pointer to the value.
	Path string
}

// PlannedStep is a step as placed on one launch type's branch.
type PlannedStep struct {
	ID     string
	Action string
	// Parallel is the id of the enclosing parallel, "" at top level.
	Parallel string
	// OnError is the step's effective onError: fail or continue.
	OnError string
	// Fatal says a failure of this step fails the execution: its onError
	// and that of every parallel around it is fail (a parallel left with
	// one branch is a plain sequence and does not count).
	Fatal bool
	// OnTimeout is an approval gate's decision when nobody answers; "" for
	// other steps.
	OnTimeout string
	// Exempt says the step escapes approval-required (requiresApproval:
	// false with a justification).
	Exempt bool
	// When is the step's condition on this branch as the playbook writes
	// it ("inService: true and taskTags {env: prod}"); "" when it always runs.
	When string
	// OnRejectOf is the approval step whose rejection runs this step; "" for
	// the steps of the normal path.
	OnRejectOf string
	// ForEach is the forEach step whose iterations run this step (on each
	// task of its list, whatever that task's launch type); "" otherwise.
	ForEach string
	// ForEachWhen is that forEach's condition on this branch, about the
	// run's target (When is the step's own, about the task of the
	// iteration); "" when the forEach always runs.
	ForEachWhen string
}

// Diagnostic and Diagnostics are the generator's findings about a playbook.
type (
	Diagnostic  = diag.Diagnostic
	Diagnostics = diag.Diagnostics
	Severity    = diag.Severity
)

// Severities.
const (
	SeverityError   = diag.Error
	SeverityWarning = diag.Warning
)

// compilation carries one playbook through the passes.
type compilation struct {
	file string
	src  []byte
	opts Options

	doc         *playbook.Document
	pb          *playbook.Playbook
	info        map[*playbook.Step]*stepInfo
	plans       map[string][]*node
	sm          *asl.StateMachine
	asl         []byte
	compactSize int

	diags diag.Diagnostics
	// stop ends the pass list early: later passes need what this one failed to build.
	stop bool
}

// pass is one named step of the compiler. A pass records diagnostics and
// keeps going, so one run reports every problem it can see.
type pass struct {
	name string
	run  func(*compilation)
}

// passes is the compiler, in order.
var passes = []pass{
	{"parse", (*compilation).parse},
	{"schema", (*compilation).checkSchema},
	{"decode", (*compilation).decode},
	{"resolve", (*compilation).resolve},
	{"check", (*compilation).check},
	{"lower", (*compilation).lower},
	{"emit", (*compilation).emit},
	{"verify", (*compilation).verify},
}

// PassNames lists the compiler's passes in order.
func PassNames() []string {
	out := make([]string, len(passes))
	for i, p := range passes {
		out[i] = p.name
	}
	return out
}

// Compile compiles one playbook. The result is nil when there are errors;
// diagnostics (warnings too) are sorted by position.
func Compile(src []byte, filename string, opts Options) (*Result, Diagnostics) {
	c := &compilation{file: filename, src: src, opts: opts}
	for _, p := range passes {
		p.run(c)
		if c.stop {
			break
		}
		// Lowering needs a playbook without errors; checking does not.
		if p.name == "check" && c.diags.HasErrors() {
			break
		}
	}
	ds := c.diags
	if opts.Strict {
		ds = ds.Strict()
	}
	ds = ds.Normalize()
	if ds.HasErrors() || c.asl == nil {
		return nil, ds
	}
	return c.result(), ds
}

func (c *compilation) result() *Result {
	r := &Result{
		Name: c.pb.Name, Title: c.pb.Title, Description: c.pb.Description, Severity: c.pb.Severity,
		NameLine: c.doc.Pos("/metadata/name").Line, NameColumn: c.doc.Pos("/metadata/name").Column,
		ASL: c.asl, machine: c.sm,
		Triggers:  Triggers{MinSeverity: c.pb.Triggers.MinSeverity, HostFindings: c.pb.Triggers.HostFindings, Manual: c.pb.Triggers.Manual},
		Approvers: c.pb.Approval.Approvers,
		Steps:     map[string][]PlannedStep{},
	}
	for _, ft := range c.pb.Triggers.FindingTypes {
		pos := c.doc.Pos(ft.Path)
		r.Triggers.FindingTypes = append(r.Triggers.FindingTypes, ft.Value)
		r.Triggers.FindingTypeAt = append(r.Triggers.FindingTypeAt, Position{Line: pos.Line, Column: pos.Column, Path: ft.Path})
	}
	used := map[string]bool{}
	for _, lt := range catalog.LaunchTypes {
		// path is the condition of what encloses the nodes.
		forEach, forEachWhen := "", ""
		var walk func(nodes []*node, parallel, rejectOf string, fatal bool, path cond)
		walk = func(nodes []*node, parallel, rejectOf string, fatal bool, path cond) {
			for _, n := range nodes {
				under := path.and(n.cond)
				if n.branches != nil {
					walk(flatten(n.branches), n.step.ID, rejectOf, fatal && n.info.onError == "fail", under)
					continue
				}
				if n.each != nil {
					// Once per step, whichever launch types of the tasks it runs on.
					seen := map[*playbook.Step]bool{}
					var once []*node
					for _, inner := range catalog.LaunchTypes {
						for _, x := range n.each[inner] {
							if !seen[x.step] {
								seen[x.step] = true
								once = append(once, x)
							}
						}
					}
					forEach, forEachWhen = n.step.ID, under.String()
					walk(once, "", rejectOf, fatal && n.info.onError == "fail", nil)
					forEach, forEachWhen = "", ""
					continue
				}
				s := n.step
				r.Steps[lt] = append(r.Steps[lt], PlannedStep{ID: s.ID, Action: n.info.action.Name, Parallel: parallel,
					OnError: n.info.onError, Fatal: fatal && n.info.onError == "fail", OnTimeout: n.info.onTimeout,
					Exempt: s.RequiresApproval != nil && !*s.RequiresApproval && strings.TrimSpace(s.Justification) != "",
					When:   under.String(), OnRejectOf: rejectOf, ForEach: forEach, ForEachWhen: forEachWhen})
				walk(n.onReject, "", s.ID, true, under)
			}
		}
		walk(c.plans[lt], "", "", true, nil)
	}
	asl.Walk(c.sm, func(ns asl.NamedState) {
		if t, ok := ns.State.(*asl.Task); ok {
			if p, ok := t.Parameters["Payload"].(map[string]any); ok {
				if a, ok := p["action"].(string); ok {
					used[a] = true
				}
			}
		}
	})
	for _, a := range catalog.All() {
		if used[a.Name] {
			r.Functions = append(r.Functions, a.Name)
		}
	}
	return r
}

// CompactASL returns the definition without whitespace: what a deployer
// should submit, and what Step Functions' 1 MiB definition limit counts.
func (r *Result) CompactASL() []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, r.ASL); err != nil {
		return r.ASL
	}
	return b.Bytes()
}

func flatten(branches [][]*node) []*node {
	var out []*node
	for _, b := range branches {
		out = append(out, b...)
	}
	return out
}

// errorAt records an error diagnostic at the value of the JSON Pointer.
func (c *compilation) errorAt(code, ptr, hint, msg string) {
	c.add(diag.Error, code, ptr, false, hint, msg)
}

// warnAt records a warning at the value of the JSON Pointer.
func (c *compilation) warnAt(code, ptr, hint, msg string) {
	c.add(diag.Warning, code, ptr, false, hint, msg)
}

// errorAtKey records an error at the key whose value is at ptr (unknown keys).
func (c *compilation) errorAtKey(code, ptr, hint, msg string) {
	c.add(diag.Error, code, ptr, true, hint, msg)
}

func (c *compilation) add(sev diag.Severity, code, ptr string, atKey bool, hint, msg string) {
	pos := playbook.Pos{Line: 1, Column: 1}
	if c.doc != nil {
		if atKey {
			pos = c.doc.KeyPos(ptr)
		} else {
			pos = c.doc.Pos(ptr)
		}
	}
	c.diags = append(c.diags, diag.Diagnostic{Severity: sev, Code: code, File: c.file, Line: pos.Line, Column: pos.Column,
		Path: ptr, Message: msg, Hint: hint})
}

// parse decodes the YAML, keeping positions.
func (c *compilation) parse() {
	doc, ds := playbook.Parse(c.src, c.file)
	c.diags = append(c.diags, ds...)
	if doc == nil {
		c.stop = true
		return
	}
	c.doc = doc
	if _, ok := doc.Value.(map[string]any); !ok {
		c.errorAt(diag.CodeSchema, "", "start with apiVersion: irflow/v1", "a playbook is a YAML mapping")
		c.stop = true
	}
}

// decode builds the typed AST.
func (c *compilation) decode() {
	pb, ds := playbook.Decode(c.doc)
	c.diags = append(c.diags, ds...)
	c.pb = pb
}
