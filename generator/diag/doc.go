// Package diag holds the diagnostics the generator reports about a playbook:
// a severity, a stable code, file:line:col, a JSON Pointer, a terse message
// and, where possible, a hint. Diagnostics sort by position and print as
// text (file:line:col: severity code: message (hint)) or as JSON.
package diag
