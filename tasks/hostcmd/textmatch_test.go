package hostcmd

import (
	"testing"

	"github.com/irflow/irflow/tasks/textmatch/textmatchtest"
)

// TestMatchersAsTheirPatterns: every matcher that replaced a counted
// repetition accepts exactly what its original regexp did.
func TestMatchersAsTheirPatterns(t *testing.T) {
	textmatchtest.SameAs(t, "ContainerName", ContainerName, `^[A-Za-z0-9_-]{1,255}$`, "aZ09_-", 255)
	textmatchtest.SameAs(t, "Word", Word, `^[A-Za-z0-9_./:-]{1,255}$`, "aZ9_./:-", 255)
	textmatchtest.SameAs(t, "FileName", FileName, `^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`, "aZ9._-", 127, "a", "Z", "0", ".", "_", "-", "", "/")
	textmatchtest.SameAs(t, "hostPath", hostPath, `^/[A-Za-z0-9_./-]{1,200}$`, "aZ9_./-", 200, "/", "", "//", "a/", " /")
}
