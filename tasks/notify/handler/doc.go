// Package handler is the logic of the notify action.
//
// A notification is what a responder reads first, often on a phone: the
// message is a readable summary of the case (task, launch type, finding,
// what happened) followed by the same facts as a JSON block for tools. The
// compiler inserts notify on the failure paths with with.event set to
// step-failed, unsupported-launch-type or resolve-failed; the last gets the
// raw execution input and the error instead of an incident and target.
// SNS message attributes caseId, event, severity, launchType, playbook and
// dryRun let subscriptions filter.
//
// A dry run still notifies (it changes nothing in the customer's
// environment), with "[DRY RUN]" in front of the subject. A retry of the
// same step of the same execution finds its earlier result in the case's
// audit chain and does not send the message twice.
package handler
