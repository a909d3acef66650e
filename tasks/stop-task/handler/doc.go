// Package handler is the logic of the stop-task action.
//
// The stop reason names the case ("irflow case <caseId>: <reason>"), so
// whoever finds the stopped task in the console or in the service's events
// knows why and where to look. A task already stopping or stopped is not an
// error: a retry of the step, or a second execution, ends OK saying so. A
// task that a service owns is replaced by the service unless scale-service
// runs too; the summary says so.
//
// The action is asynchronous: StopTask only sets the task's desired status,
// and ECS moves it through DEACTIVATING, STOPPING and DEPROVISIONING to
// STOPPED afterwards ("Amazon ECS task lifecycle" —
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html).
// On EC2, ECS delivers the stop through the container agent on the
// instance: when the agent cannot reach ECS, StopTask succeeds and the task
// keeps running. So the start call stops the task, and the check calls of
// the generated poll loop read its lastStatus until it is STOPPED; at the
// step's timeout a task still running on an instance whose agent is not
// connected is a StopNotDeliveredError, anything else still running a
// StepTimeoutError.
//
// Once the task is STOPPED, the network ACL entries isolate-network added
// for its addresses (read back from the case's containment ledger) are
// removed: ECS gives a stopped task's private addresses to new tasks, which
// those entries would cut off.
package handler
