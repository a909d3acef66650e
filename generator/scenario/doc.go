// Package scenario runs playbook tests: *.test.yaml files (kind
// PlaybookTest) that name a playbook, and cases of an input, the decisions
// of its gates and the failures of its steps, each with what the run must
// show (status, outcome, steps that ran, did not run, and their order).
// Cases run in the simulator, in virtual time, with the simulated actions,
// so a suite of them costs milliseconds. irflow test is its command; it
// reads files, this package takes bytes and a way to read what they name.
package scenario
