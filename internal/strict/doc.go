// Package strict is the AWS-strict layer: an http.Handler in front of moto
// server that enforces documented AWS behaviour moto lacks, serves the AWS
// APIs moto lacks, and answers every refusal in the service's own error
// shape, so irflow's tests stop believing things that fail on real AWS.
//
// moto is far more permissive than AWS: it lets an account change the
// security groups of a Fargate task's ENI, delivers StopTask to a task whose
// container agent is cut off from the network, lets two conditional puts of
// one key both succeed, and has no GuardDuty findings or ECS Exec at all.
// Every rule here names, beside its code, the AWS documentation page it
// comes from; every refusal is recorded and readable over the control API.
//
// # Rules
//
//   - requester-managed-eni: ENIs Amazon ECS manages (every awsvpc task's,
//     Fargate and EC2; trunk and branch ENIs) accept tags and nothing else:
//     ModifyNetworkInterfaceAttribute, Detach/Attach/DeleteNetworkInterface,
//     Assign/Unassign private and IPv6 addresses and AssociateAddress answer
//     AuthFailure. moto marks the ENIs it creates for tasks with the
//     description "moto ECS", so the rule needs no state; the layer also
//     learns them from RunTask, StartTask and DescribeTasks answers.
//     DescribeNetworkInterfaces shows them as AWS does: requesterManaged,
//     requesterId, the ECS attachment ARN as description, and an attachment
//     (to the Fargate fleet, or to the container instance for EC2).
//   - network-acl-rule-quota, network-acl-rule-number,
//     security-groups-per-eni: 20 rules per direction and IP family per
//     network ACL, the default deny rule included (so 19 of one's own),
//     rule numbers 1 to 32766, 5 security groups per ENI
//     (ModifyNetworkInterfaceAttribute, ModifyInstanceAttribute,
//     CreateNetworkInterface, RunInstances). moto already
//     enforces 60 rules per security group and refuses duplicate ACL rule
//     numbers.
//   - DynamoDB conditional writes are atomic: the layer forwards PutItem,
//     UpdateItem, DeleteItem, BatchWriteItem and TransactWriteItems one
//     table at a time.
//   - ecs-exec-*: ExecuteCommand is served (moto has none) for running tasks
//     started with enableExecuteCommand, interactively only, with the session
//     of a pluggable ExecBackend. DescribeTasks shows enableExecuteCommand
//     and the ExecuteCommandAgent.
//   - ecs-agent-unreachable: StopTask of a task on a container instance whose
//     agent cannot reach Amazon ECS is accepted and not carried out until it
//     can (AgentOracle; the default reads the flow model, package flowmodel,
//     over every EC2 change moto accepted through the layer).
//     DescribeContainerInstances shows agentConnected false meanwhile.
//   - guardduty-*: ListDetectors and GetFindings are served from a finding
//     store fed over the control API; moto has no GuardDuty findings.
//
// # Control API
//
// Under /irflow-strict/, never forwarded: POST world, POST findings,
// GET refusals, GET ec2-calls, POST reset (Client wraps them).
//
// # Not enforced
//
// Each is a documented AWS behaviour moto lacks that the layer does not
// emulate:
//   - DescribeNetworkInterfaces filters on the rewritten fields
//     (requester-managed, description, interface-type, attachment.* other
//     than attachment.instance-id alone) are evaluated by moto on its own
//     data.
//   - Task ENIs are not detached and deleted when their task stops (moto
//     keeps them in-use); ExecuteCommand and GuardDuty are per layer process
//     (state is lost on restart, except the requester-managed rule).
//   - Draining (UpdateContainerInstancesState) is not held back for an
//     unreachable agent, ListTasks with desiredStatus STOPPED does not list a
//     pending stop, and ExecuteCommand does not consult the agent oracle.
//   - Services started with enableExecuteCommand do not pass it to their
//     tasks: tasks learn it from RunTask/StartTask or World.ExecEnabledTasks.
//   - Fargate tasks are exempt from the agent rule. AWS does not document
//     the path of the Fargate platform's control channel: "Starting with
//     platform version 1.4.0, all Amazon ECS on Fargate tasks receive a
//     single elastic network interface (referred to as the task ENI) and all
//     network traffic flows through that ENI within your VPC" (Migrating to
//     Linux platform version 1.4.0 on Amazon ECS —
//     https://docs.aws.amazon.com/AmazonECS/latest/developerguide/platform-version-migration.html)
//     could be read either way.
//   - The flow oracle replays only what flowmodel models: once an EC2
//     mutation it does not model (RunInstances, CreateRoute, ...) was
//     accepted after the world was registered, it cannot tell, and StopTask
//     falls back to moto's behaviour, recorded as
//     ecs-agent-reachability-unknown.
//   - The serialization of DynamoDB writes and ACL entries holds in one
//     layer process; two layers in front of one moto do not share locks.
//   - Security-group rule quotas are moto's (60, counting IPv4 and IPv6
//     together where AWS counts them apart).
//
// IRFLOW_AWS_STRICT=0 turns the layer off (Start then returns moto's URL):
// for debugging only.
package strict
