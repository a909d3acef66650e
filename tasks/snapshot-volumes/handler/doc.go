// Package handler is the logic of the snapshot-volumes action.
//
// One CreateSnapshots call snapshots every EBS volume attached to the
// container instance at the same moment (crash-consistent across volumes),
// so the disks are preserved before containment or a scale-in can change
// them. A snapshot is point-in-time when it starts; the action returns then,
// with the snapshot ids, and does not wait for completion (hours for big
// volumes). The snapshots carry irflow:case-id, irflow:step and a Name, set
// atomically by the call's TagSpecifications.
//
// A second run of the step (a retry, a re-run of the case) finds the step's
// snapshots by those tags and takes none: taking a subset again would break
// the cross-volume consistency. Snapshots that ended in state error do not
// count, so a re-run replaces a failed set. A target without an instance
// (Fargate) has no volumes to snapshot: PreconditionFailedError.
package handler
