package generator

import (
	"io"

	"github.com/irflow/irflow/generator/internal/diag"
)

// WriteDiagnosticsText writes file:line:col: severity code: message (hint), one per line.
func WriteDiagnosticsText(w io.Writer, ds Diagnostics) error { return diag.WriteText(w, ds) }

// WriteDiagnosticsJSON writes {"diagnostics":[...]} as DESIGN specifies.
func WriteDiagnosticsJSON(w io.Writer, ds Diagnostics) error { return diag.WriteJSON(w, ds) }
