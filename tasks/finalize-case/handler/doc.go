// Package handler is the logic of the finalize-case action.
//
// finalize-case reads the case's audit chain, verifies it, and writes
// report.json, report.md and manifest.json under
// cases/<caseId>/finalize-case/ in the evidence bucket (package report
// builds them from the chain and the final state: outcome, steps, errors).
// It then releases the task's dedupe lock in the incidents table, but only
// a lock this execution holds. It runs in dry runs too: the report says
// DRY RUN. The runtime's result record, which lists the three objects with
// their SHA-256, is the case's final audit record.
package handler
