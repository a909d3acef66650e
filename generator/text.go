package generator

import (
	"fmt"
	"sort"

	"github.com/irflow/irflow/generator/diag"
	"github.com/irflow/irflow/tasks/termsafe"
)

// checkText refuses control characters in the playbook's text: titles,
// descriptions, prompts, justifications and every other string (and key).
// Prompts and titles reach approvers' terminals, mail and the case report;
// an ESC sequence there could hide or rewrite what they are asked, and a
// bidirectional override could show them another question than the one
// stored. YAML escapes ("\e", "\u202e") decode to exactly these characters,
// so the check runs on decoded values; raw control bytes are refused by the
// parser. Displays escape what reaches them anyway (package termsafe).
func (c *compilation) checkText() {
	c.walkText(c.doc.Value, "")
}

func (c *compilation) walkText(v any, ptr string) {
	switch x := v.(type) {
	case string:
		if r, _, bad := termsafe.First(x); bad {
			field := fieldOr(fieldName(ptr), "value")
			c.errorAt(diag.CodeSchema, ptr, "write it in plain characters: approvers' terminals and the case report show this text",
				fmt.Sprintf("%s contains control character %s", field, termsafe.Name(r)))
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := ptr + "/" + escape(k)
			if r, _, bad := termsafe.First(k); bad {
				c.errorAtKey(diag.CodeSchema, p, "", fmt.Sprintf("a key contains control character %s", termsafe.Name(r)))
			}
			c.walkText(x[k], p)
		}
	case []any:
		for i, item := range x {
			c.walkText(item, fmt.Sprintf("%s/%d", ptr, i))
		}
	}
}
