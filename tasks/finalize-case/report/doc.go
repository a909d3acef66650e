// Package report builds a case's report from its audit chain and the final
// state of its execution: the timeline, every approval with who decided it,
// when and why, every artifact with its URI, size and SHA-256, the errors,
// the outcome and whether the hash chain verifies. finalize-case writes it
// as report.json, report.md and manifest.json; `irflow audit` prints the
// same timeline and runs the same verification.
package report
