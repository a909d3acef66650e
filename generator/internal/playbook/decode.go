package playbook

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/irflow/irflow/generator/diag"
)

// Decode builds the typed playbook from a parsed document. It is lenient:
// shapes the schema pass already reported are skipped, so later passes can
// still check the rest. It reports what the schema cannot say: durations, and
// that a step is exactly one of action, parallel or approval.
func Decode(doc *Document) (*Playbook, diag.Diagnostics) {
	d := decoder{doc: doc}
	p := &Playbook{Doc: doc, Triggers: Triggers{MinSeverity: 4, Manual: true}}
	root, _ := doc.Value.(map[string]any)
	if md, ok := root["metadata"].(map[string]any); ok {
		p.Name, _ = md["name"].(string)
		p.Title, _ = md["title"].(string)
		p.Description, _ = md["description"].(string)
		p.Severity, _ = md["severity"].(string)
		p.Owner, _ = md["owner"].(string)
	}
	if tr, ok := root["triggers"].(map[string]any); ok {
		if gd, ok := tr["guardduty"].(map[string]any); ok {
			if fts, ok := gd["findingTypes"].([]any); ok {
				for i, ft := range fts {
					if s, ok := ft.(string); ok {
						p.Triggers.FindingTypes = append(p.Triggers.FindingTypes, Located{s, "/triggers/guardduty/findingTypes/" + strconv.Itoa(i)})
					}
				}
			}
			if f, ok := number(gd["minSeverity"]); ok {
				p.Triggers.MinSeverity = f
			}
			if b, ok := gd["hostFindings"].(bool); ok {
				p.Triggers.HostFindings, p.Triggers.HostFindingsPath = b, "/triggers/guardduty/hostFindings"
			}
		}
		if m, ok := tr["manual"].(bool); ok {
			p.Triggers.Manual = m
		}
		if c, ok := tr["correlate"].(map[string]any); ok {
			p.Triggers.Correlate = &Correlate{Path: "/triggers/correlate", Window: d.duration(c, "window", "/triggers/correlate/window")}
			p.Triggers.Correlate.By, _ = c["by"].(string)
		}
	}
	if ap, ok := root["approval"].(map[string]any); ok {
		p.Approval.Approvers = stringList(ap["approvers"])
		p.Approval.Timeout = d.duration(ap, "timeout", "/approval/timeout")
		p.Approval.OnTimeout, _ = ap["onTimeout"].(string)
		p.Approval.AllowSelfApproval, _ = ap["allowSelfApproval"].(bool)
		if n, ok := number(ap["minApprovers"]); ok {
			p.Approval.MinApprovers = int(n)
		}
	}
	if ex, ok := root["exclude"].(map[string]any); ok {
		p.Exclude = &Exclude{Path: "/exclude", TaskTags: stringMap(ex["taskTags"])}
	}
	if steps, ok := root["steps"].([]any); ok {
		p.Steps = d.steps(steps, "/steps", inSequence)
	}
	return p, d.diags
}

// where says what holds a list of steps: the playbook, a parallel, or an
// approval's onReject. Approvals may only sit in the playbook's own list.
type where int

const (
	inSequence where = iota
	inParallel
	inOnReject
	inForEach
)

// durationText is the schema's duration pattern.
var durationText = regexp.MustCompile(`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`)

type decoder struct {
	doc   *Document
	diags diag.Diagnostics
}

func (d *decoder) errorf(ptr, hint, format string, args ...any) {
	pos := d.doc.KeyPos(ptr)
	d.diags = append(d.diags, diag.Diagnostic{Severity: diag.Error, Code: diag.CodeSchema, File: d.doc.File,
		Line: pos.Line, Column: pos.Column, Path: ptr, Message: fmt.Sprintf(format, args...), Hint: hint})
}

func (d *decoder) steps(items []any, ptr string, in where) []*Step {
	var out []*Step
	for i, it := range items {
		if s := d.step(it, ptr+"/"+strconv.Itoa(i), in); s != nil {
			out = append(out, s)
		}
	}
	return out
}

func (d *decoder) step(v any, ptr string, in where) *Step {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	s := &Step{Path: ptr}
	s.ID, _ = m["id"].(string)
	s.Description, _ = m["description"].(string)
	s.OnError, _ = m["onError"].(string)
	s.Justification, _ = m["justification"].(string)
	if lts, ok := m["launchTypes"].([]any); ok {
		s.LaunchTypes = stringList(lts)
		if s.LaunchTypes == nil {
			s.LaunchTypes = []string{}
		}
	}
	if ra, ok := m["requiresApproval"].(bool); ok {
		s.RequiresApproval = &ra
	}
	s.Timeout = d.duration(m, "timeout", ptr+"/timeout")
	if w, ok := m["when"].(map[string]any); ok {
		s.When = when(w, ptr+"/when")
	}
	if r, ok := m["retry"].(map[string]any); ok {
		s.Retry = &Retry{Interval: d.duration(r, "interval", ptr+"/retry/interval"), MaxDelay: d.duration(r, "maxDelay", ptr+"/retry/maxDelay")}
		if n, ok := number(r["maxAttempts"]); ok {
			i := int(n)
			s.Retry.MaxAttempts = &i
		}
		if f, ok := number(r["backoffRate"]); ok {
			s.Retry.BackoffRate = &f
		}
	}

	var kinds []string
	if a, ok := m["action"]; ok {
		kinds = append(kinds, "action")
		s.Kind = KindAction
		s.Action, _ = a.(string)
		if w, ok := m["with"].(map[string]any); ok {
			s.With = w
		}
	}
	if par, ok := m["parallel"]; ok {
		kinds = append(kinds, "parallel")
		s.Kind = KindParallel
		items, _ := par.([]any)
		for i, it := range items {
			bp := ptr + "/parallel/" + strconv.Itoa(i)
			if seq, ok := it.([]any); ok {
				s.Branches = append(s.Branches, Branch{Path: bp, Steps: d.steps(seq, bp, nested(in, inParallel))})
			} else if st := d.step(it, bp, nested(in, inParallel)); st != nil {
				s.Branches = append(s.Branches, Branch{Path: bp, Steps: []*Step{st}})
			}
		}
	}
	if ap, ok := m["approval"]; ok {
		kinds = append(kinds, "approval")
		s.Kind = KindApproval
		am, _ := ap.(map[string]any)
		s.Approval = &Approval{Approvers: stringList(am["approvers"]), Timeout: d.duration(am, "timeout", ptr+"/approval/timeout")}
		s.Approval.Prompt, _ = am["prompt"].(string)
		s.Approval.OnTimeout, _ = am["onTimeout"].(string)
		if b, ok := am["allowSelfApproval"].(bool); ok {
			s.Approval.AllowSelfApproval = &b
		}
		if n, ok := number(am["minApprovers"]); ok {
			i := int(n)
			s.Approval.MinApprovers = &i
		}
		switch in {
		case inParallel:
			d.errorf(ptr+"/approval", "put the approval before the parallel", "approval steps cannot run inside a parallel")
		case inOnReject:
			d.errorf(ptr+"/approval", "the gate was rejected: decide what runs then without asking again", "approval steps cannot run inside onReject")
		case inForEach:
			d.errorf(ptr+"/approval", "put the approval before the forEach: one approval covers every task of the loop", "approval steps cannot run inside a forEach")
		}
	}
	if fe, ok := m["forEach"]; ok {
		kinds = append(kinds, "forEach")
		s.Kind = KindForEach
		fm, _ := fe.(map[string]any)
		s.ForEach = &ForEach{Path: ptr + "/forEach"}
		s.ForEach.Step, _ = fm["step"].(string)
		s.ForEach.Output, _ = fm["output"].(string)
		if n, ok := number(fm["maxConcurrency"]); ok {
			s.ForEach.MaxConcurrency = int(n)
		}
		items, _ := m["steps"].([]any)
		s.ForEach.Steps = d.steps(items, ptr+"/steps", inForEach)
		if in != inSequence {
			d.errorf(ptr+"/forEach", "put the forEach in the playbook's own steps", "forEach cannot run inside a parallel, an onReject or another forEach")
		}
		if _, ok := m["steps"]; !ok {
			d.errorf(ptr+"/forEach", "add steps: with what runs for each task", "forEach %q has no steps:", s.ID)
		}
	} else if _, ok := m["steps"]; ok {
		d.errorf(ptr+"/steps", "steps: belongs to forEach steps", "steps: without forEach:")
	}
	if rej, ok := m["onReject"]; ok {
		items, _ := rej.([]any)
		if s.Kind == KindApproval {
			s.OnReject = d.steps(items, ptr+"/onReject", inOnReject)
		} else {
			d.errorf(ptr+"/onReject", "put it on the approval step whose rejection it handles", "onReject: belongs to approval steps")
		}
	}
	switch len(kinds) {
	case 0:
		d.errorf(ptr, "add action:, parallel:, approval: or forEach:", "step %q does nothing", s.ID)
		s.Kind = KindInvalid
	case 1:
	default:
		d.errorf(ptr+"/"+kinds[1], "split it into separate steps", "step %q has both %s and %s", s.ID, kinds[0], kinds[1])
		s.Kind = KindInvalid
	}
	if _, ok := m["with"]; ok && s.Kind != KindAction && s.Kind != KindInvalid {
		d.errorf(ptr+"/with", "with: belongs to action steps", "with: has no effect on a %s step", kinds[0])
	}
	return s
}

// duration parses m[key] as a Go duration. The schema pattern already
// rejected malformed text; this catches what parses badly anyway (overflow).
func (d *decoder) duration(m map[string]any, key, ptr string) Duration {
	s, ok := m[key].(string)
	if !ok {
		return Duration{Path: ptr}
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		// Text the schema's pattern rejects is reported there, once.
		if durationText.MatchString(s) {
			d.errorf(ptr, "write it like 30s, 15m or 2h", "%q is not a duration", s)
		}
		return Duration{Path: ptr}
	}
	return Duration{D: v, Set: true, Path: ptr}
}

// nested is where the steps of a parallel sit: an onReject's (or a
// forEach's) parallel is still part of the onReject (the forEach).
func nested(outer, inner where) where {
	if outer == inOnReject || outer == inForEach {
		return outer
	}
	return inner
}

// when decodes a step's condition; shapes the schema rejected are left out.
func when(m map[string]any, ptr string) *When {
	w := &When{Path: ptr, NetworkModes: stringList(m["networkModes"]),
		TaskTags: stringMap(m["taskTags"]), NotTaskTags: stringMap(m["notTaskTags"])}
	if fts, ok := m["findingTypes"].([]any); ok {
		for i, ft := range fts {
			if s, ok := ft.(string); ok {
				w.FindingTypes = append(w.FindingTypes, Located{s, ptr + "/findingTypes/" + strconv.Itoa(i)})
			}
		}
	}
	if f, ok := number(m["severityAtLeast"]); ok {
		w.SeverityAtLeast = &f
	}
	if b, ok := m["inService"].(bool); ok {
		w.InService = &b
	}
	if b, ok := m["execEnabled"].(bool); ok {
		w.ExecEnabled = &b
	}
	w.Target, _ = m["target"].(string)
	return w
}

// stringMap keeps the string values of a mapping (tag maps).
func stringMap(v any) map[string]string {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	out := map[string]string{}
	for k, x := range m {
		if s, ok := x.(string); ok {
			out[k] = s
		}
	}
	return out
}

func stringList(v any) []string {
	items, ok := v.([]any)
	if !ok {
		return nil
	}
	var out []string
	for _, it := range items {
		if s, ok := it.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func number(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}
