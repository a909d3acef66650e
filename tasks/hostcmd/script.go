package hostcmd

import (
	_ "embed"
	"fmt"
	"regexp"
	"strings"

	"github.com/irflow/irflow/tasks/textmatch"
)

//go:embed common.sh
var commonSh string

// MaxScriptBytes bounds a rendered script. SSM documents its parameter size
// only loosely; a memory capture with 16 presigned URLs (each carrying the
// Lambda's session token) renders to about 35 KB, so this leaves headroom
// without inviting surprises.
const MaxScriptBytes = 48 << 10

// Paths are the host paths a script uses. Tests point them into a sandbox.
type Paths struct {
	// Root holds the per-case lock, done marker and work directory.
	Root string
	// MemInfo is read for the host's memory size.
	MemInfo string
	// ECSLogs is the ECS agent's log directory.
	ECSLogs string
}

// DefaultPaths are the paths on an ECS-optimized Amazon Linux instance.
func DefaultPaths() Paths {
	return Paths{Root: "/var/lib/irflow", MemInfo: "/proc/meminfo", ECSLogs: "/var/log/ecs"}
}

// hostPath: ^/[A-Za-z0-9_./-]{1,200}$.
var hostPath = textmatch.AfterPrefix{Prefix: regexp.MustCompile(`^/`), Rest: textmatch.NewSpan(`[A-Za-z0-9_./-]`, 1, 200)}

// Var is a shell variable of the preamble, IRFLOW_<Name>; Value must match Pattern.
type Var struct {
	Name    string
	Value   string
	Pattern textmatch.Matcher
}

// Upload is one object the script may upload: its file name and presigned URL.
type Upload struct {
	Name string
	URL  string
}

// Arg is one argument of a generated call; Value must match Pattern.
type Arg struct {
	Value   string
	Pattern textmatch.Matcher
}

// Call is one line of the generated irflow_targets function, e.g.
// irflow_container 'worker' 'worker' '3f2a...'.
type Call struct {
	Func string
	Args []Arg
}

// Script is a host script before rendering: the action's constant Body
// (which defines irflow_run) plus everything the preamble declares.
type Script struct {
	Action  string
	CaseID  string
	Step    string
	Paths   Paths
	Vars    []Var
	Uploads []Upload
	Targets []Call
	Body    string
}

// Render validates every value and returns the script. An UnsafeValueError
// means a value did not match its pattern; nothing was rendered.
func (s *Script) Render() (string, error) {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	if err := s.check(); err != nil {
		return "", err
	}
	line("#!/bin/sh")
	line("# irflow %s: case %s, step %s.", s.Action, s.CaseID, s.Step)
	line("# Generated: every value below is validated and single-quoted; the rest is constant.")
	line("set -u")
	vars := []Var{
		{"CASE", s.CaseID, caseID}, {"STEP", s.Step, stepID},
		{"ROOT", s.Paths.Root, hostPath}, {"MEMINFO", s.Paths.MemInfo, hostPath}, {"ECS_LOGS", s.Paths.ECSLogs, hostPath},
	}
	for _, v := range append(vars, s.Vars...) {
		q, err := quoted("IRFLOW_"+v.Name, v.Pattern, v.Value)
		if err != nil {
			return "", err
		}
		line("IRFLOW_%s=%s", v.Name, q)
	}
	line("irflow_url() {")
	line("\tcase \"$1\" in")
	for _, u := range s.Uploads {
		name, err := quoted("upload name", FileName, u.Name)
		if err != nil {
			return "", err
		}
		url, err := quoted("upload URL", URL, u.URL)
		if err != nil {
			return "", err
		}
		line("\t%s) printf '%%s\\n' %s ;;", name, url)
	}
	line("\t*) return 1 ;;")
	line("\tesac")
	line("}")
	line("irflow_targets() {")
	for _, c := range s.Targets {
		words := []string{c.Func}
		for _, a := range c.Args {
			q, err := quoted("argument of "+c.Func, a.Pattern, a.Value)
			if err != nil {
				return "", err
			}
			words = append(words, q)
		}
		line("\t%s", strings.Join(words, " "))
	}
	line("\t:")
	line("}")
	b.WriteString(commonSh)
	b.WriteString(s.Body)
	line("irflow_begin")
	line("irflow_run")
	line("irflow_end")
	if b.Len() > MaxScriptBytes {
		return "", &UnsafeValueError{What: fmt.Sprintf("a script of %d bytes (limit %d)", b.Len(), MaxScriptBytes), Value: s.Action}
	}
	return b.String(), nil
}

func (s *Script) check() error {
	if err := Check("action", stepID, s.Action); err != nil {
		return err
	}
	for _, v := range s.Vars {
		if err := Check("variable name", varName, v.Name); err != nil {
			return err
		}
	}
	for _, c := range s.Targets {
		if err := Check("function name", funcName, c.Func); err != nil {
			return err
		}
	}
	return nil
}

// quoted checks v against re (which must exist) and single-quotes it.
func quoted(what string, re textmatch.Matcher, v string) (string, error) {
	if re == nil {
		return "", &UnsafeValueError{What: what + " without a pattern", Value: v}
	}
	if err := Check(what, re, v); err != nil {
		return "", err
	}
	return Quote(v)
}

// Lines splits a rendered script into the "commands" parameter of
// AWS-RunShellScript (the agent joins them with newlines again).
func Lines(script string) []string {
	return strings.Split(strings.TrimSuffix(script, "\n"), "\n")
}
