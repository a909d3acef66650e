package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/irflow/irflow/tasks/catalog"
)

func init() {
	register(command{name: "actions", summary: "list the action catalog (text, json or the README's markdown table)", run: runActions})
}

func runActions(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("actions", "[--format text|json|markdown]", stderr)
	format := fs.String("format", "text", "text, json or markdown")
	rest, help, err := parseFormat(fs, args, format, "text", "json", "markdown")
	if help {
		return exitOK
	}
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("unexpected argument %q", rest[0])
	}
	if err != nil {
		return usageError(fs, stderr, err)
	}
	switch *format {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			Actions []*catalog.Action `json:"actions"`
		}{catalog.All()}); err != nil {
			fmt.Fprintf(stderr, "irflow actions: %v\n", err)
			return exitUsage
		}
	case "markdown":
		io.WriteString(stdout, actionsMarkdown())
	default:
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ACTION\tKIND\tLAUNCH TYPES\tDESTRUCTIVE\tSSM\tNEEDS TASK\tTIMEOUT\tDESCRIPTION")
		for _, a := range catalog.All() {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Name, a.Kind, strings.Join(a.LaunchTypes, ","),
				yesNo(a.Destructive), yesNo(a.UsesSSM), yesNo(a.NeedsTask), timeoutText(a), a.Description)
		}
		tw.Flush()
	}
	return exitOK
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "-"
}

func timeoutText(a *catalog.Action) string {
	if a.Async {
		return a.StepTimeout.D().String() + " (async)"
	}
	return a.Timeout.D().String()
}

// actionsMarkdown is the README's action table, generated from the catalog.
func actionsMarkdown() string {
	var b strings.Builder
	b.WriteString("| action | kind | launch types | destructive | uses SSM | needs a task | timeout | what it does | IAM actions (besides audit and KMS) |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, a := range catalog.All() {
		lts := strings.Join(a.LaunchTypes, ", ")
		if len(a.LaunchTypes) == 2 {
			lts = "both"
		}
		iam := make([]string, 0)
		for _, act := range a.SpecificIAMActions() {
			iam = append(iam, "`"+act+"`")
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s | %s | %s | %s |\n", a.Name, a.Kind, lts, yesNo(a.Destructive),
			yesNo(a.UsesSSM), yesNo(a.NeedsTask), timeoutText(a), a.Description, strings.Join(iam, " "))
	}
	return b.String()
}
