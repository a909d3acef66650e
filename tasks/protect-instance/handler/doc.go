// Package handler is the logic of the protect-instance action.
//
// A compromised container instance is evidence; an Auto Scaling scale-in,
// an operator's "terminate the bad one" or a routine stop would destroy its
// memory and, with delete-on-termination volumes, its disks. The action
// turns on, each when its with: flag is true (the default) and it is not on
// already: EC2 termination protection (DisableApiTermination), EC2 stop
// protection (DisableApiStop), Auto Scaling scale-in protection for the
// instance's group, and DRAINING for the ECS container instance, so the
// scheduler places no new task on the host.
//
// Every setting is read before it is changed (the drain excepted: this
// action's role may not describe container instances, and setting DRAINING
// twice is harmless), and outputs record the previous values and the
// commands that undo what changed. An instance outside any Auto Scaling
// group is fine: that part is skipped and outputs say so. A flag set to
// false leaves that setting alone: the action never removes protection.
//
// Draining has a side effect responders must know: ECS stops the RUNNING
// tasks of services on a draining instance and starts replacements
// elsewhere, so a target that belongs to a service is stopped too. The
// result warns when the target belongs to one; put memory and host
// evidence steps before this one, or set drain: false.
package handler
