package diag

import (
	"encoding/json"
	"io"
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
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(jsonReport{Diagnostics: ds})
}
