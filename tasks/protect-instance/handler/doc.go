// Package handler is the logic of the protect-instance action.
//
// A compromised container instance is evidence; an Auto Scaling scale-in,
// an instance refresh, a failed health check, an operator's "terminate the
// bad one" or a routine stop would destroy its memory and, with
// delete-on-termination volumes, its disks. The action, each part when its
// with: flag is true (the default) and not done already:
//
//   - turns on EC2 termination protection (DisableApiTermination) and stop
//     protection (DisableApiStop): they stop people and scripts, but
//     "termination protection does not prevent Amazon EC2 Auto Scaling from
//     terminating an instance" (Terminate Amazon EC2 instances —
//     https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/terminating-instances.html);
//   - puts the instance in Standby in its Auto Scaling group, keeping the
//     group's desired capacity (it launches a replacement): "Amazon EC2
//     Auto Scaling does not perform health checks on instances that are in
//     a standby state" and does not terminate them on scale-in (Temporarily
//     remove instances from your Auto Scaling group —
//     https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-enter-exit-standby.html).
//     Scale-in protection is not used: ECS managed termination protection
//     removes it from an instance once it runs no tasks, which a drained
//     instance soon does ("Amazon ECS managed termination protection" —
//     https://docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-termination-protection.html);
//   - deregisters the instance from every load balancer target group that
//     holds it (every port), so no client traffic reaches it;
//   - drains the ECS container instance: ECS stops every task on it (a
//     service's are replaced elsewhere) and places no new one. That ends the
//     target and its neighbours, so the catalog marks the action
//     destructive and the compiler demands an approval before it.
//
// Every setting is read before it is changed, every change is recorded in
// the case's containment ledger (with the previous value, the target
// group's port, the standby's group) before it is made, and outputs carry
// the commands that undo it. A flag set to false leaves that part alone:
// the action never removes protection.
package handler
