// Package handler is the logic of the collect-host-artifacts action.
//
// What an EC2 container instance knows about a container and no API keeps:
// its configuration as Docker ran it (docker inspect), the files it changed
// (docker diff), its recent output (docker logs --tail), its processes
// (docker top), its sockets (ss inside its network namespace) and the ECS
// agent's logs. The action is asynchronous: mode start sends a script with
// SSM Run Command (tasks/hostcmd); mode check reads the outcome.
//
// Containers are found by the runtime id resolve-target recorded, else by
// the ECS labels com.amazonaws.ecs.task-arn and container-name, and used only
// when their task-arn label is the target's. Each artifact is its own object
// (cases/<caseId>/<step>/<artifact>.<container>.<ext>), hashed on the host
// before upload. An artifact that cannot be produced (a stopped container
// has no processes) is listed in outputs.skipped with the reason; the rest
// are still collected. Only Docker is supported: the ECS agent on EC2 runs
// containers through it.
package handler
