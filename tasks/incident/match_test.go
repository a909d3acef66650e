package incident

import (
	"testing"

	"github.com/irflow/irflow/tasks/textmatch/textmatchtest"
)

// TestMatchersAsTheirPatterns: every matcher that replaced a counted
// repetition accepts exactly what its original regexp did.
func TestMatchersAsTheirPatterns(t *testing.T) {
	textmatchtest.SameAs(t, "clusterRE", clusterRE, `^[A-Za-z0-9_-]{1,255}$`, "aZ09_-", 255)
	textmatchtest.SameAs(t, "containerNameRE", containerNameRE, `^[A-Za-z0-9_-]{1,255}$`, "aZ09_-", 255)
	textmatchtest.SameAs(t, "requestedByRE", requestedByRE, `^[A-Za-z0-9+=,.@_:/-]{1,512}$`, "aZ9+=,.@_:/-", 512)
	textmatchtest.SameAs(t, "keyIDRE", keyIDRE, `^[A-Za-z0-9:/_+=,.@-]{1,512}$`, "aZ9:/_+=,.@-", 512)
	textmatchtest.SameAs(t, "macRE", macRE, `^[A-Za-z0-9+/]{4,512}={0,2}$`, "aZ9+/", 512)
	textmatchtest.SameAs(t, "callerRE", callerRE, `^arn:[a-z-]+:(iam|sts)::[0-9]{12}:[A-Za-z0-9+=,.@_/-]{1,900}$`, "aZ9+=,.@_/-", 900,
		"arn:aws:sts::123456789012:", "", "arn:aws:iam::123456789012:", "arn:aws-cn:sts::12345678901:", "arn:aws:s3::123456789012:",
		"arn::sts::123456789012:", "xarn:aws:sts::123456789012:", "arn:aws:sts::123456789012::")
}
