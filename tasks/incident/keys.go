package incident

// The incidents table (IRFLOW_INCIDENTS_TABLE) holds several kinds of item
// under one string partition key, TablePK, each with its own prefix
// (docs/internals.md, "Stores"):
//
//   - task#<taskArn>: the per-task dedupe lock resolve-target takes and
//     finalize-case releases (executionId, caseId, startedAt, expiresAt
//     for the table's TTL, dryRun);
//   - case#<caseId>: the case's claim, taken once by the one execution that
//     owns the case (executionId, startedAt, taskArn); never released once
//     the execution has run, so no second execution can share a case id,
//     its audit chain or its evidence keys.
//
// Other prefixes (ledger#<caseId>, correlation keys, join markers) belong to other
// parts of irflow; nothing here reads them.
const TablePK = "pk"

// Key prefixes of the incidents table.
const (
	TaskLockPrefix  = "task#"
	CaseClaimPrefix = "case#"
	// CorrelationPrefix keys a service's open case (triggers.correlate).
	CorrelationPrefix = "corr#"
	// JoinPrefix marks an execution whose finding joined an open case
	// (its finding-joined audit record appended), for a retry's sake.
	JoinPrefix = "join#"
)

// JoinKey is the partition key of an execution's join marker.
func JoinKey(executionID string) string { return JoinPrefix + executionID }

// CorrelationKey is the partition key of a service's correlation item.
func CorrelationKey(clusterArn, service string) string {
	return CorrelationPrefix + clusterArn + "/" + service
}

// TaskLockKey is the partition key of a task's dedupe lock.
func TaskLockKey(taskArn string) string { return TaskLockPrefix + taskArn }

// CaseClaimKey is the partition key of a case's claim.
func CaseClaimKey(caseID string) string { return CaseClaimPrefix + caseID }
