// Command capture-task-metadata is the Lambda of the capture-task-metadata
// action: it stores what ECS and EC2 say about the task as hashed evidence.
package main

import (
	"github.com/irflow/irflow/tasks/capture-task-metadata/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

func main() { taskrt.Start("capture-task-metadata", handler.New) }
