// Package handler is the logic of the revoke-task-role-sessions action.
//
// It is the AWS-documented way to revoke a role's temporary credentials: an
// inline policy that denies everything to sessions whose aws:TokenIssueTime
// is before a cut-off. Credentials issued later (the ECS agent refreshes the
// task's credentials regularly) keep working, so the deny only cuts off what
// was already issued, including copies an attacker took off the task; a task
// that keeps running can fetch fresh ones, which is why playbooks also
// isolate or stop it.
//
// The cut-off is fixed once per case: the policy's statement id names the
// case, and a retry of the same case keeps the time it finds instead of
// moving it later (which would also cut off the sessions of replacement
// tasks started since). A policy of another case is replaced with the later
// of its time and now, so a revocation never gets weaker. A policy of that
// name that is not a session revocation is someone else's and is left alone.
package handler
