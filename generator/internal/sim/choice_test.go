package sim

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/irflow/irflow/generator/internal/asl"
)

func TestChoiceRules(t *testing.T) {
	input := mustDecode(t, `{"s":"abc","n":5,"b":true,"t":"2026-11-20T14:02:12Z","nil":null,"other":"abc","m":5}`)
	tests := []struct {
		rule string
		want bool
		err  string
	}{
		{`{"Variable":"$.s","StringEquals":"abc"}`, true, ""},
		{`{"Variable":"$.n","StringEquals":"5"}`, false, ""},
		{`{"Variable":"$.s","StringEqualsPath":"$.other"}`, true, ""},
		{`{"Variable":"$.s","StringMatches":"a*c"}`, true, ""},
		{`{"Variable":"$.s","StringMatches":"a\\*c"}`, false, ""},
		{`{"Variable":"$.s","StringLessThan":"abd"}`, true, ""},
		{`{"Variable":"$.s","StringGreaterThan":"abd"}`, false, ""},
		{`{"Variable":"$.n","NumericEquals":5}`, true, ""},
		{`{"Variable":"$.n","NumericEqualsPath":"$.m"}`, true, ""},
		{`{"Variable":"$.n","NumericLessThan":5}`, false, ""},
		{`{"Variable":"$.n","NumericLessThanEquals":5}`, true, ""},
		{`{"Variable":"$.n","NumericGreaterThan":4.5}`, true, ""},
		{`{"Variable":"$.n","NumericGreaterThanEquals":6}`, false, ""},
		{`{"Variable":"$.s","NumericEquals":5}`, false, ""},
		{`{"Variable":"$.b","BooleanEquals":true}`, true, ""},
		{`{"Variable":"$.b","BooleanEqualsPath":"$.b"}`, true, ""},
		{`{"Variable":"$.t","TimestampLessThan":"2026-11-21T00:00:00Z"}`, true, ""},
		{`{"Variable":"$.t","TimestampGreaterThan":"2026-11-21T00:00:00Z"}`, false, ""},
		{`{"Variable":"$.nil","IsNull":true}`, true, ""},
		{`{"Variable":"$.s","IsString":true}`, true, ""},
		{`{"Variable":"$.s","IsNumeric":true}`, false, ""},
		{`{"Variable":"$.b","IsBoolean":true}`, true, ""},
		{`{"Variable":"$.nope","IsPresent":false}`, true, ""},
		{`{"Variable":"$.s","IsPresent":true}`, true, ""},
		{`{"And":[{"Variable":"$.n","NumericEquals":5},{"Not":{"Variable":"$.b","BooleanEquals":false}}]}`, true, ""},
		{`{"Or":[{"Variable":"$.n","NumericEquals":4},{"Variable":"$.s","StringEquals":"x"}]}`, false, ""},
		{`{"Variable":"$.nope","StringEquals":"x"}`, false, "States.Runtime"},
		{`{"Variable":"$.s","StringEqualsPath":"$.nope"}`, false, "States.Runtime"},
	}
	for _, tt := range tests {
		var r asl.ChoiceRule
		if err := json.Unmarshal([]byte(tt.rule), &r); err != nil {
			t.Fatal(err)
		}
		pr := &program{paths: map[string]*Path{}, calls: map[string]*icall{}}
		pr.rule("c", &r, false)
		if len(pr.errs) > 0 {
			t.Fatalf("%s: %v", tt.rule, pr.errs)
		}
		x := &execution{prog: pr}
		got, err := x.rule(&r, input, nil)
		if tt.err != "" {
			if se := asStates(err); se == nil || se.Name != tt.err {
				t.Errorf("%s: got %v, %v; want %s", tt.rule, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s = %v, %v; want %v", tt.rule, got, err, tt.want)
		}
	}
}

func TestWildcard(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*.log", "app.log", true},
		{"*.log", "app.txt", false},
		{"a*b*c", "axxbyyc", true},
		{"a\\*", "a*", true},
		{"a\\*", "ab", false},
		{"a\\\\b", "a\\b", true},
		{"", "", true},
		{"*", "", true},
	}
	for _, tt := range tests {
		if got := wildcard(tt.pattern, tt.s); got != tt.want {
			t.Errorf("wildcard(%q, %q) = %v; want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestChoiceRuleChecks(t *testing.T) {
	for _, rule := range []string{
		`{"Variable":"$.a","StringEquals":"x","NumericEquals":1,"Next":"B"}`,
		`{"Variable":"$.a","Next":"B"}`,
		`{"And":[{"Variable":"$.a","IsPresent":true}],"Variable":"$.a","Next":"B"}`,
	} {
		def := `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[` + rule + `],"Default":"B"},"B":{"Type":"Succeed"}}}`
		sm, err := asl.Parse([]byte(def))
		if err != nil {
			t.Fatal(err)
		}
		if err := Check(sm); err == nil || !strings.Contains(err.Error(), "choice rule") {
			t.Errorf("Check accepted %s: %v", rule, err)
		}
	}
}
