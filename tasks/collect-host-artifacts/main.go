// Command collect-host-artifacts is the Lambda of the collect-host-artifacts
// action: through SSM Run Command it collects docker inspect/diff/logs, the
// process list and network connections of the task's containers and the ECS
// agent logs from the container instance, then polls until they are uploaded.
package main

import (
	"github.com/irflow/irflow/tasks/collect-host-artifacts/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

func main() { taskrt.Start("collect-host-artifacts", handler.New) }
