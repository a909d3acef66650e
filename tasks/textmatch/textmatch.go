// Package textmatch checks whole strings against a character class and a
// length, as ^class{min,max}$ would, without the counted repetition: Go's
// regexp compiles {m,n} into n copies of the class, so a ^[...]{1,900}$
// took a millisecond at every cold start of every function and of the CLI;
// a length check and ^class*$ take microseconds. The classes are ASCII, so
// a string that matches has as many bytes as characters.
package textmatch

import (
	"regexp"
	"strings"
)

// Matcher is a check of a whole string, as a *regexp.Regexp anchored at
// both ends is (which is one).
type Matcher interface{ MatchString(string) bool }

// Span matches a whole string of Min to Max characters of an ASCII class:
// ^class{Min,Max}$.
type Span struct {
	class    *regexp.Regexp
	Min, Max int
}

// NewSpan returns the Span of class (a bracket expression of ASCII
// characters, e.g. `[A-Za-z0-9_-]`) from min to max characters.
func NewSpan(class string, min, max int) Span {
	return Span{class: regexp.MustCompile(`^` + class + `*$`), Min: min, Max: max}
}

// MatchString reports whether v is Min to Max characters of the class.
func (s Span) MatchString(v string) bool {
	return len(v) >= s.Min && len(v) <= s.Max && s.class.MatchString(v)
}

// AfterPrefix matches a string whose start Prefix (a regexp anchored at the
// start with one way to match, e.g. ^arn:[a-z-]+:(iam|sts)::[0-9]{12}:)
// matches and whose rest Rest does.
type AfterPrefix struct {
	Prefix *regexp.Regexp
	Rest   Span
}

// MatchString reports whether v is the prefix, then the rest.
func (p AfterPrefix) MatchString(v string) bool {
	loc := p.Prefix.FindStringIndex(v)
	return loc != nil && loc[0] == 0 && p.Rest.MatchString(v[loc[1]:])
}

// Padded matches Body then at most two "=" of padding, as
// ^[A-Za-z0-9+/]{min,max}={0,2}$ does for base64 (Body's class holds no
// "=").
type Padded struct{ Body Span }

// MatchString reports whether v is the body and its padding.
func (p Padded) MatchString(v string) bool {
	body := strings.TrimRight(v, "=")
	return len(v)-len(body) <= 2 && p.Body.MatchString(body)
}
