package incident

import "testing"

func TestExclusionMatch(t *testing.T) {
	ex := Exclusion{"irflow": "ignore", "canary": AnyTagValue}
	for _, tt := range []struct {
		tags map[string]string
		want string
	}{
		{map[string]string{"irflow": "ignore"}, "irflow=ignore"},
		{map[string]string{"irflow": "respond"}, ""},
		{map[string]string{"canary": "blue"}, "canary=*"},
		{map[string]string{"canary": ""}, "canary=*"},
		{map[string]string{"irflow": "ignore", "canary": "blue"}, "canary=*"}, // the first key in sorted order
		{map[string]string{"team": "payments"}, ""},
		{nil, ""},
	} {
		if got := ex.Match(tt.tags); got != tt.want {
			t.Errorf("Match(%v) = %q; want %q", tt.tags, got, tt.want)
		}
	}
	if got := (Exclusion{}).Match(map[string]string{"irflow": "ignore"}); got != "" {
		t.Errorf("an empty exclusion matched %q", got)
	}
	if got, want := LeftAlone(2, map[string]int{"irflow=ignore": 1, "canary=*": 1}), "; 2 task(s) left alone: tag canary=* (1), tag irflow=ignore (1) (exclude:)"; got != want {
		t.Errorf("LeftAlone = %q; want %q", got, want)
	}
	if LeftAlone(0, nil) != "" || LeftAlone(1, map[string]int{"a=b": 1}) != "; 1 task(s) left alone: tag a=b (exclude:)" {
		t.Errorf("LeftAlone of none or one rule: %q, %q", LeftAlone(0, nil), LeftAlone(1, map[string]int{"a=b": 1}))
	}
}
