// Package benchdoc holds the documents the bench (internal/demo,
// bin/irflow-demo) writes and make bench's report (bench/cmd/report) reads,
// declared once: the storm's measurements (storm.json), the summary's path
// to containment and the head of its cases. Their keys are a contract
// (docs/design.md, "The test bench"). A leaf: it imports nothing of the
// module, so the report reads the bench's files without building the bench.
package benchdoc

import "time"

// CaseHead is what names a case of the summary and how it ended: the
// playbook, the world and its target's launch type and network mode, the
// execution's status and outcome.
type CaseHead struct {
	Playbook    string `json:"playbook"`
	World       string `json:"world"`
	LaunchType  string `json:"launchType"`
	NetworkMode string `json:"networkMode"`
	Status      string `json:"status"`
	Outcome     string `json:"outcome"`
}

// StormSummary is the summary's "storm": what the storm left in moto,
// read back from its final state, never from the handlers' outputs. Its
// keys are a contract (issue 17; docs/design.md, "The test bench").
type StormSummary struct {
	// Findings are the distinct findings the cases' audit chains record
	// (the case's own and every one that joined it).
	Findings int `json:"findings"`
	// Cases are the case claims (case#…) in the incidents table on the
	// storm's tasks.
	Cases int `json:"cases"`
	// CompromisedServices are the services of the cluster that ran a task
	// of the compromised digest.
	CompromisedServices int `json:"compromisedServices"`
	// ApprovalsRequested are the approvals table's items of those cases.
	ApprovalsRequested int `json:"approvalsRequested"`
	// CompromisedTasks are the tasks of the compromised digest running
	// when the storm began; CompromisedTasksContained those whose session
	// to the mining pool the flow model judges blocked after the response.
	CompromisedTasks          int `json:"compromisedTasks"`
	CompromisedTasksContained int `json:"compromisedTasksContained"`
	// InnocentTasksTouched are the clean service's tasks that ended other
	// than RUNNING, lost a flow they had, or sit on a host left out of
	// ACTIVE.
	InnocentTasksTouched int `json:"innocentTasksTouched"`
	// ReplacementsFromCompromisedImage are the tasks started during the
	// response (not the world's) from a revision of the compromised digest.
	ReplacementsFromCompromisedImage int `json:"replacementsFromCompromisedImage"`
}

// StormRun is what the bench measured of the storm (not in the summary's
// storm object, whose keys are fixed): the executions, their state
// transitions and Lambda invocations, and the wall time.
type StormRun struct {
	Summary     StormSummary   `json:"storm"`
	Executions  int            `json:"executions"`
	Outcomes    map[string]int `json:"outcomes"`
	Transitions int            `json:"transitions"`
	// CaseTransitions are the case execution's own.
	CaseTransitions int `json:"caseTransitions"`
	// Invocations are the Lambda invocations of every execution (each
	// attempt of a Task state that ran).
	Invocations  int           `json:"invocations"`
	Replacements int           `json:"replacementsStarted"` // tasks the bench's service scheduler started
	Wall         time.Duration `json:"wallNs"`
}

// StormFile is where a storm run's measurements go in the bench's output
// folder (make bench reads it).
const StormFile = "storm.json"

// ContainmentPath is how a case's execution got to containment: the step
// whose requests put the isolation in effect, and the round trips of every
// step before it (summary key containmentPath; docs/design.md).
type ContainmentPath struct {
	// Step is the isolate-network step that contained the task; "" when no
	// isolation took effect (Reason says why).
	Step string `json:"step,omitempty"`
	// RoundTrips is the count (summary roundTripsToContainment); Requests
	// the AWS requests it covers.
	RoundTrips int `json:"roundTrips"`
	Requests   int `json:"requests"`
	// AuditRoundTrips are the audit chain's share of RoundTrips, counted
	// the same way: its table's reads and writes and kms:GenerateMac, the
	// records' MACs (every step writes a start and a result record).
	AuditRoundTrips int `json:"auditRoundTrips"`
	// AfterDecision counts the same way from the end of the last approval
	// gate's requests before containment (the approver's answer) to
	// containment: what a responder waits for after approving; nil when
	// no gate came before containment.
	AfterDecision *int `json:"afterDecision,omitempty"`
	// AfterTriage counts the same way from the end of the last exec-triage
	// step's requests before containment: a playbook that looks inside the
	// container through ECS Exec before cutting it off (isolation would cut
	// the session's SSM channel) delays the containment on purpose, for as
	// long as that look takes; nil when no triage ran before containment.
	AfterTriage *int `json:"afterTriage,omitempty"`
	// AfterMemory counts the same way from the end of the last
	// capture-memory step's requests when it ran after the decision (or
	// with no gate) and before containment: docs/design.md requires memory
	// before anything isolates an EC2 host (a quarantine cuts SSM off), so
	// a playbook that captures it after its gate delays the containment
	// for as long as the capture takes; nil otherwise.
	AfterMemory *int `json:"afterMemory,omitempty"`
	// Gaps are steps on the path that failed on a moto gap (their requests
	// are moto's, retries included, not AWS's).
	Gaps []string `json:"gaps,omitempty"`
	// Steps are the steps that made requests up to containment, in the
	// order their first request arrived.
	Steps  []PathStep `json:"steps"`
	Reason string     `json:"reason,omitempty"`
	// LatencyMs is the strict layer's floor for each request during the
	// run (irflow-demo --latency; 0: moto's own speed, where requests a
	// handler sends together can count apart when the CPU is busy).
	LatencyMs int64 `json:"latencyMs"`
}

// PathStep is one step's share of the path to containment.
type PathStep struct {
	Step string `json:"step"`
	// Parallel is the Parallel state whose branch ran the step ("" at top
	// level): its branches count once, by the longest.
	Parallel   string `json:"parallel,omitempty"`
	Requests   int    `json:"requests"`
	RoundTrips int    `json:"roundTrips"`
	// AuditRoundTrips are the audit chain's (see ContainmentPath).
	AuditRoundTrips int `json:"auditRoundTrips"`
	// Operations are its requests in arrival order, service:Operation.
	Operations []string `json:"operations"`
}
