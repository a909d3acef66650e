// Package textmatchtest checks a textmatch.Matcher against the regexp it
// replaces.
package textmatchtest

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/irflow/irflow/tasks/textmatch"
)

// others are characters outside every class the matchers use.
const others = " \n\t:;é'\"$*%\x00[]{}()!?~`="

// SameAs fails the test for every string on which m and pattern disagree,
// over strings of every length up to max+5 (sampled between the bounds)
// made of class (characters pattern accepts in its repeated part), after
// each of prefixes: the class alone, with a character of others or an "="
// put in, with up to three "=" after it, and of class and others mixed.
func SameAs(t *testing.T, name string, m textmatch.Matcher, pattern, class string, max int, prefixes ...string) {
	t.Helper()
	re := regexp.MustCompile(pattern)
	r := rand.New(rand.NewPCG(1, 2))
	from := func(chars string, n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte(chars[r.IntN(len(chars))])
		}
		return b.String()
	}
	check := func(s string) {
		t.Helper()
		if got, want := m.MatchString(s), re.MatchString(s); got != want {
			t.Errorf("%s(%.60q… len %d) = %v; %s says %v", name, s, len(s), got, pattern, want)
		}
	}
	if len(prefixes) == 0 {
		prefixes = []string{""}
	}
	for n := 0; n <= max+5; n++ {
		if n > 10 && n < max-10 && n%7 != 0 {
			continue
		}
		for _, p := range prefixes {
			body := from(class, n)
			for _, s := range []string{body, body + "=", body + "==", body + "===", "=" + body, from(class+others, n)} {
				check(p + s)
			}
			if n > 0 {
				at := r.IntN(n)
				check(p + body[:at] + from(others, 1) + body[at+1:])
			}
		}
	}
}
