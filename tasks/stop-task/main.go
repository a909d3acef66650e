// Command stop-task is the Lambda of the stop-task action: it stops the task
// with the case id in the stop reason.
package main

import (
	"github.com/irflow/irflow/tasks/stop-task/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

func main() { taskrt.Start("stop-task", handler.New) }
