// Package handler is the logic of the stop-task action.
//
// The stop reason names the case ("irflow case <caseId>: <reason>"), so
// whoever finds the stopped task in the console or in the service's events
// knows why and where to look. A task already stopping or stopped is not an
// error: a retry of the step, or a second execution, ends OK saying so. A
// task that a service owns is replaced by the service unless scale-service
// runs too; the summary says so.
package handler
