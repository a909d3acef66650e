package demo

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestOptionsRefuseBadFlags: a flag irflow-demo cannot honour is a usage
// error naming the flag, before anything starts.
func TestOptionsRefuseBadFlags(t *testing.T) {
	for _, tt := range []struct {
		o    Options
		flag string
	}{
		{Options{Latency: -time.Millisecond}, "--latency"},
		{Options{Latency: time.Minute}, "--latency"},
		{Options{Decide: "maybe"}, "--decide"},
	} {
		err := tt.o.check()
		var ue *UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.flag) {
			t.Errorf("check(%+v) = %v; want a usage error naming %s", tt.o, err, tt.flag)
		}
	}
	ok := Options{Latency: 50 * time.Millisecond}
	if err := ok.check(); err != nil {
		t.Errorf("check(--latency 50ms) = %v", err)
	}
}
