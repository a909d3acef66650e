// Package ledger is the containment ledger of a case: one item per case in
// the incidents table (partition key "pk" = "ledger#<caseId>") listing every
// change irflow's containment actions made to the customer's environment,
// each with the exact record that undoes it.
//
// Some of those changes cannot carry their own record: a network ACL entry
// has no tags, an Auto Scaling standby or a target-group deregistration
// leaves no mark on the instance. The ledger is where stop-task finds the
// network ACL entries isolate-network added for a task (ECS reuses a stopped
// task's addresses for other tasks, so they must go), and where release
// finds everything to undo.
//
// Entries are appended idempotently: an entry's id is deterministic (for
// example "nacl:<aclId>:<in|out>:<rule>"), and appending an id the ledger
// already holds adds nothing. Every write is a conditional put on the item's
// version, re-read and retried on conflict, so parallel branches of one
// execution never lose each other's entries. Actions record an entry before
// they make the change it describes: a run cut short between the two leaves
// a record of something that may not exist (undo finds nothing to remove),
// never a change nobody recorded.
//
// The table is the deployment's incidents table (IRFLOW_INCIDENTS_TABLE),
// whose only key is the string attribute "pk"; the items have no
// expiresAt, so the table's TTL never removes them.
package ledger
