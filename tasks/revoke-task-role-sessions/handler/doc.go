// Package handler is the logic of the revoke-task-role-sessions action.
//
// Scope task (the default) denies everything to the compromised task's own
// role sessions: an inline policy on the task role whose statement denies
// when aws:userid is "<RoleId>:<taskId>". For a role session aws:userid is
// "role-id:caller-specified-role-session-name" (IAM User Guide, "AWS global
// condition context keys", aws:userid —
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-userid),
// and ECS names the task role's sessions after the task id (CloudTrail shows
// them as assumed-role/<role>/<taskId>; "Amazon ECS task IAM role" —
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html).
// So the deny holds for credentials the task already has, copies taken off
// it, and credentials it fetches later, while other tasks of the same role
// keep working. The RoleId comes from iam:GetRole. One policy per task
// (named after it): no read-modify-write race between cases.
//
// Scope role is the AWS-documented revocation of every older session: a
// deny for sessions whose aws:TokenIssueTime is before a cut-off. Sessions
// issued later (the agent refreshes the task's credentials regularly) keep
// working, other tasks of the role lose theirs. The cut-off is fixed once
// per case: the policy's statement id names the case, and a retry keeps the
// time it finds; another case's policy is replaced with the later of its
// time and now, so a revocation never gets weaker.
//
// A policy of that name that is not irflow's deny is someone else's and is
// left alone (PreconditionFailedError). A role under the /irflow/ path is
// the responder's own and is refused: the catalog scopes iam:PutRolePolicy
// to the task role path anyway. Every policy written is recorded in the
// case's containment ledger before it is put (role, policy name, statement
// id, condition, and the document it replaced), so release can undo it.
// IAM is eventually consistent: "changes ... may take time to become
// visible", so the deny takes effect within minutes, not at once (IAM User
// Guide, "Troubleshoot IAM", changes that I make are not always
// immediately visible —
// https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency).
package handler
