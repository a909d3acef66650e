package strict

import (
	"testing"

	"github.com/irflow/irflow/internal/mototest"
)

// TestMain runs the tests with moto server (mototest starts it); the moto
// tests skip without it unless IRFLOW_REQUIRE_MOTO=1.
func TestMain(m *testing.M) { mototest.Main(m) }
