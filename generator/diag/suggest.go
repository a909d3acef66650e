package diag

import (
	"fmt"
	"strings"
)

// Suggest returns the candidate that differs from word only in case, else
// the one closest to word when its edit distance is below 3 (and below the
// word's length, so "x" does not suggest "id"), or "". It is the module's one
// did-you-mean: playbook keys and values, CLI commands, execution inputs.
func Suggest(word string, candidates []string) string {
	for _, c := range candidates {
		if strings.EqualFold(c, word) {
			return c
		}
	}
	best, bestD := "", 3
	for _, c := range candidates {
		d := distance(word, c)
		if d < bestD && d < len([]rune(word)) {
			best, bestD = c, d
		}
	}
	return best
}

// DidYouMean returns the hint `did you mean "x"?` or "".
func DidYouMean(word string, candidates []string) string {
	if s := Suggest(word, candidates); s != "" {
		return fmt.Sprintf("did you mean %q?", s)
	}
	return ""
}

// distance is the Levenshtein distance with adjacent transpositions counted
// as one edit (optimal string alignment), on runes.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		if a == b {
			return 0
		}
		return 64
	}
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = minInt(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = minInt(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

func minInt(xs ...int) int {
	m := xs[0]
	for _, x := range xs[1:] {
		if x < m {
			m = x
		}
	}
	return m
}
