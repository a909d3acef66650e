package ops_test

import (
	"testing"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/ops"
)

// The release's manifest is where the release state machine's finalize
// step stores it: its folder is the step's id.
func TestReleaseManifestKey(t *testing.T) {
	if got, want := ops.ReleaseManifestKey("c-1"), "cases/c-1/"+generator.ReleaseStepFinalize+"/manifest.json"; got != want {
		t.Errorf("ReleaseManifestKey = %s; the release writes %s", got, want)
	}
}
