package diag

import (
	"bytes"
	"encoding/json"
	"io"

	"github.com/irflow/irflow/tasks/termsafe"
)

// WriteText writes one diagnostic per line: file:line:col: severity code: message (hint).
func WriteText(w io.Writer, ds Diagnostics) error {
	for _, d := range ds {
		if _, err := io.WriteString(w, d.String()+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// jsonReport is the --format json shape of docs/design.md ("Diagnostics"): {"diagnostics":[...]}.
type jsonReport struct {
	Diagnostics Diagnostics `json:"diagnostics"`
}

// WriteJSON writes {"diagnostics":[{"severity","code","file","line","column","path","message","hint"}]}.
func WriteJSON(w io.Writer, ds Diagnostics) error {
	if ds == nil {
		ds = Diagnostics{}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(jsonReport{Diagnostics: ds}); err != nil {
		return err
	}
	// encoding/json escapes C0 controls but not C1 or bidirectional ones.
	_, err := w.Write(termsafe.JSON(b.Bytes()))
	return err
}
