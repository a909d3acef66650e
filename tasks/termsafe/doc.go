// Package termsafe keeps text that irflow did not write from acting on the
// terminal or the page that shows it: C0 and C1 control characters (ESC
// starts the sequences that move the cursor, clear the screen or retitle the
// window) and the Unicode bidirectional controls that reorder what a reader
// sees ("Trojan Source"). The compiler refuses them in a playbook's text;
// every display of text that came from a playbook, an execution input, an
// approver or a host escapes them with Line, Text or JSON.
package termsafe
