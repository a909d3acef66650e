// Command scale-service is the Lambda of the scale-service action: it sets
// the desired count of the task's service (default 0) and records the old
// one so it can be restored.
package main

import (
	"github.com/irflow/irflow/tasks/scale-service/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

func main() { taskrt.Start("scale-service", handler.New) }
