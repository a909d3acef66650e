package workflows

import (
	"fmt"
	"strings"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/tasks/catalog"
)

// renderIndex is docs/playbooks/README.md: the table of playbooks and which
// playbook each GuardDuty ECS runtime finding type starts.
func renderIndex(books []*book) string {
	var w strings.Builder
	fmt.Fprintf(&w, generatedNote, "workflows/*.yaml")
	w.WriteString("# Playbooks\n\n")
	w.WriteString("irflow ships these playbooks in [`workflows/`](../../workflows). Each starts on the GuardDuty Runtime Monitoring findings listed, or from the console or CLI, and branches on the task's launch type. Each page has the full plan per launch type, the approvals and the compiled state machine.\n\n")
	w.WriteString("In the EC2 and Fargate columns steps run left to right, `(a ∥ b)` run at once, and **bold** steps are approval gates.\n\n")
	w.WriteString("| Playbook | Threat | GuardDuty triggers | On EC2 | On Fargate |\n| --- | --- | --- | --- | --- |\n")
	for _, b := range books {
		r := b.result
		fmt.Fprintf(&w, "| [%s](%s.md) (%s) | %s | %s | %s | %s |\n", r.Name, r.Name, r.Severity, cell(r.Title),
			strings.Join(triggerItems(r.Triggers.FindingTypes), "<br>"), chain(r.Steps[catalog.EC2]), chain(r.Steps[catalog.Fargate]))
	}
	writeCoverage(&w, books)
	return w.String()
}

// chain prints a plan on one line: a → (b ∥ c) → **gate** → d.
func chain(plan []generator.PlannedStep) string {
	var parts []string
	for _, it := range groupPlan(plan) {
		var ids []string
		for _, s := range it.steps {
			id := s.ID
			if s.Action == "request-approval" {
				id = "**" + id + "**"
			}
			ids = append(ids, id)
		}
		if it.parallel != "" && len(ids) > 1 {
			parts = append(parts, "("+strings.Join(ids, " ∥ ")+")")
			continue
		}
		parts = append(parts, ids...)
	}
	return strings.Join(parts, " → ")
}

// findingOwners maps each known finding type to the playbooks whose
// triggers match it.
func findingOwners(books []*book) map[string][]string {
	owners := map[string][]string{}
	for _, b := range books {
		for _, p := range b.result.Triggers.FindingTypes {
			for _, ft := range generator.MatchFindingTypes(p) {
				if !contains(owners[ft], b.result.Name) {
					owners[ft] = append(owners[ft], b.result.Name)
				}
			}
		}
	}
	return owners
}

func writeCoverage(w *strings.Builder, books []*book) {
	owners := findingOwners(books)
	known := generator.KnownFindingTypes()
	covered := 0
	for _, ft := range known {
		if len(owners[ft]) > 0 {
			covered++
		}
	}
	w.WriteString("\n## Finding types\n\n")
	fmt.Fprintf(w, "Together the triggers match %d of the %d [GuardDuty Runtime Monitoring finding types](https://docs.aws.amazon.com/guardduty/latest/ug/findings-runtime-monitoring.html) that can name an ECS task (%.0f%%). A finding type starts one playbook at most: two would race for the same task and the second would end DUPLICATE.\n\n",
		covered, len(known), 100*float64(covered)/float64(len(known)))
	w.WriteString("| Finding type | Playbook |\n| --- | --- |\n")
	for _, ft := range known {
		var links []string
		for _, o := range owners[ft] {
			links = append(links, fmt.Sprintf("[%s](%s.md)", o, o))
		}
		if len(links) == 0 {
			links = []string{"none"}
		}
		fmt.Fprintf(w, "| `%s` | %s |\n", ft, strings.Join(links, ", "))
	}
}

// triggerItems prints trigger patterns, a wildcard with the number of
// known types it matches today.
func triggerItems(patterns []string) []string {
	out := make([]string, len(patterns))
	for i, p := range patterns {
		out[i] = "`" + p + "`"
		if strings.HasSuffix(p, "*") {
			out[i] += fmt.Sprintf(" (%d types)", len(generator.MatchFindingTypes(p)))
		}
	}
	return out
}
