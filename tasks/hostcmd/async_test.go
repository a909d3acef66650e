package hostcmd

import (
	"errors"
	"testing"

	"github.com/irflow/irflow/tasks/internal/taskrt"
)

func TestIsCheck(t *testing.T) {
	for mode, want := range map[string]bool{"": false, "start": false, "check": true} {
		if got, err := IsCheck(&taskrt.Payload{Mode: mode}); err != nil || got != want {
			t.Errorf("mode %q: %v, %v; want %v", mode, got, err, want)
		}
	}
	_, err := IsCheck(&taskrt.Payload{Mode: "Check"})
	var ii *taskrt.InvalidInputError
	if !errors.As(err, &ii) || ii.Field != "mode" {
		t.Errorf("mode Check: %v; want InvalidInputError naming mode", err)
	}
}
