package catalog

import "testing"

// TestDescriptionsFitLambda: the CDK app uses each description as the
// function's, and Lambda takes at most 256 characters.
func TestDescriptionsFitLambda(t *testing.T) {
	for _, a := range All() {
		if n := len(a.Description); n > 256 {
			t.Errorf("%s: description has %d characters; Lambda allows 256", a.Name, n)
		}
	}
}
