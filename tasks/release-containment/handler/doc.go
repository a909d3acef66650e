// Package handler is the logic of the release-containment action: the
// recovery phase of an incident (NIST SP 800-61), the undo of every change
// irflow's containment actions made for a case.
//
// The case's containment ledger (tasks/ledger) is the list: every
// containment action records each change, with what undoes it, before it
// makes it. The release undoes the entries still in place, newest first,
// and stamps each one it undid (or found already undone) as removed by the
// release step, so a second release finds nothing to do and says so.
//
// Each undo first checks that what it is about to put back is still the
// change irflow made. When the world has moved on (the ENI is gone, someone
// put other groups on it, the service's desired count was changed by hand)
// the entry is refused with the reason, left in the ledger as it is, and
// the rest is released: the result's outputs.releaseStatus is then
// PARTIALLY_RELEASED. Under dry-run every check runs and nothing changes.
//
// Which action's changes are undone, and how, is declared in the catalog
// next to the action (catalog.Action.Undo); a test ties the kinds this
// package undoes to those declarations.
//
// In mode resolve (ModeResolve) it is the release state machine's first
// state instead: it reads the execution input (incident.ReleaseInput),
// loads the case from its claim (ResolveCase) and verifies the start
// API's seal, so the gate knows whether its requester is verified.
package handler
