package workflows

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// stepMeta is what the docs and the scenario checks need of a step beyond
// generator.PlannedStep: the words the author wrote and the error policy.
type stepMeta struct {
	ID          string
	Description string
	// OnError is the effective policy: the step's own, else its parallel's,
	// else fail.
	OnError string
	// Unapproved is set on a destructive step that escapes the approval
	// check (requiresApproval: false); Justification says why.
	Unapproved    bool
	Justification string
	// Prompt is an approval gate's question.
	Prompt string
}

// parseStepMeta reads every step of a playbook, parallels and their members
// included, keyed by id. The playbook already compiled: this only reads.
func parseStepMeta(src []byte) (map[string]stepMeta, error) {
	var doc struct {
		Steps []any `yaml:"steps"`
	}
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, err
	}
	out := map[string]stepMeta{}
	if err := walkSteps(doc.Steps, "", out); err != nil {
		return nil, err
	}
	return out, nil
}

func walkSteps(items []any, parentOnError string, out map[string]stepMeta) error {
	for _, it := range items {
		switch v := it.(type) {
		case []any: // a sequence inside a parallel
			if err := walkSteps(v, parentOnError, out); err != nil {
				return err
			}
		case map[string]any:
			m := stepMeta{OnError: parentOnError}
			m.ID, _ = v["id"].(string)
			m.Description, _ = v["description"].(string)
			if s, ok := v["onError"].(string); ok {
				m.OnError = s
			}
			if m.OnError == "" {
				m.OnError = "fail"
			}
			if ra, ok := v["requiresApproval"].(bool); ok && !ra {
				m.Unapproved = true
			}
			m.Justification, _ = v["justification"].(string)
			if ap, ok := v["approval"].(map[string]any); ok {
				m.Prompt, _ = ap["prompt"].(string)
			}
			out[m.ID] = m
			if par, ok := v["parallel"].([]any); ok {
				if err := walkSteps(par, m.OnError, out); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("a step is a %T, not a mapping", it)
		}
	}
	return nil
}

// description is a playbook's metadata.description in the shape the
// library asks for: the threat, then a paragraph that starts "EC2:" and one
// that starts "Fargate:", saying what happens on each launch type.
type description struct {
	Threat  []string // paragraphs
	EC2     string
	Fargate string
}

// splitDescription splits metadata.description into paragraphs (blank
// lines apart, lines joined) and sorts them into threat, EC2 and Fargate.
func splitDescription(text string) (description, error) {
	var d description
	for _, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		p := strings.Join(strings.Fields(para), " ")
		switch {
		case p == "":
		case strings.HasPrefix(p, "EC2:"):
			d.EC2 = sentence(strings.TrimPrefix(p, "EC2:"))
		case strings.HasPrefix(p, "Fargate:"):
			d.Fargate = sentence(strings.TrimPrefix(p, "Fargate:"))
		default:
			d.Threat = append(d.Threat, p)
		}
	}
	switch {
	case len(d.Threat) == 0:
		return d, errors.New("start with the threat: what GuardDuty saw and what it means")
	case d.EC2 == "":
		return d, errors.New(`add a paragraph that starts "EC2:" and says what happens on EC2`)
	case d.Fargate == "":
		return d, errors.New(`add a paragraph that starts "Fargate:" and says what happens on Fargate`)
	}
	return d, nil
}

// sentence trims s and capitalises its first letter.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}
