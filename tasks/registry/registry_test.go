package registry

import (
	"context"
	"encoding/json"
	"io"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/irflow/irflow/tasks/catalog"
	"github.com/irflow/irflow/tasks/contract"
)

// TestCoversCatalog: every catalog action has a handler and nothing else
// does. Until every tasks/<action>/handler exists this names the missing.
func TestCoversCatalog(t *testing.T) {
	got := Constructors()
	var missing, extra []string
	for _, name := range catalog.Names() {
		if got[name] == nil {
			missing = append(missing, name)
		}
	}
	for name := range got {
		if catalog.Lookup(name) == nil {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("no handler registered for %d catalog actions: %s", len(missing), strings.Join(missing, ", "))
	}
	if len(extra) > 0 {
		t.Errorf("handlers registered for actions not in the catalog: %s", strings.Join(extra, ", "))
	}
}

// TestHandlersRunThroughTheRuntime: each invoker checks the payload against
// task-payload.v1 and its own action name before any AWS call.
func TestHandlersRunThroughTheRuntime(t *testing.T) {
	logOutput = io.Discard
	hs := Handlers(context.Background(), aws.Config{Region: "us-east-1"}, Env{})
	if len(hs) != len(Constructors()) {
		t.Fatalf("%d handlers for %d constructors", len(hs), len(Constructors()))
	}
	for name, invoke := range hs {
		other := "resolve-target"
		if name == other {
			other = "notify"
		}
		_, err := invoke(context.Background(), json.RawMessage(`{"action":"`+other+`","step":"","with":{},"execution":{"Id":"e"},"input":{},"error":{}}`))
		if contract.ErrorName(err) != "InvalidInputError" {
			t.Errorf("%s ran a %s payload: %v", name, other, err)
		}
	}
}
