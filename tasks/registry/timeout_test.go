package registry

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/irflow/irflow/tasks/catalog"
)

// TestInvocationsHaveLambdaTimeouts: irflow simulate --aws-endpoint gives
// each invocation its action's Lambda timeout as deadline, so the task
// runtime's out-of-time handling (RetryableError before the timeout) runs
// locally as it does in AWS.
func TestInvocationsHaveLambdaTimeouts(t *testing.T) {
	for _, a := range catalog.All() {
		if got := timeoutOf(a.Name); got != a.Timeout.D() || got <= 0 {
			t.Errorf("%s: timeout %v; want the catalog's %v", a.Name, got, a.Timeout.D())
		}
	}
	var left time.Duration
	inv := withTimeout(func(ctx context.Context, _ json.RawMessage) (json.RawMessage, error) {
		dl, ok := ctx.Deadline()
		if !ok {
			t.Fatal("no deadline")
		}
		left = time.Until(dl)
		return nil, nil
	}, 30*time.Second)
	if _, err := inv(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if left <= 29*time.Second || left > 30*time.Second {
		t.Errorf("deadline %v away; want 30s", left)
	}
}
