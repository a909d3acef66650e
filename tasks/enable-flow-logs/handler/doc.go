// Package handler is the logic of the enable-flow-logs action.
//
// Flow logs record the task's connections from now on (they do not look
// back), delivered by the VPC Flow Logs service straight to
// s3://<evidence bucket>/cases/<case id>/flow-logs/. They go on the task's
// own ENI for awsvpc tasks (always on Fargate) and on the container
// instance's ENIs for bridge and host mode, which is what the target's
// ENIs are. Each flow log is tagged irflow:case-id; an ENI that already has
// one for the case (by that tag or by its destination) is skipped, so
// running the action again creates nothing. The evidence bucket's policy
// must let delivery.logs.amazonaws.com write under cases/ (infra's job).
package handler
