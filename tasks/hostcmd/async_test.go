package hostcmd

import (
	"errors"
	"testing"

	"github.com/irflow/irflow/tasks/contract"
)

func TestIsCheck(t *testing.T) {
	for mode, want := range map[string]bool{"": false, "start": false, "check": true} {
		if got, err := IsCheck(&contract.Payload{Mode: mode}); err != nil || got != want {
			t.Errorf("mode %q: %v, %v; want %v", mode, got, err, want)
		}
	}
	_, err := IsCheck(&contract.Payload{Mode: "Check"})
	var ii *contract.InvalidInputError
	if !errors.As(err, &ii) || ii.Field != "mode" {
		t.Errorf("mode Check: %v; want InvalidInputError naming mode", err)
	}
}
